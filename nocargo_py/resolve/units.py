"""The unit graph: one unit per compiled (or run) thing, exactly as cargo builds it.

A *unit* is a library, binary, proc-macro, build-script compile (``mode: build``),
build-script run (``mode: run-custom-build``), test harness (``mode: test``) or doctest of
one package, for one platform (``None`` = the host), with one profile and one feature set.
:func:`build_unit_graph` follows cargo's ``ops/cargo_compile`` and
``core/compiler/unit_dependencies.rs`` step by step:

1. root units from the packages to build (lib and bins for ``build``; tested targets,
   examples and the doctest for ``test``), skipping targets whose ``required-features``
   are not all enabled (``dep/feat`` entries included);
2. dependencies of every unit, recursively, with cargo's ``UnitFor`` bookkeeping (which
   units are for the host, which use the ``HOST`` feature set, where ``panic`` is forced to
   ``unwind``): normal dependencies of libs/bins, dev-dependencies for tests and examples,
   build-dependencies only for the build-script compile, each package's build-script run,
   the package's own lib for bins/tests, bins for integration tests, and the ``links``
   ordering between build-script runs;
3. cargo's second pass (``rebuild_unit_graph_shared``): without ``--target`` units for the
   host platform become host units and merge with identical build-time units, host-only
   units lose their debuginfo, and ``strip`` is resolved to ``debuginfo`` where nothing
   has debuginfo.

:meth:`UnitGraph.to_json` prints what ``cargo build --unit-graph`` prints (version 1),
same unit order and indices. The only difference possible is the relative order of units
that differ in nothing but their dependencies (cargo orders those by a pointer hash).
"""

from __future__ import annotations

import enum
import functools
import itertools
from dataclasses import dataclass, replace
from typing import Any, Sequence

from ..errors import NocargoError
from ..package import Target, TargetKind, Workspace
from ..profiles import DebugInfo, Profile, Profiles, Strip
from ..source import PackageId
from ..summary import DepKind, Dependency
from .features import FeatureResolution, FeaturesFor, PlatformMatcher, default_platform_matcher
from .graph import ResolvedGraph, ResolvedPackage, package_id_key

__all__ = [
    "CompileMode",
    "Intent",
    "Unit",
    "UnitDep",
    "UnitFor",
    "UnitGraph",
    "UnitGraphCache",
    "build_unit_graph",
    "untestable_message",
]


class CompileMode(enum.IntEnum):
    """Cargo's ``CompileMode`` (declaration order is cargo's sort order)."""

    TEST = 0
    BUILD = 1
    CHECK = 2
    DOC = 3
    DOCTEST = 4
    DOCSCRAPE = 5
    RUN_CUSTOM_BUILD = 6

    @property
    def json_name(self) -> str:
        return _MODE_NAMES[self]

    @property
    def is_any_test(self) -> bool:
        return self in (CompileMode.TEST, CompileMode.DOCTEST)


_MODE_NAMES = {
    CompileMode.TEST: "test", CompileMode.BUILD: "build", CompileMode.CHECK: "check",
    CompileMode.DOC: "doc", CompileMode.DOCTEST: "doctest", CompileMode.DOCSCRAPE: "docscrape",
    CompileMode.RUN_CUSTOM_BUILD: "run-custom-build",
}


class Intent(enum.Enum):
    """What the user asked for: ``cargo build`` or ``cargo test --no-run``."""

    BUILD = "build"
    TEST = "test"


