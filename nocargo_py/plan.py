"""The build plan: the one contract between Python and the Nix library.

A :class:`Plan` is plain data (frozen dataclasses, JSON-serialisable) that says *exactly*
what to build: every unit (one rustc call or one build-script run) with its full rustc
argument list (minus store paths), its environment, its dependencies and which
build-script outputs it consumes. The Nix side (``nix/``) only consumes it: no feature,
cfg or profile logic happens in Nix. See ``docs/plan-format.md`` for the format.

Shape::

    Plan
      host            host triple (build scripts and proc-macros run here)
      targets         one TargetPlan per generated target (first = default)
        triple
        dev / release Graph: unit ids, workspace members, tests, root package
      packages        package key -> PackagePlan (name, version, source, root, links)
      units           unit id -> Unit (shared by every graph that uses it)

:func:`Plan.validate` checks every cross reference; :meth:`Plan.to_json` /
:func:`plan_from_json` round-trip the JSON form byte for byte.
"""

from __future__ import annotations

import collections.abc as _abc
import enum
import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from operator import attrgetter
from typing import Any, Callable, Mapping

from .errors import NocargoError

__all__ = [
    "PLAN_FORMAT_VERSION",
    "DepEdge",
    "GitSource",
    "Graph",
    "LinksDep",
    "PackagePlan",
    "PathSource",
    "Plan",
    "RegistrySource",
    "Source",
    "TargetPlan",
    "Unit",
    "UnitKind",
    "Uplift",
    "BinExe",
    "LINK_ARG_KINDS",
    "plan_from_json",
]

PLAN_FORMAT_VERSION = 1

# Store-path names: what Nix accepts in a derivation name (and a bit stricter: no leading dot).
_STORE_NAME = re.compile(r"[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]{0,199}")
_CRATE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_GIT_REV = re.compile(r"[0-9a-f]{40}")
_TRIPLE = re.compile(r"[A-Za-z0-9_.-]+")
_ENV_PREFIX = re.compile(r"DEP_[A-Za-z0-9_]*_")

#: ``link_arg_kinds`` values: which ``cargo::rustc-link-arg*`` classes a unit receives.
#: ``bin=NAME`` (for ``rustc-link-arg-bin=NAME=FLAG``) is allowed besides these.
LINK_ARG_KINDS = ("all", "cdylib", "bins", "tests", "benches", "examples")

_LIB_CRATE_TYPES = ("lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro")


class UnitKind(enum.Enum):
    """What a unit does; each kind has its own builder script in ``nix/builder/``.

    ``lib``: compile a library target (``crate_types`` from lib/rlib/dylib/cdylib/
    staticlib/proc-macro); ``bin``: compile a binary; ``test``: compile a test harness
    (``--test`` in ``args``); ``build-script-compile``: compile ``build.rs`` for the host;
    ``build-script-run``: run a compiled build script and record its directives.
    """

    LIB = "lib"
    BIN = "bin"
    TEST = "test"
    BUILD_SCRIPT_COMPILE = "build-script-compile"
    BUILD_SCRIPT_RUN = "build-script-run"

    @property
    def is_compile(self) -> bool:
        return self is not UnitKind.BUILD_SCRIPT_RUN


@dataclass(frozen=True)
class RegistrySource:
    """A ``.crate`` tarball: fetched with ``<nix/fetchurl.nix>`` (fixed output), unpacked."""

    url: str
    sha256: str  # lowercase hex, the Cargo.lock checksum
    kind: str = field(default="registry", init=False)


@dataclass(frozen=True)
class GitSource:
    """A git checkout, fetched with ``builtins.fetchGit`` at a fixed revision."""

    url: str
    rev: str  # full 40-hex commit
    ref: str | None = None  # branch/tag the rev is on (helps fetchGit find it)
    submodules: bool = False
    kind: str = field(default="git", init=False)


