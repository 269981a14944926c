"""Cargo's feature resolver (``src/resolver/features.rs``) on a :class:`ResolvedGraph`.

:func:`resolve_features` takes the resolved package graph, the workspace and a
:class:`FeatureRequest` (package selection ``-p``/``--workspace``/``--exclude``,
``--features``, ``--all-features``, ``--no-default-features``, ``--target`` triples, the
host triple, whether test/example/bench units are built) and returns a
:class:`FeatureResolution`: the features of every ``(package, FeaturesFor)`` and the
optional dependencies each activates. It follows cargo step by step:

1. **selection** — package id specs from the flags (default members, ``--workspace``,
   ``--exclude``, ``-p`` with names, versions, URLs and glob patterns);
2. **command-line features per member** — cargo's "new" behaviour (resolver ≥ 2 or a
   virtual workspace: features go to every selected member that has them, ``member/feat``
   to that member, unknown features are an error) or the "old" one (resolver 1 with a root
   package: features go to the package of the current directory only);
3. **the targeted resolve** — cargo first re-runs its *dependency* resolver with the
   request, which decides which optional dependencies are in the graph at all (weak
   ``dep?/feat`` values count as activating there, dev-dependencies only for the selected
   members, no platform filtering); its errors (unknown features, feature self-cycles,
   unknown dependencies in ``dep/feat``) are reported here as cargo reports them;
4. **the feature resolver** over that graph with cargo's options: resolver "1" unifies
   everything (one set per package, inactive-platform and dev-dependency features leak);
   "2"/"3" keep build-dependencies, proc-macros and all their dependencies in a separate
   ``HOST`` set, ignore dependencies whose platform matches no requested target (host for
   the ``HOST`` set and build-dependencies), and ignore dev-dependencies unless dev units
   are built. ``dep:x``, ``x/f`` (activates ``x`` and the feature named ``x`` if it
   exists), weak ``x?/f`` (deferred until ``x`` is activated) and ``default`` per edge are
   handled as in cargo.

Every activation records its cause, so :mod:`nocargo_py.resolve.explain` can print why a
package is in the graph and why a feature is on.
"""

from __future__ import annotations

import enum
import fnmatch
import sys
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

from ..errors import NocargoError
from ..package import Workspace
from ..source import PackageId
from ..summary import DepFeatureRef, DepKind, DepRef, Dependency, FeatureRef, FeatureValue, parse_feature_value
from .graph import ResolvedGraph, package_id_key
from .pkgspec import PackageIdSpec, PartialVersion, source_url

__all__ = [
    "Cause",
    "CliFeatures",
    "FeatureRequest",
    "FeatureResolution",
    "FeaturesFor",
    "PackageSelection",
    "PlatformMatcher",
    "default_platform_matcher",
    "platform_matcher",
    "resolve_features",
    "select_packages",
]

#: ``(platform key as written — "cfg(unix)" or a triple, compile kind) -> active?``; the
#: kind is ``None`` for the host kind (build scripts, proc-macros and, without
#: ``--target``, everything) or a ``--target`` triple. The two differ even when the
#: triples are equal: cargo computes each kind's cfg set with that kind's rustflags.
PlatformMatcher = Callable[[str, "str | None"], bool]


class FeaturesFor(enum.IntEnum):
    """Which feature set: ``NORMAL`` (normal and dev dependencies) or ``HOST`` (build
    dependencies, proc-macros and everything they depend on; resolver ≥ 2 only)."""

    NORMAL = 0
    HOST = 1


def platform_matcher(infos: Mapping[str | None, object], host: str) -> PlatformMatcher:
    """Evaluate ``[target.KEY]`` keys per compile kind against that kind's cfg set
    (a :class:`~nocargo_py.cfg.TargetInfo`, its rustflags included): ``infos`` maps
    ``None`` (the host kind) and each ``--target`` triple to it; a kind not in it gets
    rustc's snapshot for its triple (:mod:`nocargo_py.cfg`), without rustflags. With only
    the host kind given, the host triple names it too: without ``--target`` cargo builds
    everything as the host kind, with the rustflags."""
    from .. import cfg  # imported lazily: the cfg package is optional for path-only tests

    by_kind: dict[str | None, object] = dict(infos)
    if set(by_kind) == {None}:
        by_kind[host] = by_kind[None]
    cache: dict[tuple[str, str | None], bool] = {}

    def matches(key: str, kind: str | None) -> bool:
        hit = cache.get((key, kind))
        if hit is None:
            info = by_kind.get(kind)
            if info is None:
                info = by_kind[kind] = cfg.target_info(host if kind is None else kind)
            hit = cache[(key, kind)] = bool(cfg.Platform.parse(key).matches(info))
        return hit

    return matches