@dataclass(frozen=True)
class UnitFor:
    """Cargo's ``UnitFor``: how a unit is reached (sticky host / host-features flags)."""

    host: bool
    host_features: bool
    always_unwind: bool
    root_kind: str | None  # the root unit's platform (None = host)

    def key(self) -> tuple:
        """The sort key (cargo's derived ``Ord``); computed once per object, as every
        dependency sort of the unit graph asks for it."""
        key = self.__dict__.get("_key")
        if key is None:
            key = (self.host, self.host_features, 0 if self.always_unwind else 1,
                   _kind_key(self.root_kind))
            object.__setattr__(self, "_key", key)
        return key

    @property
    def features_for(self) -> FeaturesFor:
        return FeaturesFor.HOST if self.host_features else FeaturesFor.NORMAL

    @classmethod
    def normal(cls, root: str | None) -> "UnitFor":
        return cls(False, False, False, root)

    @classmethod
    def host_unit(cls, host_features: bool, root: str | None) -> "UnitFor":
        return cls(True, host_features, True, root)

    @classmethod
    def compiler(cls, root: str | None) -> "UnitFor":
        return cls(False, False, True, root)

    @classmethod
    def test(cls, root: str | None) -> "UnitFor":
        return cls(False, False, True, root)

    @classmethod
    def host_test(cls, root: str | None) -> "UnitFor":
        return cls(True, True, True, root)

    def with_dependency(self, parent: "Unit", dep_target: Target, root: str | None) -> "UnitFor":
        dep_for_host = _for_host(dep_target)
        host_features = (self.host_features or _is_custom_build(parent.target)
                         or _is_proc_macro(dep_target))
        return UnitFor(self.host or dep_for_host, host_features,
                       True if dep_for_host else self.always_unwind, root)

    def for_custom_build(self) -> "UnitFor":
        return UnitFor(True, self.host_features, True, self.root_kind)


def _kind_key(kind: str | None) -> tuple:
    return (0,) if kind is None else (1, kind)


def _is_custom_build(target: Target) -> bool:
    return target.kind is TargetKind.BUILD_SCRIPT


def _is_proc_macro(target: Target) -> bool:
    """Cargo's ``Target::proc_macro``: a lib *or example* with crate type ``proc-macro``."""
    return (target.kind in (TargetKind.LIB, TargetKind.EXAMPLE)
            and "proc-macro" in target.crate_types)


def _for_host(target: Target) -> bool:
    return _is_custom_build(target) or _is_proc_macro(target)


_CRATE_TYPE_ORDER = {"bin": 0, "lib": 1, "rlib": 2, "dylib": 3, "cdylib": 4, "staticlib": 5,
                     "proc-macro": 6}
_LINKABLE = {"lib", "rlib", "dylib", "proc-macro"}


def _target_kind_rank(target: Target) -> int:
    kind = target.kind
    if kind is TargetKind.LIB:
        return 0
    if kind is TargetKind.BIN:
        return 1
    if kind is TargetKind.TEST:
        return 2
    if kind is TargetKind.BENCH:
        return 3
    if kind is TargetKind.EXAMPLE:
        return 4 if target.crate_types != ("bin",) else 5
    return 6


def _target_key(target: Target) -> tuple:
    rank = _target_kind_rank(target)
    types: tuple = ()
    if rank in (0, 4):
        types = tuple((_CRATE_TYPE_ORDER.get(t, 7), t) for t in target.crate_types)
    return (rank, types, target.name, str(target.src_path))


def _is_linkable(target: Target) -> bool:
    return target.kind is TargetKind.LIB and any(t in _LINKABLE for t in target.crate_types)


def _tested(target: Target) -> bool:
    return bool(target.test)


def target_json(target: Target) -> dict:
    """A target as cargo serializes it (``cargo metadata`` and ``--unit-graph``)."""
    kind = target.kind
    if kind is TargetKind.LIB:
        kinds = list(target.crate_types)
    elif kind is TargetKind.EXAMPLE:
        kinds = ["example"]
    else:
        kinds = [kind.value]
    crate_types = list(target.crate_types) if kind in (TargetKind.LIB, TargetKind.EXAMPLE) else ["bin"]
    out: dict[str, Any] = {
        "kind": kinds,
        "crate_types": crate_types,
        "name": target.name,
        "src_path": str(target.src_path),
        "edition": target.edition,
    }
    if target.required_features or getattr(target, "declares_required_features", False):
        out["required-features"] = list(target.required_features)
    out["doc"] = bool(target.doc)
    out["doctest"] = bool(target.doctest)
    out["test"] = bool(target.test)
    return out


# --------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Unit:
    """One unit. Units are interned (:class:`_Interner`): equal units are the same object,
    so identity is equality; ``serial`` is the interning order."""

    pkg: ResolvedPackage
    target: Target
    profile: Profile
    kind: str | None  # platform triple; None = host
    mode: CompileMode
    features: tuple[str, ...]
    dep_hash: tuple | None = None  # None before cargo's second pass
    serial: int = 0

    @functools.cached_property
    def sort_key(self) -> tuple:
        """Cargo's derived ``Ord`` on units (``dep_hash`` replaced by a stable stand-in)."""
        return (package_id_key(self.pkg.package_id), _target_key(self.target),
                self.profile.sort_key(), _kind_key(self.kind), int(self.mode), self.features,
                self.dep_hash or ())

    @property
    def package_id(self) -> PackageId:
        return self.pkg.package_id

    def describe(self) -> str:
        plat = self.kind or "host"
        return f"{self.pkg.name} v{self.pkg.version} {self.target.name} ({self.mode.json_name}, {plat})"