@dataclass(frozen=True)
class PathSource:
    """A local directory, relative to the generated ``Cargo.nix`` (``""`` = its directory).

    Imported with ``builtins.path`` under a fixed name, so the store path depends on the
    contents only. ``exclude``: paths relative to the directory that are left out (the
    ``target`` directory, nested packages, the generated file...); ``.git`` directories
    are always left out.
    """

    path: str
    exclude: tuple[str, ...] = ()
    kind: str = field(default="path", init=False)


Source = RegistrySource | GitSource | PathSource


@dataclass(frozen=True)
class PackagePlan:
    """One package instance: where its source is and what it is called.

    ``root`` is the package directory inside the fetched tree (``"foo-1.0.0"`` for a
    registry tarball, the sub-directory for a git repository, ``""`` for a path source).
    ``links`` is ``package.links`` (informational; the units carry what it implies).
    ``env`` is the environment shared by every unit of the package (``CARGO_PKG_*``...);
    a unit's own ``env`` is laid over it (unit wins).
    """

    name: str
    version: str
    source: Source
    root: str = ""
    links: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DepEdge:
    """A direct dependency of a compile unit: ``--extern <extern_name>=<unit's extern file>``.

    ``kind`` (``normal``/``build``/``dev``) is informational.
    """

    unit: str
    extern_name: str
    kind: str = "normal"


@dataclass(frozen=True)
class LinksDep:
    """A direct ``links`` dependency whose build-script metadata a build-script run receives.

    Each ``KEY=VALUE`` metadata line printed by ``unit`` (a ``build-script-run`` unit)
    becomes ``<env_prefix><KEY>=VALUE`` (``env_prefix`` is ``DEP_<LINKS>_`` envified; the
    key is envified by the builder: upper case, ``-`` -> ``_``).
    """

    links: str
    env_prefix: str
    unit: str


@dataclass(frozen=True)
class Uplift:
    """Copy ``file`` (as rustc wrote it in the unit's out dir) to ``dest`` under ``$out``."""

    file: str
    dest: str


@dataclass(frozen=True)
class BinExe:
    """``CARGO_BIN_EXE_<name>`` for an integration test: ``unit``'s ``executable``."""

    name: str
    unit: str