def default_platform_matcher(host: str) -> PlatformMatcher:
    """:func:`platform_matcher` with rustc's cfg snapshot for every kind (no rustflags;
    the host kind is ``host``)."""
    return platform_matcher({}, host)


# --------------------------------------------------------------------------------------
# request
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliFeatures:
    """Features requested for one member (cargo's ``CliFeatures``)."""

    features: tuple[FeatureValue, ...] = ()
    all_features: bool = False
    uses_default_features: bool = True

    @classmethod
    def from_command_line(
        cls, features: Sequence[str], all_features: bool = False, no_default_features: bool = False
    ) -> "CliFeatures":
        """Split ``--features`` values on whitespace and commas; reject ``dep:``."""
        values: dict[str, FeatureValue] = {}
        for item in features:
            for word in item.replace(",", " ").split():
                value = parse_feature_value(word)
                if isinstance(value, DepRef):
                    raise NocargoError(
                        f"feature `{word}` is not allowed to use explicit `dep:` syntax"
                    )
                if isinstance(value, DepFeatureRef) and "/" in value.dep_feature:
                    raise NocargoError(f"multiple slashes in feature `{word}` is not allowed")
                values[str(value)] = value
        ordered = tuple(sorted(values.values(), key=_fv_key))
        return cls(ordered, all_features, not no_default_features)


def _fv_key(value: FeatureValue) -> tuple:
    if isinstance(value, FeatureRef):
        return (0, value.feature)
    if isinstance(value, DepRef):
        return (1, value.dep_name)
    return (2, value.dep_name, value.dep_feature, value.weak)


@dataclass(frozen=True)
class PackageSelection:
    """``-p`` specs, ``--workspace`` and ``--exclude`` (cargo's ``Packages``)."""

    packages: tuple[str, ...] = ()
    workspace: bool = False
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureRequest:
    """What to resolve features for. ``targets`` empty means "the host" (no ``--target``)."""

    host: str
    selection: PackageSelection = PackageSelection()
    features: tuple[str, ...] = ()
    all_features: bool = False
    no_default_features: bool = False
    targets: tuple[str, ...] = ()
    dev_units: bool = False

    @property
    def requested_triples(self) -> tuple[str, ...]:
        """The compile kinds as triples, deduplicated and sorted as cargo does."""
        return tuple(sorted(set(self.targets))) if self.targets else (self.host,)


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """Why something was activated: by ``package`` (in set ``fk``) through ``via``.

    ``via`` is a short human text (``--features foo``, ``feature `std```,
    ``dependency `serde```); ``feature`` is the feature of ``package`` whose value caused
    it (``None`` when the dependency declaration itself did, or for the command line).
    ``package`` is ``None`` for the command line.
    """

    package: PackageId | None
    fk: FeaturesFor | None
    via: str
    feature: str | None = None


@dataclass(frozen=True)
class FeatureResolution:
    """Resolved features of every ``(package, FeaturesFor)``.

    ``decouple_host``: resolver ≥ 2 (``HOST`` is a separate set); with resolver 1 every
    lookup goes to ``NORMAL``. ``members`` are the selected members with their command-line
    features; ``to_build`` the packages the user asked to build (``-p`` may name a
    dependency); ``resolve_edges`` the graph of the targeted resolve (what cargo's
    ``Resolve::deps`` returns), grouped and ordered as cargo does.
    """

    resolver: str
    decouple_host: bool
    has_dev_units: bool
    requested_triples: tuple[str, ...]
    host: str
    features: Mapping[tuple[PackageId, FeaturesFor], tuple[str, ...]]
    activated_deps: Mapping[tuple[PackageId, FeaturesFor], frozenset[str]]
    members: tuple[tuple[PackageId, CliFeatures], ...]
    to_build: tuple[PackageId, ...]
    resolve_edges: Mapping[PackageId, tuple[tuple[PackageId, tuple[Dependency, ...]], ...]]
    package_causes: Mapping[tuple[PackageId, FeaturesFor], Cause] = field(default_factory=dict)
    feature_causes: Mapping[tuple[PackageId, FeaturesFor, str], Cause] = field(default_factory=dict)
    dep_causes: Mapping[tuple[PackageId, FeaturesFor, str], Cause] = field(default_factory=dict)

    def key(self, fk: FeaturesFor) -> FeaturesFor:
        return fk if self.decouple_host else FeaturesFor.NORMAL

    def activated_features(self, pkg_id: PackageId, fk: FeaturesFor) -> tuple[str, ...] | None:
        """Sorted features of ``pkg_id`` in set ``fk``; ``None`` if never activated there."""
        return self.features.get((pkg_id, self.key(fk)))

    def is_dep_activated(self, pkg_id: PackageId, fk: FeaturesFor, dep_name: str) -> bool:
        return dep_name in self.activated_deps.get((pkg_id, self.key(fk)), frozenset())

    def deps(self, pkg_id: PackageId) -> tuple[tuple[PackageId, tuple[Dependency, ...]], ...]:
        return self.resolve_edges.get(pkg_id, ())