@dataclass(frozen=True, eq=False)
class UnitDep:
    """A dependency edge of a unit (cargo's ``UnitDep``)."""

    unit: Unit
    unit_for: UnitFor
    extern_crate_name: str
    dep_name: str | None
    public: bool = False
    noprelude: bool = False

    def key(self) -> tuple:
        return (self.unit.sort_key, self.unit_for.key(), self.extern_crate_name,
                (0,) if self.dep_name is None else (1, self.dep_name), self.public,
                self.noprelude)

    def ident(self) -> tuple:
        return (id(self.unit), self.unit_for, self.extern_crate_name, self.dep_name,
                self.public, self.noprelude)


class _Interner:
    def __init__(self) -> None:
        self.units: dict[tuple, Unit] = {}
        self.counter = itertools.count(1)
        # targets and profiles (by value) as small numbers, memoised per object: an
        # ident is hashed on every look-up, and theirs are dataclass hashes over every field
        self._tokens: dict[object, int] = {}
        self._by_object: dict[int, tuple[object, int]] = {}

    def _token(self, obj: object, value: object) -> int:
        hit = self._by_object.get(id(obj))
        if hit is None or hit[0] is not obj:
            token = self._tokens.setdefault(value, len(self._tokens))
            hit = self._by_object[id(obj)] = (obj, token)
        return hit[1]

    def ident(self, pkg: ResolvedPackage, target: Target, profile: Profile, kind: str | None,
              mode: CompileMode, features: tuple[str, ...], dep_hash: tuple | None) -> tuple:
        """What cargo compares for unit identity (profiles compare without name/markers)."""
        return (pkg.package_id, self._token(target, target),
                self._token(profile, ("profile", profile.comparable())), kind, mode, features,
                dep_hash)

    def intern(self, pkg: ResolvedPackage, target: Target, profile: Profile, kind: str | None,
               mode: CompileMode, features: tuple[str, ...], dep_hash: tuple | None = None) -> Unit:
        key = self.ident(pkg, target, profile, kind, mode, features, dep_hash)
        found = self.units.get(key)
        if found is not None:
            return found
        unit = Unit(pkg, target, profile, kind, mode, features, dep_hash, next(self.counter))
        self.units[key] = unit
        return unit


@dataclass(frozen=True)
class UnitGraph:
    """The finished unit graph: ``units`` in cargo's order, edges as indices, ``roots``."""

    units: tuple[Unit, ...]
    dependencies: tuple[tuple[tuple[int, str, bool, bool], ...], ...]
    roots: tuple[int, ...]

    def to_json(self) -> dict:
        """The JSON of ``cargo build --unit-graph`` (version 1, nightly fields included)."""
        units = []
        for unit, deps in zip(self.units, self.dependencies):
            units.append({
                "pkg_id": unit.pkg.package_id.to_spec(),
                "target": target_json(unit.target),
                "profile": unit.profile.to_json(),
                "platform": unit.kind,
                "mode": unit.mode.json_name,
                "features": list(unit.features),
                "dependencies": [
                    {"index": i, "extern_crate_name": name, "public": public,
                     "noprelude": noprelude}
                    for i, name, public, noprelude in deps
                ],
            })
        return {"version": 1, "units": units, "roots": list(self.roots)}


# --------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------


class UnitGraphCache:
    """What every unit graph of one feature resolution (and platform matcher) computes
    alike, whatever the profile: the dependencies a unit keeps, the declarations behind
    each resolve edge, extern crate names. Pass one to :func:`build_unit_graph` for the
    dev and the release graph of a resolution."""

    def __init__(self, res: FeatureResolution, matcher: PlatformMatcher | None) -> None:
        self.res = res
        self.matcher = matcher
        self.deps: dict[tuple, list[tuple[PackageId, list[Dependency]]]] = {}
        self.listed: dict[PackageId, dict[PackageId, tuple[Dependency, ...]]] = {}
        self.extern: dict[tuple[PackageId, PackageId, int], tuple[str, str | None]] = {}
        self.public: dict[tuple[PackageId, PackageId], bool] = {}