@dataclass(frozen=True)
class Unit:
    """One node of the build: a rustc call or a build-script run (see :class:`UnitKind`).

    Builder-supplied (store-path) pieces are *not* in here: the crate root path
    (``<source root>/<src_path>``), ``--out-dir``, ``-L dependency=`` and ``--extern``
    paths, ``--remap-path-prefix=<source root>=<remap_to>``, build-script outputs,
    ``CARGO_MANIFEST_DIR``/``CARGO_MANIFEST_PATH``/``OUT_DIR``/``RUSTC``/``RUSTDOC``.

    * ``args``: every other rustc argument in order (``--crate-name``, ``--edition``,
      ``--crate-type``, ``--emit``, profile flags, ``--cfg feature=...``, ``--check-cfg``,
      ``-C metadata``/``-C extra-filename``, ``--cap-lints``, ``--test``...). Empty for
      ``build-script-run``.
    * ``env``: compile-time env (``CARGO_PKG_*``, ``CARGO_CRATE_NAME``...) or, for a
      ``build-script-run``, the run env (``CARGO_FEATURE_*``, ``CARGO_CFG_*``, ``TARGET``,
      ``HOST``, ``OPT_LEVEL``...).
    * ``deps``: ``--extern`` edges (lib units only as targets);
      ``dependency_closure``: every lib unit (transitive, direct included) whose output
      directory goes on ``-L dependency=``.
    * ``build_script_run``: the run unit whose OUT_DIR, rustc-cfg, rustc-check-cfg,
      rustc-env and link directives this compile unit consumes; ``link_search_from``:
      run units whose ``rustc-link-search`` paths reach this unit (own + propagated);
      ``link_libs``: whether it gets its run unit's ``rustc-link-lib``; ``link_arg_kinds``:
      which ``rustc-link-arg*`` classes apply (see :data:`LINK_ARG_KINDS`, ``bin=NAME``).
    * ``extern_file``: for lib units, the file under ``$out/lib`` dependents pass to
      ``--extern``; ``uplift``: files copied into ``$out`` after rustc; ``executable``:
      the runnable file under ``$out`` (bins, tests, build-script compiles).
    * build-script-run only: ``build_script`` (the compile unit), ``links_deps``,
      ``rustflags`` (-> ``CARGO_ENCODED_RUSTFLAGS``), ``allowed_link_arg_kinds`` (cargo
      refuses e.g. ``rustc-link-arg-bins`` in a package without binaries).
    * ``extra_rustc_flags``: whether the Nix argument ``extraRustcFlags`` applies
      (``RUSTFLAGS`` semantics: target units; host units too when not cross-compiling).
    * ``remap_to``: what the source root is remapped to (``--remap-path-prefix``).
    * ``bin_exes``: ``CARGO_BIN_EXE_<name>`` (test units).
    """

    id: str
    package: str
    kind: UnitKind
    crate_name: str
    target_name: str
    src_path: str = ""
    crate_types: tuple[str, ...] = ()
    host: bool = False
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    deps: tuple[DepEdge, ...] = ()
    dependency_closure: tuple[str, ...] = ()
    build_script: str | None = None
    build_script_run: str | None = None
    link_search_from: tuple[str, ...] = ()
    link_libs: bool = False
    link_arg_kinds: tuple[str, ...] = ()
    links_deps: tuple[LinksDep, ...] = ()
    rustflags: tuple[str, ...] = ()
    allowed_link_arg_kinds: tuple[str, ...] = ()
    extern_file: str | None = None
    uplift: tuple[Uplift, ...] = ()
    executable: str | None = None
    extra_rustc_flags: bool = True
    remap_to: str = ""
    bin_exes: tuple[BinExe, ...] = ()


@dataclass(frozen=True)
class Graph:
    """Everything built for one (target, profile).

    ``units``: every unit id of this graph (sorted); ``members``: workspace package name
    -> the unit ids whose outputs make ``workspaceMembers.<name>`` (lib + bins);
    ``tests``: package name -> test units run by ``tests.<name>``; ``root``: the root
    package's name (``rootCrate``) or ``None`` for a virtual workspace.
    """

    units: tuple[str, ...]
    members: Mapping[str, tuple[str, ...]]
    tests: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    root: str | None = None


@dataclass(frozen=True)
class TargetPlan:
    """The two profiles of one target triple (``release ? true`` picks one in Nix)."""

    triple: str
    dev: Graph
    release: Graph