# --------------------------------------------------------------------------------------
# selection
# --------------------------------------------------------------------------------------


def _spec_of(pkg_id: PackageId) -> PackageIdSpec:
    """The exact spec of one package (what cargo's ``PackageId::to_spec`` gives)."""
    return PackageIdSpec(pkg_id.name, PartialVersion.parse(pkg_id.version),
                         source_url(pkg_id), pkg_id.source.kind, text=pkg_id.to_spec())


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[]")


def select_packages(ws: Workspace, selection: PackageSelection) -> list[PackageIdSpec]:
    """Cargo's ``Packages::from_flags(...).to_package_id_specs(ws)``."""
    members = [m.package_id for m in ws.members]
    if selection.exclude and not selection.workspace:
        raise NocargoError("--exclude can only be used together with --workspace")
    specs: list[PackageIdSpec]
    if selection.workspace and selection.exclude:
        patterns = [e for e in selection.exclude if _is_glob(e)]
        ids = [PackageIdSpec.parse(e) for e in selection.exclude if not _is_glob(e)]
        specs = []
        for mid in members:
            matched = next((s for s in ids if s.matches(mid)), None)
            if matched is not None:
                ids.remove(matched)
                continue
            if any(fnmatch.fnmatchcase(mid.name, p) for p in patterns):
                continue
            specs.append(_spec_of(mid))
    elif selection.workspace:
        # `--workspace -p X`: X must be a member (cargo's emit_packages_not_found_within_workspace)
        for text in selection.packages:
            if _is_glob(text):
                if not any(fnmatch.fnmatchcase(m.name, text) for m in members):
                    raise NocargoError(f"package pattern(s) `{text}` not found in workspace "
                                       f"`{ws.root}`")
            elif not any(PackageIdSpec.parse(text).matches(m) for m in members):
                raise NocargoError(f"package(s) `{text}` not found in workspace `{ws.root}`")
        specs = [_spec_of(m) for m in members]
    elif selection.packages:
        specs = []
        for text in selection.packages:
            if _is_glob(text):
                matched = [m for m in members if fnmatch.fnmatchcase(m.name, text)]
                if not matched:
                    raise NocargoError(f"package pattern(s) `{text}` not found in workspace "
                                       f"`{ws.root}`")
                specs.extend(_spec_of(m) for m in matched)
            else:
                specs.append(PackageIdSpec.parse(text))
    else:
        specs = [_spec_of(m.package_id) for m in ws.default_members]
    if not specs:
        if ws.current is None:
            raise NocargoError(
                f"manifest path `{ws.root}` contains no package: The manifest is virtual, "
                "and the workspace has no members."
            )
        raise NocargoError("no packages to compile")
    return specs


def _allows_new_cli_feature_behavior(ws: Workspace) -> bool:
    # cargo's `is_virtual()` is about the *current* manifest, not the root
    return ws.current is None or ws.resolver != "1"


def _members_with_features(
    ws: Workspace, specs: Sequence[PackageIdSpec], cli: CliFeatures
) -> list[tuple[PackageId, CliFeatures]]:
    """Cargo's ``Workspace::members_with_features`` (new and old behaviour)."""
    if _allows_new_cli_feature_behavior(ws):
        return _members_new(ws, specs, cli)
    return _members_old(ws, specs, cli)