class _State:
    def __init__(self, graph: ResolvedGraph, res: FeatureResolution, profiles: Profiles,
                 member_ids: set[PackageId], intent: Intent,
                 matcher: PlatformMatcher | None, cache: UnitGraphCache | None) -> None:
        self.graph = graph
        self.res = res
        self.profiles = profiles
        self.members = member_ids
        self.intent = intent
        self.matcher = matcher
        self.interner = _Interner()
        self.unit_deps: dict[Unit, list[UnitDep]] = {}
        self.dev_edges: set[tuple[int, int]] = set()
        self._all_features_cache: dict[tuple[PackageId, bool, tuple], set[str]] = {}
        if cache is None or cache.res is not res or cache.matcher is not matcher:
            cache = UnitGraphCache(res, matcher)
        self.cache = cache

    # -- helpers -------------------------------------------------------------------------
    def platform_activated(self, dep: Dependency, kind: str | None) -> bool:
        if dep.target is None:
            return True
        if self.matcher is None:
            self.matcher = default_platform_matcher(self.res.host)
        return self.matcher(dep.target, kind)

    def features(self, pid: PackageId, fk: FeaturesFor) -> tuple[str, ...]:
        found = self.res.activated_features(pid, fk)
        if found is None:
            # reachable from user input (seen: `-p` of a path package outside the workspace
            # that is only a build dependency); cargo panics at the same point
            # ("did not find features for … within activated_features")
            built_as = "for the host" if fk is FeaturesFor.HOST else "for the target"
            raise NocargoError(
                f"cannot plan `{pid.name} v{pid.version}` {built_as}: the feature resolution "
                "has no features for it there (cargo stops at the same point: \"did not find "
                "features … within activated_features\")",
                notes=["help: select it through a workspace member that depends on it, or "
                       "make it a workspace member"])
        return found

    def get_profile(self, pkg: ResolvedPackage, unit_for: UnitFor, kind: str | None) -> Profile:
        pid = pkg.package_id
        return self.profiles.get_profile(
            pid, is_member=pid in self.members, is_local=pid.source.is_path(),
            for_host=unit_for.host, always_unwind=unit_for.always_unwind, kind_triple=kind,
        )

    def listed_deps(self, parent_id: PackageId, pkg_id: PackageId) -> tuple[Dependency, ...]:
        """The declared dependencies of ``parent_id`` that the resolve edge to ``pkg_id``
        came from (the first edge, as a scan of ``res.deps`` finds it), by lookup."""
        table = self.cache.listed.get(parent_id)
        if table is None:
            table = self.cache.listed[parent_id] = {}
            for dep_id, deps in self.res.deps(parent_id):
                table.setdefault(dep_id, deps)
        return table.get(pkg_id, ())

    def extern_crate_name(self, parent: ResolvedPackage, pkg: ResolvedPackage,
                          target: Target) -> tuple[str, str | None]:
        key = (parent.package_id, pkg.package_id, id(target))
        found = self.cache.extern.get(key)
        if found is None:
            found = self.cache.extern[key] = self._extern_crate_name(parent, pkg, target)
        return found

    def _extern_crate_name(self, parent: ResolvedPackage, pkg: ResolvedPackage,
                           target: Target) -> tuple[str, str | None]:
        if parent.package_id == pkg.package_id:
            return target.crate_name, None
        listed = self.listed_deps(parent.package_id, pkg.package_id)
        pairs = [((d.rename.replace("-", "_"), d.rename) if d.rename is not None
                  else (target.crate_name, None)) for d in listed]
        if not pairs:
            return target.crate_name, None
        name, dep_name = pairs[0]
        for other, _ in pairs[1:]:
            if other != name:
                raise NocargoError(
                    f"the crate `{_describe(parent)}` depends on crate `{_describe(pkg)}` "
                    "multiple times with different names"
                )
        return name, dep_name

    def is_public(self, parent: ResolvedPackage, pkg: ResolvedPackage) -> bool:
        key = (parent.package_id, pkg.package_id)
        found = self.cache.public.get(key)
        if found is None:
            deps = self.listed_deps(*key)
            found = self.cache.public[key] = any(d.kind is DepKind.NORMAL and d.public is True
                                                 for d in deps)
        return found

    # -- units ---------------------------------------------------------------------------
    def new_unit_dep(self, parent: Unit, pkg: ResolvedPackage, target: Target, unit_for: UnitFor,
                     kind: str | None, mode: CompileMode) -> UnitDep:
        profile = self.get_profile(pkg, unit_for, kind)
        return self.new_unit_dep_with_profile(parent, pkg, target, unit_for, kind, mode, profile)

    def new_unit_dep_with_profile(self, parent: Unit, pkg: ResolvedPackage, target: Target,
                                  unit_for: UnitFor, kind: str | None, mode: CompileMode,
                                  profile: Profile) -> UnitDep:
        extern, dep_name = self.extern_crate_name(parent.pkg, pkg, target)
        public = self.is_public(parent.pkg, pkg)
        features = self.features(pkg.package_id, unit_for.features_for)
        unit = self.interner.intern(pkg, target, profile, kind, mode, features)
        return UnitDep(unit, unit_for, extern, dep_name, public, False)

    def deps(self, unit: Unit, unit_for: UnitFor) -> list[tuple[PackageId, list[Dependency]]]:
        pid = unit.package_id
        is_build_script = _is_custom_build(unit.target)
        with_dev = (unit.target.kind in (TargetKind.TEST, TargetKind.EXAMPLE)
                    or unit.mode.is_any_test)
        key = (pid, is_build_script, with_dev, unit.kind, unit_for.features_for)
        out = self.cache.deps.get(key)
        if out is not None:
            return out
        out = self.cache.deps[key] = []
        for dep_id, deps in self.res.deps(pid):
            kept = []
            for dep in deps:
                if is_build_script != (dep.kind is DepKind.BUILD):
                    continue
                if dep.kind is DepKind.DEV and not with_dev:
                    continue
                if not self.platform_activated(dep, unit.kind):
                    continue
                if dep.optional and not self.res.is_dep_activated(pid, unit_for.features_for,
                                                                   dep.name_in_toml):
                    continue
                kept.append(dep)
            if kept:
                out.append((dep_id, kept))
        return out

    def compute_deps(self, unit: Unit, unit_for: UnitFor) -> list[UnitDep]:
        if unit.mode is CompileMode.RUN_CUSTOM_BUILD:
            return self.compute_deps_custom_build(unit, unit_for)
        ret: list[UnitDep] = []
        for dep_id, deps in self.deps(unit, unit_for):
            if any(d.artifact for d in deps):
                raise NocargoError(
                    f"artifact dependencies are not supported (dependency "
                    f"`{deps[0].name_in_toml}` of `{_describe(unit.pkg)}`)")
            dep_pkg = self.graph.packages[dep_id]
            dep_lib = dep_pkg.lib_target
            if dep_lib is None:
                continue
            dep_unit_for = unit_for.with_dependency(unit, dep_lib, unit_for.root_kind)
            kind = None if (unit.kind is None or _for_host(dep_lib)) else unit.kind
            start = len(ret)
            ret.append(self.new_unit_dep(unit, dep_pkg, dep_lib, dep_unit_for, kind,
                                         CompileMode.BUILD))
            if all(d.kind is DepKind.DEV for d in deps):
                for ud in ret[start:]:
                    self.dev_edges.add((id(unit), id(ud.unit)))
        if _is_custom_build(unit.target):
            return ret
        ret.extend(self.dep_build_script(unit, unit_for))
        if unit.target.is_lib and unit.mode is not CompileMode.DOCTEST:
            return ret
        lib = next((t for t in unit.pkg.targets if _is_linkable(t)), None)
        if lib is not None:
            dep_unit_for = unit_for.with_dependency(unit, lib, unit_for.root_kind)
            kind = None if (unit.kind is None or _for_host(lib)) else unit.kind
            ret.append(self.new_unit_dep(unit, unit.pkg, lib, dep_unit_for, kind, CompileMode.BUILD))
        if unit.mode.is_any_test and unit.target.kind in (TargetKind.TEST, TargetKind.BENCH):
            for t in unit.pkg.targets:
                if t.kind is not TargetKind.BIN:
                    continue
                if t.required_features:
                    have = self.resolve_all_features(unit.package_id, False, (unit.kind,))
                    if not all(f in have for f in t.required_features):
                        continue
                kind = None if unit.kind is None else unit.kind
                ret.append(self.new_unit_dep(unit, unit.pkg, t, UnitFor.normal(unit_for.root_kind),
                                             kind, CompileMode.BUILD))
        return ret

    def compute_deps_custom_build(self, unit: Unit, unit_for: UnitFor) -> list[UnitDep]:
        script_unit_for = unit_for.for_custom_build()
        return [self.new_unit_dep(unit, unit.pkg, unit.target, script_unit_for, None,
                                  CompileMode.BUILD)]

    def dep_build_script(self, unit: Unit, unit_for: UnitFor) -> list[UnitDep]:
        out = []
        for t in unit.pkg.build_scripts:
            profile = self.profiles.run_custom_build_profile(unit.profile)
            out.append(self.new_unit_dep_with_profile(
                unit, unit.pkg, t, unit_for.for_custom_build(), unit.kind,
                CompileMode.RUN_CUSTOM_BUILD, profile))
        return out

    def deps_of(self, unit: Unit, unit_for: UnitFor) -> None:
        stack = [(unit, unit_for)]
        # cargo recurses depth-first after computing all direct deps of a unit; an explicit
        # stack with reversed pushes visits units in the same order
        while stack:
            current, current_for = stack.pop()
            if current in self.unit_deps:
                continue
            deps = self.compute_deps(current, current_for)
            self.unit_deps[current] = deps
            for ud in reversed(deps):
                stack.append((ud.unit, ud.unit_for))

    def resolve_all_features(self, pid: PackageId, has_dev_units: bool,
                             kinds: Sequence[str | None]) -> set[str]:
        """Cargo's ``resolve_all_features`` (what ``required-features`` is checked against)."""
        key = (pid, has_dev_units, tuple(kinds))
        cached = self._all_features_cache.get(key)
        if cached is not None:
            return cached
        feats = set(self.res.activated_features(pid, FeaturesFor.NORMAL) or ())
        all_kinds = list(kinds) + [None]
        for dep_id, deps in self.res.deps(pid):
            passes = any(
                (d.kind is not DepKind.DEV or has_dev_units)
                and any(self.platform_activated(d, k) for k in all_kinds)
                for d in deps)
            if not passes:
                continue
            dep_pkg = self.graph.packages[dep_id]
            for d in deps:
                fk = (FeaturesFor.HOST if dep_pkg.has_any_proc_macro or d.kind is DepKind.BUILD
                      else FeaturesFor.NORMAL)
                for f in self.res.activated_features(dep_id, fk) or ():
                    feats.add(f"{d.name_in_toml}/{f}")
        self._all_features_cache[key] = feats
        return feats

    # -- cargo's connect_run_custom_build_deps ---------------------------------------------
    def connect_run_custom_build_deps(self) -> None:
        reverse: dict[int, list[Unit]] = {}
        for unit, deps in self.unit_deps.items():
            for d in deps:
                if d.unit.mode is CompileMode.RUN_CUSTOM_BUILD:
                    lst = reverse.setdefault(id(d.unit), [])
                    if unit not in lst:
                        lst.append(unit)
        additions: list[tuple[Unit, list[UnitDep]]] = []
        for unit in self.unit_deps:
            if unit.mode is not CompileMode.RUN_CUSTOM_BUILD:
                continue
            parents = reverse.get(id(unit))
            if not parents:
                continue
            seen: set[tuple] = set()
            to_add: list[UnitDep] = []
            for parent in parents:
                for other in self.unit_deps[parent]:
                    if other.unit.package_id == unit.package_id:
                        continue
                    if not (_is_linkable(other.unit.target) and other.unit.pkg.links is not None):
                        continue
                    if (id(parent), id(other.unit)) in self.dev_edges:
                        continue
                    run = next((x for x in self.unit_deps[other.unit]
                                if x.unit.mode is CompileMode.RUN_CUSTOM_BUILD), None)
                    if run is None:
                        continue
                    dep_name = other.dep_name or other.unit.pkg.name
                    new = UnitDep(run.unit, run.unit_for, run.extern_crate_name, dep_name,
                                  run.public, run.noprelude)
                    if new.ident() not in seen:
                        seen.add(new.ident())
                        to_add.append(new)
            if to_add:
                additions.append((unit, to_add))
        for unit, new in additions:
            self.unit_deps[unit].extend(new)