@dataclass(frozen=True)
class Plan:
    """A whole build plan. ``targets[0]`` is the default target of the generated file.

    ``env_paths``: ``[env]`` entries of ``.cargo/config.toml`` with ``relative = true``
    (cargo sets the absolute path): the path, imported into the store, is the value. Every
    unit's tool sees them, under what cargo itself sets (which wins, as for other ``[env]``
    entries)."""

    host: str
    targets: tuple[TargetPlan, ...]
    packages: Mapping[str, PackagePlan]
    units: Mapping[str, Unit]
    env_paths: Mapping[str, PathSource] = field(default_factory=dict)
    version: int = PLAN_FORMAT_VERSION

    # -- serialisation ----------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        """The plan as plain JSON data (dicts with sorted keys, lists, strings...)."""
        return _to_data(self)

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys, two-space indent, trailing newline)."""
        return json.dumps(self.to_data(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def target(self, triple: str) -> TargetPlan:
        for t in self.targets:
            if t.triple == triple:
                return t
        raise NocargoError(f"target `{triple}` is not in the plan "
                           f"(have: {', '.join(t.triple for t in self.targets)})")

    # -- validation -------------------------------------------------------------------
    def validate(self) -> "Plan":
        """Check names and every cross reference; raise :class:`NocargoError` on the first
        problem. Returns ``self`` so it can be chained."""
        if self.version != PLAN_FORMAT_VERSION:
            raise NocargoError(f"unsupported plan format version {self.version}")
        if not self.targets:
            raise NocargoError("a plan needs at least one target")
        triples = [t.triple for t in self.targets]
        for t in triples + [self.host]:
            if not _TRIPLE.fullmatch(t):
                raise NocargoError(f"invalid target triple `{t}` in plan")
        if len(set(triples)) != len(triples):
            raise NocargoError(f"duplicate target in plan: {triples}")
        for key, pkg in self.packages.items():
            _check_store_name(key, "package key")
            _check_source(key, pkg.source)
            for k in pkg.env:
                if not k or "=" in k or "\0" in k:
                    raise NocargoError(f"package `{key}`: invalid environment variable name `{k}`")
        for name, source in self.env_paths.items():
            if not name or "=" in name or "\0" in name:
                raise NocargoError(f"invalid environment variable name `{name}` in `env_paths`")
            if type(source) is not PathSource:
                raise NocargoError(f"`env_paths.{name}` must be a path source")
            _check_source(f"env_paths.{name}", source)
        for uid, unit in self.units.items():
            if uid != unit.id:
                raise NocargoError(f"unit `{uid}` is stored under a different id `{unit.id}`")
            _check_unit(self, unit)
        for t in self.targets:
            for profile, graph in (("dev", t.dev), ("release", t.release)):
                _check_graph(self, f"{t.triple}/{profile}", graph)
        return self


def _err(unit: Unit, message: str) -> NocargoError:
    return NocargoError(f"plan unit `{unit.id}`: {message}")


def _check_store_name(name: str, what: str) -> None:
    if not _STORE_NAME.fullmatch(name):
        raise NocargoError(f"{what} `{name}` is not a valid Nix store name "
                           "(letters, digits and `+-._?=`, not starting with `.`)")


def _check_source(key: str, source: Source) -> None:
    if isinstance(source, RegistrySource):
        if not _SHA256_HEX.fullmatch(source.sha256):
            raise NocargoError(f"package `{key}`: checksum `{source.sha256}` is not 64 hex digits")
    elif isinstance(source, GitSource):
        if not _GIT_REV.fullmatch(source.rev):
            raise NocargoError(f"package `{key}`: git rev `{source.rev}` is not a full commit hash")
    elif isinstance(source, PathSource):
        if source.path.startswith("/"):
            raise NocargoError(f"package `{key}`: path `{source.path}` must be relative to the "
                               "generated file")


def _check_env(unit: Unit, env: Mapping[str, str]) -> None:
    for k in env:
        if not k or "=" in k or "\0" in k:
            raise _err(unit, f"invalid environment variable name `{k}`")


def _check_unit(plan: Plan, unit: Unit) -> None:
    _check_store_name(unit.id, "unit id")
    if unit.package not in plan.packages:
        raise _err(unit, f"unknown package `{unit.package}`")
    _check_env(unit, unit.env)
    units = plan.units

    def ref(uid: str | None, what: str, kind: UnitKind | None = None) -> Unit | None:
        if uid is None:
            return None
        other = units.get(uid)
        if other is None:
            raise _err(unit, f"{what} refers to unknown unit `{uid}`")
        if kind is not None and other.kind is not kind:
            raise _err(unit, f"{what} `{uid}` is a {other.kind.value} unit, expected {kind.value}")
        return other

    if unit.kind.is_compile:
        if not _CRATE_NAME.fullmatch(unit.crate_name):
            raise _err(unit, f"invalid crate name `{unit.crate_name}`")
        if not unit.src_path:
            raise _err(unit, "a compile unit needs `src_path`")
    if unit.kind is UnitKind.LIB:
        if not unit.crate_types or any(c not in _LIB_CRATE_TYPES for c in unit.crate_types):
            raise _err(unit, f"invalid library crate types {list(unit.crate_types)}")
        if not unit.extern_file:
            raise _err(unit, "a lib unit needs `extern_file`")
    if unit.kind in (UnitKind.BIN, UnitKind.TEST, UnitKind.BUILD_SCRIPT_COMPILE):
        if not unit.executable or unit.executable not in {u.dest for u in unit.uplift}:
            raise _err(unit, "a bin/test/build-script-compile unit needs an `executable` "
                             "that one of its `uplift` entries produces")
    for d in unit.deps:
        dep = ref(d.unit, "dependency", UnitKind.LIB)
        assert dep is not None
        if not _CRATE_NAME.fullmatch(d.extern_name):
            raise _err(unit, f"invalid extern name `{d.extern_name}`")
    for uid in unit.dependency_closure:
        ref(uid, "dependency_closure", UnitKind.LIB)
    for uid in unit.link_search_from:
        ref(uid, "link_search_from", UnitKind.BUILD_SCRIPT_RUN)
    ref(unit.build_script_run, "build_script_run", UnitKind.BUILD_SCRIPT_RUN)
    for b in unit.bin_exes:
        ref(b.unit, f"bin_exes `{b.name}`", UnitKind.BIN)
    for k in (*unit.link_arg_kinds, *unit.allowed_link_arg_kinds):
        if k not in LINK_ARG_KINDS and not k.startswith("bin="):
            raise _err(unit, f"unknown link-arg kind `{k}`")
    for u in unit.uplift:
        if u.dest.startswith("/") or ".." in u.dest.split("/") or not u.file:
            raise _err(unit, f"invalid uplift `{u.file}` -> `{u.dest}`")
    if unit.kind is UnitKind.BUILD_SCRIPT_RUN:
        ref(unit.build_script, "build_script", UnitKind.BUILD_SCRIPT_COMPILE)
        if unit.build_script is None:
            raise _err(unit, "a build-script-run unit needs `build_script`")
        for ld in unit.links_deps:
            ref(ld.unit, "links_deps", UnitKind.BUILD_SCRIPT_RUN)
            if not _ENV_PREFIX.fullmatch(ld.env_prefix):
                raise _err(unit, f"invalid links env prefix `{ld.env_prefix}`")
        if unit.args or unit.deps:
            raise _err(unit, "a build-script-run unit has no rustc arguments or externs")


def _check_graph(plan: Plan, where: str, graph: Graph) -> None:
    in_graph = set(graph.units)
    for uid in graph.units:
        if uid not in plan.units:
            raise NocargoError(f"plan graph {where}: unknown unit `{uid}`")
    for uid in graph.units:
        u = plan.units[uid]
        refs = [d.unit for d in u.deps] + list(u.dependency_closure) + list(u.link_search_from)
        refs += [x for x in (u.build_script, u.build_script_run) if x]
        refs += [ld.unit for ld in u.links_deps] + [b.unit for b in u.bin_exes]
        for r in refs:
            if r not in in_graph:
                raise NocargoError(f"plan graph {where}: unit `{uid}` needs `{r}`, "
                                   "which is not in the graph")
    for what, table in (("members", graph.members), ("tests", graph.tests)):
        for name, ids in table.items():
            for uid in ids:
                if uid not in in_graph:
                    raise NocargoError(f"plan graph {where}: {what}.{name} names unknown "
                                       f"unit `{uid}`")
    for name, ids in graph.tests.items():
        for uid in ids:
            if plan.units[uid].kind is not UnitKind.TEST:
                raise NocargoError(f"plan graph {where}: tests.{name} unit `{uid}` is not a test")
    if graph.root is not None and graph.root not in graph.members:
        raise NocargoError(f"plan graph {where}: root package `{graph.root}` is not a member")


# -- JSON conversion ------------------------------------------------------------------------

_SCALARS = frozenset({str, int, bool, float, type(None)})
#: dataclass type -> its field names and a getter of their values as a tuple
#: (``fields()`` is slow enough to matter per unit).
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple]]] = {}


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """A function giving the values of attributes ``names`` of an object, as a tuple."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _to_data(value: Any) -> Any:
    # Dispatch on the exact type first: this runs for every value of every unit (the
    # planner hashes each unit's data), so the common cases must not go through
    # ``is_dataclass``/ABC checks, and scalars inside containers not through a call.
    t = type(value)
    if t in _SCALARS:
        return value
    known = _FIELDS.get(t)
    if known is not None:
        names, values = known
        return {n: v if type(v) in _SCALARS else _to_data(v)
                for n, v in zip(names, values(value))}
    if t is tuple or t is list:
        return [v if type(v) in _SCALARS else _to_data(v) for v in value]
    if t is dict:
        return {str(k): _to_data(v) for k, v in sorted(value.items())}
    if isinstance(value, enum.Enum):  # (before is_dataclass: slow on enums)
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        names = tuple(f.name for f in fields(value))
        getter = _tuple_getter(names)
        _FIELDS[t] = (names, getter)
        return _to_data(value)
    if isinstance(value, _abc.Mapping):
        return {str(k): _to_data(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [_to_data(v) for v in value]
    return value


def _source_from(data: Mapping[str, Any]) -> Source:
    kind = data.get("kind")
    rest = {k: v for k, v in data.items() if k != "kind"}
    if kind == "registry":
        return RegistrySource(**rest)
    if kind == "git":
        return GitSource(**rest)
    if kind == "path":
        return PathSource(path=rest["path"], exclude=tuple(rest.get("exclude", ())))
    raise NocargoError(f"unknown source kind `{kind}` in plan")


def _unit_from(data: Mapping[str, Any]) -> Unit:
    d = dict(data)
    d["kind"] = UnitKind(d["kind"])
    d["env"] = dict(d.get("env", {}))
    d["deps"] = tuple(DepEdge(**e) for e in d.get("deps", ()))
    d["links_deps"] = tuple(LinksDep(**e) for e in d.get("links_deps", ()))
    d["uplift"] = tuple(Uplift(**e) for e in d.get("uplift", ()))
    d["bin_exes"] = tuple(BinExe(**e) for e in d.get("bin_exes", ()))
    for k in ("crate_types", "args", "dependency_closure", "link_search_from",
              "link_arg_kinds", "rustflags", "allowed_link_arg_kinds"):
        d[k] = tuple(d.get(k, ()))
    return Unit(**d)


def _graph_from(data: Mapping[str, Any]) -> Graph:
    return Graph(
        units=tuple(data["units"]),
        members={k: tuple(v) for k, v in data["members"].items()},
        tests={k: tuple(v) for k, v in data.get("tests", {}).items()},
        root=data.get("root"),
    )


def plan_from_json(text: str) -> Plan:
    """Read a plan from its JSON form (the inverse of :meth:`Plan.to_json`)."""
    try:
        data = json.loads(text)
        return Plan(
            version=data["version"],
            host=data["host"],
            targets=tuple(TargetPlan(t["triple"], _graph_from(t["dev"]), _graph_from(t["release"]))
                          for t in data["targets"]),
            packages={k: PackagePlan(name=p["name"], version=p["version"],
                                     source=_source_from(p["source"]), root=p.get("root", ""),
                                     links=p.get("links"), env=dict(p.get("env", {})))
                      for k, p in data["packages"].items()},
            units={k: _unit_from(u) for k, u in data["units"].items()},
            env_paths={k: _source_from(s) for k, s in data.get("env_paths", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise NocargoError(f"malformed plan JSON: {type(exc).__name__}: {exc}") from exc