def _members_new(ws: Workspace, specs, cli: CliFeatures) -> list[tuple[PackageId, CliFeatures]]:
    found: set[FeatureValue] = set()
    out: list[tuple[PackageId, CliFeatures]] = []
    for member in ws.members:
        if not any(s.matches(member.package_id) for s in specs):
            continue
        out.append((member.package_id, _collect_matching(member, cli, found)))
    if not out:
        if cli.features or cli.all_features or not cli.uses_default_features:
            raise NocargoError("cannot specify features for packages outside of workspace")
        return [(m.package_id, CliFeatures((), False, True)) for m in ws.members]
    unknown = sorted(str(f) for f in cli.features if f not in found)
    if unknown:
        selected = [m for m in ws.members if any(s.matches(m.package_id) for s in specs)]
        these = "this feature" if len(unknown) == 1 else "these features"
        if len(selected) == 1:
            msg = (f"the package '{selected[0].name}' does not contain {these}: "
                   f"{', '.join(unknown)}")
        else:
            msg = (f"none of the selected packages contains {these}: {', '.join(unknown)}\n"
                   f"selected packages: {', '.join(m.name for m in selected)}")
        others = [m.name for m in ws.members if m not in selected
                  and any(u in m.summary.features for u in unknown)]
        notes = ()
        if others:
            notes = (f"help: package{'s' if len(others) != 1 else ''} with the missing "
                     f"feature{'s' if len(unknown) != 1 else ''}: {', '.join(others)}",)
        raise NocargoError(msg, notes=notes)
    return out


def _collect_matching(member, cli: CliFeatures, found: set) -> CliFeatures:
    if not cli.features:
        return cli
    summary = member.summary
    dep_names = {d.name_in_toml for d in summary.dependencies}
    optional = {d.name_in_toml for d in summary.dependencies if d.optional}

    def has(feature: str) -> bool:
        return feature in summary.features or feature in optional

    kept: dict[str, FeatureValue] = {}
    for fv in cli.features:
        if isinstance(fv, FeatureRef):
            if has(fv.feature):
                kept[str(fv)] = fv
                found.add(fv)
        elif isinstance(fv, DepFeatureRef):
            if fv.dep_name in dep_names:
                kept[str(fv)] = fv
                found.add(fv)
            elif fv.dep_name == member.name and has(fv.dep_feature):
                new = FeatureRef(fv.dep_feature)
                kept[str(new)] = new
                found.add(fv)
    return CliFeatures(tuple(sorted(kept.values(), key=_fv_key)), cli.all_features,
                       cli.uses_default_features)


def _members_old(ws: Workspace, specs, cli: CliFeatures) -> list[tuple[PackageId, CliFeatures]]:
    current = ws.current
    member_specific: dict[str, dict[str, FeatureValue]] = {}
    cwd: dict[str, FeatureValue] = {}
    for fv in cli.features:
        if isinstance(fv, DepFeatureRef):
            is_member = any(current is None or m.package_id != current.package_id
                            for m in ws.members if m.name == fv.dep_name)
            if is_member and any(s.name == fv.dep_name for s in specs):
                new = FeatureRef(fv.dep_feature)
                member_specific.setdefault(fv.dep_name, {})[str(new)] = new
                continue
        cwd[str(fv)] = fv
    out: list[tuple[PackageId, CliFeatures]] = []
    for member in ws.members:
        mid = member.package_id
        if current is not None and mid == current.package_id:
            out.append((mid, CliFeatures(tuple(sorted(cwd.values(), key=_fv_key)),
                                         cli.all_features, cli.uses_default_features)))
        elif any(s.matches(mid) for s in specs):
            own = member_specific.pop(member.name, {})
            out.append((mid, CliFeatures(tuple(sorted(own.values(), key=_fv_key)),
                                         cli.all_features, True)))
    return out


# --------------------------------------------------------------------------------------
# the targeted resolve (cargo's dependency resolver, as far as features go)
# --------------------------------------------------------------------------------------