def _describe(pkg: ResolvedPackage) -> str:
    if pkg.package is not None:
        return f"{pkg.name} v{pkg.version} ({pkg.package.root})"
    return f"{pkg.name} v{pkg.version}"


def _new_units(state: _State, pkg: ResolvedPackage, target: Target, initial: CompileMode,
               explicit_kinds: list[str]) -> list[Unit]:
    mode = initial
    if initial is CompileMode.TEST and target.kind is TargetKind.EXAMPLE and not _tested(target):
        mode = CompileMode.BUILD
    fk = FeaturesFor.HOST if _is_proc_macro(target) else FeaturesFor.NORMAL
    features = state.features(pkg.package_id, fk)
    out = []
    for kind in explicit_kinds:
        if initial.is_any_test:
            unit_for = UnitFor.test(kind)
        elif _for_host(target):
            unit_for = UnitFor.compiler(kind)
        else:
            unit_for = UnitFor.normal(kind)
        profile = state.get_profile(pkg, unit_for, kind)
        final_kind = None if _for_host(target) else kind
        out.append(state.interner.intern(pkg, target, profile, final_kind, mode, features))
    return out


def build_unit_graph(
    graph: ResolvedGraph,
    ws: Workspace,
    resolution: FeatureResolution,
    profiles: Profiles,
    *,
    intent: Intent = Intent.BUILD,
    explicit_targets: bool | None = None,
    platform_matches: PlatformMatcher | None = None,
    tests_only: bool = False,
    cache: UnitGraphCache | None = None,
    untestable: list[PackageId] | None = None,
) -> UnitGraph:
    """Build cargo's unit graph for ``resolution`` (see the module docstring).

    ``tests_only`` (with ``Intent.TEST``): the roots of ``cargo test --tests`` — every
    target with ``test = true`` in test mode, no doctests and no examples in build mode.

    ``explicit_targets``: whether ``--target`` was given (default: whether the resolution
    names targets other than the host). Without it, cargo builds for ``--target <host>``
    and then folds host-platform units into host units.

    ``cache``: a :class:`UnitGraphCache` shared with other graphs of the same resolution
    and ``platform_matches`` (used only if it is for them).

    ``untestable``: with ``Intent.TEST``, a selected package cargo refuses to test (not a
    member, with dev-dependencies) is an error; given a list, it is left out of the roots
    and appended there instead.
    """
    explicit = (resolution.requested_triples != (resolution.host,)
                if explicit_targets is None else explicit_targets)
    state = _State(graph, resolution, profiles, set(graph.members), intent, platform_matches,
                   cache)
    state.tests_only = tests_only
    state.skipped = set()
    if intent is Intent.TEST:
        for pid in resolution.to_build:
            deps = graph.packages[pid].summary.dependencies
            if pid not in state.members and any(d.kind is DepKind.DEV for d in deps):
                if untestable is not None:
                    untestable.append(pid)
                    state.skipped.add(pid)
                    continue
                raise NocargoError(untestable_message(pid))
    explicit_kinds = list(resolution.requested_triples)
    roots = _root_units(state, ws, explicit_kinds, explicit)
    for root in roots:
        kind = root.kind
        if root.mode.is_any_test or intent is Intent.TEST:
            unit_for = UnitFor.host_test(kind) if _is_proc_macro(root.target) else UnitFor.test(kind)
        elif _is_custom_build(root.target):
            unit_for = UnitFor.host_unit(False, kind)
        elif _is_proc_macro(root.target):
            unit_for = UnitFor.host_unit(True, kind)
        else:
            unit_for = UnitFor.normal(kind)
        state.deps_of(root, unit_for)
    state.connect_run_custom_build_deps()
    for deps in state.unit_deps.values():
        deps.sort(key=UnitDep.key)
    to_host = None if explicit else resolution.host
    return _rebuild_shared(state, roots, to_host)