def _closure(
    graph: ResolvedGraph, pid: PackageId, values: Sequence[FeatureValue],
    parent: PackageId | None, via: Dependency | None,
) -> tuple[set[str], dict[str, set[str]]]:
    """Cargo's ``build_requirements`` for one activation request: the features it enables
    and, per dependency name, the features it asks of that dependency (weak values count).
    Raises cargo's errors for unknown features and direct feature self-cycles."""
    summary = graph.packages[pid].summary
    feats: set[str] = set()
    reqs: dict[str, set[str]] = {}
    optional_names = {d.name_in_toml for d in summary.dependencies if d.optional}

    def missing(feat: str) -> NocargoError:
        deps = [d for d in summary.dependencies if d.name_in_toml == feat]
        if parent is None:
            if not deps:
                return NocargoError(f"package `{_describe(pid, graph)}` does not have the "
                                    f"feature `{feat}`")
            if any(d.optional for d in deps):
                return NocargoError(
                    f"package `{_describe(pid, graph)}` does not have feature `{feat}`",
                    notes=("help: an optional dependency with that name exists, but the "
                           "`features` table includes it with the \"dep:\" syntax so it "
                           "does not have an implicit feature with that name",))
            return NocargoError(
                f"package `{_describe(pid, graph)}` does not have feature `{feat}`",
                notes=("help: a dependency with that name exists but it is required "
                       "dependency and only optional dependencies can be used as features.",))
        dname = via.name if via is not None else pid.name
        req = via.req if via is not None else "*"
        return NocargoError(
            f"failed to select a version for `{dname}`.",
            notes=(f"    ... required by package `{_describe(parent, graph)}`",
                   f"versions that meet the requirements `{req}` are: {pid.version}", "",
                   f"package `{parent.name}` depends on `{dname}` with feature `{feat}` but "
                   f"`{dname}` does not have that feature.", "",
                   f"failed to select a version for `{dname}` which could resolve this "
                   "conflict"))

    def require_feature(feat: str) -> None:
        if feat in feats:
            return
        feats.add(feat)
        values = summary.features.get(feat)
        if values is None:
            raise missing(feat)
        for v in values:
            if isinstance(v, FeatureRef) and v.feature == feat:
                raise NocargoError(
                    f"cyclic feature dependency: feature `{feat}` depends on itself")
            require_value(v)

    def require_value(v: FeatureValue) -> None:
        if isinstance(v, FeatureRef):
            require_feature(v.feature)
        elif isinstance(v, DepRef):
            reqs.setdefault(v.dep_name, set())
        else:
            if not v.weak and v.dep_name in optional_names and v.dep_name in summary.features:
                require_feature(v.dep_name)
            reqs.setdefault(v.dep_name, set()).add(v.dep_feature)

    for v in values:
        require_value(v)
    return feats, reqs


def _targeted_resolve(
    graph: ResolvedGraph, members: Sequence[tuple[PackageId, CliFeatures]]
) -> dict[PackageId, tuple[tuple[PackageId, tuple[Dependency, ...]], ...]]:
    """Which edges cargo's dependency resolver keeps for this request.

    The resolver activates each selected member once as a root (with its command-line
    features and its dev-dependencies) and every package again whenever a dependent asks
    for features it has not seen (without dev-dependencies). Each activation evaluates its
    own requested features; optional dependencies join when an activation names them
    (weak ``d?/f`` included); the edges of the graph are the union.
    """
    features: dict[PackageId, set[str]] = {}
    active_optional: dict[PackageId, set[str]] = {}
    roots: set[PackageId] = set()
    queue: deque[tuple[PackageId, tuple[FeatureValue, ...], bool, PackageId | None,
                      Dependency | None]] = deque()

    for pid, cli in members:
        summary = graph.packages[pid].summary
        values: list[FeatureValue] = []
        if cli.all_features:
            values.extend(FeatureRef(k) for k in summary.features)
        values.extend(cli.features)
        if cli.uses_default_features and "default" in summary.features:
            values.append(FeatureRef("default"))
        roots.add(pid)
        queue.append((pid, tuple(values), True, None, None))

    while queue:
        pid, values, is_root, parent, via = queue.popleft()
        target = graph.packages[pid].summary
        requested = {v.feature for v in values if isinstance(v, FeatureRef)}
        if not is_root and pid in features and requested <= features[pid]:
            continue  # cargo's `flag_activated`: nothing new asked for
        feats, reqs = _closure(graph, pid, values, parent, via)
        if is_root:  # cargo checks `dep/feat` names after the root's requirements
            names = {d.name_in_toml for d in target.dependencies}
            for v in values:
                if isinstance(v, DepFeatureRef) and v.dep_name not in names:
                    raise NocargoError(f"package `{_describe(pid, graph)}` does not have a "
                                       f"dependency named `{v.dep_name}`")
        features.setdefault(pid, set()).update(feats)
        active = active_optional.setdefault(pid, set())
        active.update(reqs)
        for edge in graph.edges.get(pid, ()):
            dep = edge.dep
            if dep.kind is DepKind.DEV and not is_root:
                continue
            if dep.optional and dep.name_in_toml not in reqs:
                continue
            dep_values: list[FeatureValue] = [FeatureRef(f) for f in dep.features]
            dep_values.extend(FeatureRef(f) for f in sorted(reqs.get(dep.name_in_toml, ())))
            if dep.default_features and "default" in graph.packages[edge.package_id].summary.features:
                dep_values.append(FeatureRef("default"))
            queue.append((edge.package_id, tuple(dep_values), False, pid, dep))

    result: dict[PackageId, tuple[tuple[PackageId, tuple[Dependency, ...]], ...]] = {}
    for pid in features:
        active = active_optional.get(pid, set())
        groups: dict[PackageId, list[Dependency]] = {}
        for edge in graph.edges.get(pid, ()):
            dep = edge.dep
            if dep.kind is DepKind.DEV and pid not in roots:
                continue
            if dep.optional and dep.name_in_toml not in active:
                continue
            groups.setdefault(edge.package_id, []).append(dep)
        result[pid] = tuple((k, tuple(v)) for k, v in
                            sorted(groups.items(), key=lambda kv: package_id_key(kv[0])))
    return result


def _describe(pid: PackageId, graph: ResolvedGraph) -> str:
    pkg = graph.packages.get(pid)
    if pkg is not None and pkg.package is not None:
        return f"{pid.name} v{pid.version} ({pkg.package.root})"
    return f"{pid.name} v{pid.version}"


# --------------------------------------------------------------------------------------
# the feature resolver
# --------------------------------------------------------------------------------------


@contextmanager
def _deep_recursion(limit: int = 20000) -> Iterator[None]:
    old = sys.getrecursionlimit()
    if old < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


class _FeatureResolver:
    """A direct transcription of cargo's ``FeatureResolver`` (see the module docstring)."""

    def __init__(self, graph: ResolvedGraph, edges, *, decouple_host: bool,
                 decouple_dev: bool, ignore_inactive: bool, kinds: tuple[str | None, ...],
                 host: str, matcher: PlatformMatcher | None) -> None:
        self.graph = graph
        self.edges = edges
        self.decouple_host = decouple_host
        self.decouple_dev = decouple_dev
        self.ignore_inactive = ignore_inactive
        self.track_for_host = decouple_host or ignore_inactive
        self.kinds = kinds
        self.host = host
        self.matcher = matcher
        self.features: dict[tuple[PackageId, FeaturesFor], set[str]] = {}
        self.deps_on: dict[tuple[PackageId, FeaturesFor], set[str]] = {}
        self.processed: set[tuple[PackageId, FeaturesFor]] = set()
        self.deferred: dict[tuple[PackageId, FeaturesFor, str], dict[str, Cause]] = {}
        self.pkg_causes: dict[tuple[PackageId, FeaturesFor], Cause] = {}
        self.feature_causes: dict[tuple[PackageId, FeaturesFor, str], Cause] = {}
        self.dep_causes: dict[tuple[PackageId, FeaturesFor, str], Cause] = {}
        self._deps_cache: dict[tuple[PackageId, FeaturesFor], list] = {}

    def apply(self, fk: FeaturesFor) -> FeaturesFor:
        return fk if self.decouple_host else FeaturesFor.NORMAL

    def activate_pkg(self, pid: PackageId, fk: FeaturesFor, fvs: list[tuple[FeatureValue, Cause]],
                     cause: Cause) -> None:
        key = (pid, self.apply(fk))
        self.features.setdefault(key, set())
        self.pkg_causes.setdefault(key, cause)
        for fv, why in fvs:
            self.activate_fv(pid, fk, fv, why)
        if (pid, fk) in self.processed:
            return
        self.processed.add((pid, fk))
        for dep_id, deps in self.deps(pid, fk):
            for dep, dep_fk in deps:
                if dep.optional:
                    continue
                why = Cause(pid, self.apply(fk), _dep_text(dep))
                self.activate_pkg(dep_id, dep_fk, self.fvs_from_dependency(dep_id, dep, why), why)

    def activate_fv(self, pid: PackageId, fk: FeaturesFor, fv: FeatureValue, why: Cause) -> None:
        if isinstance(fv, FeatureRef):
            self.activate_rec(pid, fk, fv.feature, why)
        elif isinstance(fv, DepRef):
            self.activate_dependency(pid, fk, fv.dep_name, why)
        else:
            self.activate_dep_feature(pid, fk, fv.dep_name, fv.dep_feature, fv.weak, why)

    def activate_rec(self, pid: PackageId, fk: FeaturesFor, feature: str, why: Cause) -> None:
        key = (pid, self.apply(fk))
        enabled = self.features.setdefault(key, set())
        if feature in enabled:
            return
        enabled.add(feature)
        self.feature_causes.setdefault((pid, key[1], feature), why)
        values = self.graph.packages[pid].summary.features.get(feature)
        if values is None:
            return
        inner = Cause(pid, key[1], f"feature `{feature}`", feature)
        for fv in values:
            self.activate_fv(pid, fk, fv, inner)

    def activate_dependency(self, pid: PackageId, fk: FeaturesFor, dep_name: str, why: Cause) -> None:
        key = (pid, self.apply(fk))
        self.deps_on.setdefault(key, set()).add(dep_name)
        self.dep_causes.setdefault((pid, key[1], dep_name), why)
        to_enable = self.deferred.pop((pid, fk, dep_name), None)
        for dep_id, deps in self.deps(pid, fk):
            for dep, dep_fk in deps:
                if dep.name_in_toml != dep_name:
                    continue
                if to_enable:
                    for dep_feature, weak_why in to_enable.items():
                        self.activate_fv(dep_id, dep_fk, parse_feature_value(dep_feature), weak_why)
                edge_why = Cause(pid, key[1], "optional " + _dep_text(dep))
                self.activate_pkg(dep_id, dep_fk, self.fvs_from_dependency(dep_id, dep, edge_why),
                                  edge_why)

    def activate_dep_feature(self, pid: PackageId, fk: FeaturesFor, dep_name: str,
                             dep_feature: str, weak: bool, why: Cause) -> None:
        for dep_id, deps in self.deps(pid, fk):
            for dep, dep_fk in deps:
                if dep.name_in_toml != dep_name:
                    continue
                if dep.optional:
                    save = self.apply(fk)
                    if weak and dep_name not in self.deps_on.get((pid, save), set()):
                        self.deferred.setdefault((pid, fk, dep_name), {}).setdefault(
                            dep_feature, why)
                        continue
                    self.activate_fv(pid, fk, DepRef(dep_name), why)
                    if not weak and dep_name in self.graph.packages[pid].summary.features:
                        self.activate_rec(pid, fk, dep_name, why)
                self.activate_fv(dep_id, dep_fk, parse_feature_value(dep_feature), why)

    def fvs_from_dependency(self, dep_id: PackageId, dep: Dependency,
                            why: Cause) -> list[tuple[FeatureValue, Cause]]:
        feature_map = self.graph.packages[dep_id].summary.features
        out: list[tuple[FeatureValue, Cause]] = [(parse_feature_value(f), why) for f in dep.features]
        if dep.default_features and "default" in feature_map:
            out.append((FeatureRef("default"), why))
        return out

    def platform_activated(self, dep: Dependency, fk: FeaturesFor) -> bool:
        assert dep.target is not None and self.matcher is not None
        if dep.kind is DepKind.BUILD or fk is FeaturesFor.HOST:
            return self.matcher(dep.target, None)
        return any(self.matcher(dep.target, t) for t in self.kinds)

    def deps(self, pid: PackageId, fk: FeaturesFor) -> list:
        cached = self._deps_cache.get((pid, fk))
        if cached is not None:
            return cached
        out = []
        for dep_id, deps in self.edges.get(pid, ()):
            kept = []
            for dep in deps:
                if dep.target is not None and self.ignore_inactive and not self.platform_activated(dep, fk):
                    continue
                if self.decouple_dev and dep.kind is DepKind.DEV:
                    continue
                lib_fk = fk
                if (fk is not FeaturesFor.HOST and self.track_for_host
                        and (dep.kind is DepKind.BUILD
                             or self.graph.packages[dep_id].has_proc_macro_lib)):
                    lib_fk = FeaturesFor.HOST
                kept.append((dep, lib_fk))
            if kept:
                out.append((dep_id, kept))
        self._deps_cache[(pid, fk)] = out
        return out