def untestable_message(pid: PackageId) -> str:
    """Cargo's refusal to test a package outside the workspace with dev-dependencies."""
    return (f"package `{pid.name}` cannot be tested because it requires dev-dependencies "
            "and is not a member of the workspace")


def _root_units(state: _State, ws: Workspace, explicit_kinds: list[str], explicit: bool) -> list[Unit]:
    res = state.res
    proposals: list[tuple[ResolvedPackage, Target, CompileMode]] = []
    for pid in res.to_build:
        if pid in state.skipped:
            continue
        pkg = state.graph.packages[pid]
        for t in pkg.targets:
            if state.intent is Intent.BUILD:
                if t.kind in (TargetKind.BIN, TargetKind.LIB):
                    proposals.append((pkg, t, CompileMode.BUILD))
            elif _tested(t) or (t.kind is TargetKind.EXAMPLE and not state.tests_only):
                proposals.append((pkg, t, CompileMode.TEST))
        if state.intent is Intent.TEST and not state.tests_only:
            lib = pkg.lib_target
            if lib is not None and lib.doctest:
                proposals.append((pkg, lib, CompileMode.DOCTEST))
    requested: tuple[str | None, ...] = tuple(res.requested_triples) if explicit else (None,)
    units: list[Unit] = []
    seen: set[int] = set()
    for pkg, target, mode in proposals:
        if target.required_features and not target.is_lib:
            have = state.resolve_all_features(pkg.package_id, res.has_dev_units, requested)
            if not all(f in have for f in target.required_features):
                continue
        for unit in _new_units(state, pkg, target, mode, explicit_kinds):
            if id(unit) not in seen:
                seen.add(id(unit))
                units.append(unit)
    units.sort(key=lambda u: u.sort_key)
    return units