def resolve_features(
    graph: ResolvedGraph,
    ws: Workspace,
    request: FeatureRequest,
    *,
    platform_matches: PlatformMatcher | None = None,
    targeted: dict | None = None,
) -> FeatureResolution:
    """Resolve features for ``request`` as cargo does (see the module docstring).

    ``targeted``: a dict kept by a caller that resolves several requests over the same
    ``graph`` (build and test, every target): the edges of the targeted resolve depend only
    on the members and their command-line features, so they are computed once per those.

    ``platform_matches`` evaluates ``[target.'…'.dependencies]`` keys; by default
    :func:`default_platform_matcher`. It is only called for dependencies that have a
    platform, so path-only tests without such tables need no cfg data.
    """
    specs = select_packages(ws, request.selection)
    cli = CliFeatures.from_command_line(request.features, request.all_features,
                                        request.no_default_features)
    members = _members_with_features(ws, specs, cli)
    key = tuple(members)
    edges = targeted.get(key) if targeted is not None else None
    if edges is None:
        edges = _targeted_resolve(graph, members)
        if targeted is not None:
            targeted[key] = edges
    resolve_ids = list(edges)
    to_build: list[PackageId] = []
    for spec in specs:
        pid = spec.query(resolve_ids)
        if pid not in to_build:
            to_build.append(pid)
    to_build.sort(key=package_id_key)

    resolver = ws.resolver
    v2 = resolver != "1"
    matcher = platform_matches
    if matcher is None and any(d.target is not None for groups in edges.values()
                               for _, deps in groups for d in deps):
        matcher = default_platform_matcher(request.host)
    fr = _FeatureResolver(
        graph, edges, decouple_host=v2, decouple_dev=v2 and not request.dev_units,
        ignore_inactive=v2, kinds=request.requested_triples if request.targets else (None,),
        host=request.host,
        matcher=matcher,
    )
    with _deep_recursion():
        for pid, member_cli in members:
            cause = Cause(None, None, _cli_text(member_cli))
            fvs = [(fv, cause) for fv in _fvs_from_requested(graph, pid, member_cli)]
            if fr.track_for_host and graph.packages[pid].has_any_proc_macro:
                fr.activate_pkg(pid, FeaturesFor.NORMAL, fvs, cause)
                fk = FeaturesFor.HOST
            else:
                fk = FeaturesFor.NORMAL
            fr.activate_pkg(pid, fk, fvs, cause)

    return FeatureResolution(
        resolver=resolver,
        decouple_host=v2,
        has_dev_units=request.dev_units,
        requested_triples=request.requested_triples,
        host=request.host,
        features={k: tuple(sorted(v)) for k, v in fr.features.items()},
        activated_deps={k: frozenset(v) for k, v in fr.deps_on.items()},
        members=tuple(members),
        to_build=tuple(to_build),
        resolve_edges=edges,
        package_causes=fr.pkg_causes,
        feature_causes=fr.feature_causes,
        dep_causes=fr.dep_causes,
    )


def _dep_text(dep: Dependency) -> str:
    word = {DepKind.NORMAL: "dependency", DepKind.BUILD: "build-dependency",
            DepKind.DEV: "dev-dependency"}[dep.kind]
    text = f"{word} `{dep.name_in_toml}`"
    if dep.target is not None:
        text += f" (for `{dep.target}`)"
    return text


def _fvs_from_requested(graph: ResolvedGraph, pid: PackageId, cli: CliFeatures) -> list[FeatureValue]:
    feature_map = graph.packages[pid].summary.features
    out: list[FeatureValue] = list(cli.features)
    if cli.uses_default_features and "default" in feature_map:
        out.append(FeatureRef("default"))
    if cli.all_features:
        out.extend(FeatureRef(k) for k in sorted(feature_map))
    return out


def _cli_text(cli: CliFeatures) -> str:
    parts = ["selected on the command line"]
    if cli.features:
        parts.append("--features " + ",".join(str(f) for f in cli.features))
    if cli.all_features:
        parts.append("--all-features")
    if not cli.uses_default_features:
        parts.append("--no-default-features")
    return " ".join(parts)