def _rebuild_shared(state: _State, roots: list[Unit], to_host: str | None) -> UnitGraph:
    """Cargo's ``rebuild_unit_graph_shared`` / ``traverse_and_share``."""
    old_graph = state.unit_deps
    interner = state.interner
    # every unit of the old graph was interned under its ident (the interner's keys)
    old_idents = {ident for ident, u in interner.units.items() if u in old_graph}
    memo: dict[int, Unit] = {}
    new_graph: dict[Unit, list[UnitDep]] = {}
    derived: dict[tuple[int, str], tuple[Profile, Profile]] = {}

    def derive(profile: Profile, change: str) -> Profile:
        """``profile`` with strip resolved to ``debuginfo`` / debuginfo finalized / off
        (``change``), memoised per profile object."""
        hit = derived.get((id(profile), change))
        if hit is None or hit[0] is not profile:
            if change == "strip":
                new = replace(profile, strip=Strip("debuginfo", False))
            elif change == "debuginfo":
                new = replace(profile, debuginfo=profile.debuginfo.finalize())
            else:
                new = replace(profile, debuginfo=DebugInfo("0"))
            hit = derived[(id(profile), change)] = (profile, new)
        return hit[1]

    def traverse(unit: Unit, for_host: bool) -> Unit:
        hit = memo.get(id(unit))
        if hit is not None:
            return hit
        new_deps = []
        for dep in old_graph[unit]:
            new_dep_unit = traverse(dep.unit, dep.unit_for.host)
            new_deps.append(UnitDep(new_dep_unit, dep.unit_for, dep.extern_crate_name,
                                    dep.dep_name, dep.public, dep.noprelude))
        dep_hash = tuple(d.unit.serial for d in new_deps)
        kind = None if (to_host is not None and unit.kind == to_host) else unit.kind
        profile = unit.profile
        if profile.strip.deferred:
            if (not profile.debuginfo.is_turned_on
                    and all(not d.unit.profile.debuginfo.is_turned_on for d in new_deps)):
                profile = derive(profile, "strip")
        if for_host and to_host is not None and profile.debuginfo.deferred:
            canonical = derive(profile, "debuginfo")
            probe = interner.ident(unit.pkg, unit.target, canonical, to_host, unit.mode,
                                   unit.features, unit.dep_hash)
            profile = canonical if probe in old_idents else derive(profile, "debuginfo-off")
        new_unit = interner.intern(unit.pkg, unit.target, profile, kind, unit.mode,
                                   unit.features, dep_hash)
        memo[id(unit)] = new_unit
        new_graph.setdefault(new_unit, new_deps)
        return new_unit

    import sys
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20000))
    try:
        new_roots = [traverse(root, False) for root in roots]
    finally:
        sys.setrecursionlimit(old_limit)

    ordered = sorted(new_graph, key=lambda u: u.sort_key)
    index = {id(u): i for i, u in enumerate(ordered)}
    deps = tuple(
        tuple((index[id(d.unit)], d.extern_crate_name, d.public, d.noprelude)
              for d in new_graph[u])
        for u in ordered
    )
    return UnitGraph(tuple(ordered), deps, tuple(index[id(r)] for r in new_roots))
