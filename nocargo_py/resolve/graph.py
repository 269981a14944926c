"""The resolved package graph: every package of a build and what each dependency resolved to.

:class:`ResolvedGraph` is what both routes to a resolution produce — the lock file route
(:func:`graph_from_lockfile`: ``Cargo.lock`` edges mapped back to manifest declarations)
and the version resolver (lock generation) — and what the feature resolver and the unit
graph consume. It is independent of any command-line request.

Each :class:`ResolvedPackage` has the :class:`~nocargo_py.summary.Summary` the resolvers
need and the targets the unit graph needs (for local packages the loaded
:class:`~nocargo_py.package.Package`; for registry/git packages a summary plus crate
information from the ``.crate``'s manifest). Each :class:`Edge` is one declared dependency
(:class:`~nocargo_py.summary.Dependency`) matched to the package that satisfies it.
Optional dependencies that a lock file omits (nothing enables them) simply have no edge;
dev-dependencies of packages that are not workspace members never have edges (cargo drops
them at resolve time).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol

from ..errors import NocargoError
from ..lockfile import package_sort_key
from ..package import Package, Target, TargetKind, Workspace
from ..source import PackageId, SourceId
from ..summary import DepKind, Dependency, Summary

__all__ = [
    "CRATES_IO_SRC_DIR",
    "CrateInfoLike",
    "CrateInfoTargets",
    "Edge",
    "ResolvedGraph",
    "ResolvedPackage",
    "graph_from_lockfile",
    "graph_from_path_workspace",
    "local_path_ids",
    "package_id_key",
    "patch_path_packages",
    "registry_src_root",
]


package_id_key = package_sort_key
"""Cargo's ``PackageId`` order: name, version (SemVer incl. build), source (memoised)."""


class CrateInfoLike(Protocol):
    """What the unit graph needs to know of a registry or git package's ``.crate``."""

    targets: tuple[Target, ...]
    links: str | None


#: cargo's directory name for crates.io under ``$CARGO_HOME/registry/src`` (cargo ≥ 1.85)
CRATES_IO_SRC_DIR = "index.crates.io-1949cf8c6b5b557f"


def registry_src_root(pid: PackageId) -> Path:
    """Where cargo unpacks a registry crate: ``$CARGO_HOME/registry/src/<dir>/<name>-<ver>``.

    Only crates.io's directory name is cargo's own; other registries get a readable
    stand-in (the paths only appear in ``src_path`` of unit graphs).
    """
    import os

    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    if pid.source.is_crates_io():
        reg = CRATES_IO_SRC_DIR
    else:
        from ..index.cache import registry_dir_name

        reg = registry_dir_name(pid.source)
    return home / "registry" / "src" / reg / f"{pid.name}-{pid.version}"


@dataclass(frozen=True)
class CrateInfoTargets:
    """The targets and ``links`` of a registry package, from the sources module's
    :class:`~nocargo_py.sources.CrateInfo` (lib and build script; bins, tests and examples
    of dependencies are never built)."""

    targets: tuple[Target, ...]
    links: str | None
    manifest_path: Path

    @classmethod
    def from_crate_info(cls, info: Any, pid: PackageId, root: Path | None = None) -> "CrateInfoTargets":
        root = root if root is not None else registry_src_root(pid)
        targets: list[Target] = []
        lib = info.lib
        if lib is not None:
            targets.append(Target(
                kind=TargetKind.LIB, name=lib.name, src_path=root / lib.src_path,
                crate_types=tuple(lib.crate_types), edition=lib.edition, test=lib.test,
                doctest=lib.doctest, doc=lib.doc, harness=lib.harness,
            ))
        if info.build:
            stem = Path(info.build).stem
            targets.append(Target(
                kind=TargetKind.BUILD_SCRIPT, name=f"build-script-{stem}",
                src_path=root / info.build, crate_types=("bin",), edition=info.edition,
                test=False, doctest=False, bench=False, doc=False,
            ))
        return cls(tuple(targets), info.links, root / "Cargo.toml")


@dataclass(frozen=True)
class ResolvedPackage:
    """One package of the graph: summary for resolution, targets for the unit graph.

    ``package`` is the loaded manifest for local (path) packages, ``None`` otherwise.
    ``manifest_path`` is absolute where known (local packages, unpacked crates).
    """

    summary: Summary
    targets: tuple[Target, ...]
    links: str | None = None
    package: Package | None = None
    manifest_path: Path | None = None

    @property
    def package_id(self) -> PackageId:
        return self.summary.package_id

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def version(self) -> str:
        return self.summary.version

    @property
    def lib_target(self) -> Target | None:
        return next((t for t in self.targets if t.kind is TargetKind.LIB), None)

    @property
    def build_scripts(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.kind is TargetKind.BUILD_SCRIPT)

    @property
    def has_proc_macro_lib(self) -> bool:
        """The library is a proc-macro (cargo's ``has_proc_macro_lib``)."""
        lib = self.lib_target
        return lib is not None and lib.is_proc_macro

    @property
    def has_any_proc_macro(self) -> bool:
        """Any target is a proc-macro (cargo's ``Package::proc_macro``, examples included)."""
        return any("proc-macro" in t.crate_types and t.kind in (TargetKind.LIB, TargetKind.EXAMPLE)
                   for t in self.targets)

    @classmethod
    def from_package(cls, package: Package) -> "ResolvedPackage":
        return cls(package.summary, package.targets, package.links, package,
                   package.manifest_path)


@dataclass(frozen=True)
class Edge:
    """A declared dependency and the package it resolved to."""

    dep: Dependency
    package_id: PackageId


@dataclass(frozen=True)
class ResolvedGraph:
    """Packages and resolved dependency edges (see the module docstring).

    ``members`` are the workspace members in the workspace's order.
    """

    packages: Mapping[PackageId, ResolvedPackage]
    edges: Mapping[PackageId, tuple[Edge, ...]]
    members: tuple[PackageId, ...]
    _groups: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def package(self, pkg_id: PackageId) -> ResolvedPackage:
        return self.packages[pkg_id]

    def is_member(self, pkg_id: PackageId) -> bool:
        return pkg_id in self.members

    def dep_groups(self, pkg_id: PackageId) -> tuple[tuple[PackageId, tuple[Dependency, ...]], ...]:
        """Edges of ``pkg_id`` grouped by target package, in cargo's package order
        (cargo's ``Resolve::deps``)."""
        cached = self._groups.get(pkg_id)
        if cached is None:
            grouped: dict[PackageId, list[Dependency]] = {}
            for edge in self.edges.get(pkg_id, ()):
                grouped.setdefault(edge.package_id, []).append(edge.dep)
            cached = tuple((dep_id, tuple(deps)) for dep_id, deps in
                           sorted(grouped.items(), key=lambda kv: package_id_key(kv[0])))
            self._groups[pkg_id] = cached
        return cached

    def find(self, name: str, version: str | None = None) -> list[PackageId]:
        """Package ids called ``name`` (and ``version``), in cargo's order."""
        found = [p for p in self.packages if p.name == name and (version is None or p.version == version)]
        return sorted(found, key=package_id_key)


# --------------------------------------------------------------------------------------
# path-only workspaces
# --------------------------------------------------------------------------------------


def _norm(path: str | Path) -> str:
    return Path(path).as_posix().rstrip("/") or "/"


def graph_from_path_workspace(ws: Workspace) -> ResolvedGraph:
    """The graph of a workspace whose dependencies are all path dependencies.

    No lock file or index is needed: each dependency resolves to the local package in its
    directory (name and version requirement checked as cargo does). A dependency from any
    other source is an error naming it.
    """
    by_dir: dict[str, Package] = {_norm(p.root): p for p in ws.packages}
    member_ids = frozenset(p.package_id for p in ws.members)
    packages: dict[PackageId, ResolvedPackage] = {}
    edges: dict[PackageId, tuple[Edge, ...]] = {}
    for pkg in ws.packages:
        packages[pkg.package_id] = ResolvedPackage.from_package(pkg)
        is_member = pkg.package_id in member_ids
        out: list[Edge] = []
        for dep in pkg.dependencies:
            if dep.kind is DepKind.DEV and not is_member:
                continue
            if not dep.source.is_path():
                raise NocargoError(
                    f"dependency `{dep.name_in_toml}` of package `{pkg.name} v{pkg.version}` "
                    f"comes from `{dep.source.to_lock_string()}`, not from a path; "
                    "planning it needs Cargo.lock and registry index data",
                    notes=(f"manifest: {pkg.manifest_path}",),
                )
            target = by_dir.get(_norm(dep.source.url))
            location = dep.path or dep.source.url
            if target is None or target.name != dep.name:
                raise NocargoError(
                    f"no matching package named `{dep.name}` found",
                    notes=(f"location searched: {location}",
                           f"required by package `{pkg.name} v{pkg.version} ({pkg.root})`"),
                )
            if not dep.matches_version(target.version):
                raise NocargoError(
                    f"failed to select a version for the requirement `{dep.name} = \"{dep.req}\"`",
                    notes=(f"candidate versions found which didn't match: {target.version}",
                           f"location searched: {location}",
                           f"required by package `{pkg.name} v{pkg.version} ({pkg.root})`"),
                )
            out.append(Edge(dep, target.package_id))
        edges[pkg.package_id] = tuple(out)
    reachable = _reachable(member_ids, edges)
    return ResolvedGraph(
        {k: v for k, v in packages.items() if k in reachable},
        {k: v for k, v in edges.items() if k in reachable},
        member_ids,
    )


def _reachable(roots: Iterable[PackageId], edges: Mapping[PackageId, tuple[Edge, ...]]) -> set[PackageId]:
    seen: set[PackageId] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(e.package_id for e in edges.get(pid, ()))
    return seen


# --------------------------------------------------------------------------------------
# lock file route
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _source_identity(source: SourceId) -> tuple:
    return source.canonical().sort_key()


def graph_from_lockfile(
    ws: Workspace,
    lockfile: Any,
    index: Callable[[PackageId], Summary] | Any,
    crate_infos: Mapping[PackageId, Any] | Callable[[PackageId], Any],
) -> ResolvedGraph:
    """The graph recorded in ``Cargo.lock``, with every lock edge mapped back to the
    declarations of the depending package (by package name, source and version
    requirement; cargo-semantics §9).

    ``index`` gives the :class:`Summary` of a registry package: a callable taking the
    package id, or a registry index object with ``summary(name, version)``.
    ``crate_infos`` gives, for each non-local package, either a loaded
    :class:`~nocargo_py.package.Package` (git packages) or an object with ``targets`` and
    ``links`` (:class:`CrateInfoLike`).
    """
    local: dict[PackageId, Package] = {p.package_id: p for p in ws.packages}
    for pkg in patch_path_packages(ws, local):
        local.setdefault(pkg.package_id, pkg)
    lock = lockfile.with_path_sources(local.keys())
    member_ids = frozenset(p.package_id for p in ws.members)

    def summary_of(pid: PackageId) -> Summary:
        if callable(index):
            return index(pid)
        return index.summary(pid.name, pid.version)

    def info_of(pid: PackageId) -> Any:
        if callable(crate_infos):
            return crate_infos(pid)
        info = crate_infos.get(pid)
        if info is None:
            raise NocargoError(f"no crate information for `{pid.name} v{pid.version}` "
                               f"({pid.source.to_lock_string()})")
        return info

    locked_by_id = {_lock_key(p.id): p for p in lock.packages}
    packages: dict[PackageId, ResolvedPackage] = {}
    edges: dict[PackageId, tuple[Edge, ...]] = {}
    patch_sources = {
        (d.name, _source_identity(d.source)) for deps in ws.patch.values() for d in deps
    }
    for locked in lock.packages:
        pid = locked.id
        if locked.replace is not None:
            continue  # [replace]: the replacement carries the package
        if pid in local:
            pkg = local[pid]
            packages[pid] = ResolvedPackage.from_package(pkg)
            summary = pkg.summary
        else:
            info = info_of(pid)
            if isinstance(info, Package):
                summary = info.summary
                packages[pid] = ResolvedPackage(summary, info.targets, info.links, None,
                                                info.manifest_path)
            else:
                summary = summary_of(pid)
                packages[pid] = ResolvedPackage(summary, tuple(info.targets),
                                                getattr(info, "links", None) or summary.links,
                                                None, getattr(info, "manifest_path", None))
        candidates = []
        for dep_id in locked.dependencies:
            target = locked_by_id.get(_lock_key(dep_id))
            if target is not None and target.replace is not None:
                candidates.append((dep_id, target.replace))
            else:
                candidates.append((dep_id, dep_id))
        is_member = pid in member_ids
        out: list[Edge] = []
        for dep in summary.dependencies:
            if dep.kind is DepKind.DEV and not is_member:
                continue
            match = _match_lock_edge(dep, candidates, patch_sources)
            if match is None:
                if dep.optional:
                    continue
                raise NocargoError(
                    f"dependency `{dep.name_in_toml}` of `{pid.name} v{pid.version}` has no "
                    "matching entry in Cargo.lock",
                    notes=("the lock file is out of date; regenerate it",),
                )
            out.append(Edge(dep, match))
        edges[pid] = tuple(out)
    reachable = _reachable(member_ids, edges)
    return ResolvedGraph(
        {k: v for k, v in packages.items() if k in reachable},
        {k: v for k, v in edges.items() if k in reachable},
        member_ids,
    )


def patch_path_packages(ws: Workspace,
                        known: Mapping[PackageId, Package] | None = None) -> list[Package]:
    """Local packages that only ``[patch]``/``[replace]`` entries name (and their path
    dependencies): cargo loads them as path sources although they are not members.
    ``known`` (default: ``ws.packages``) are packages already loaded."""
    from ..workspace import load_standalone_package

    if known is None:
        known = {p.package_id: p for p in ws.packages}
    seen_dirs = {_norm(p.root) for p in known.values()}
    todo = [d for deps in ws.patch.values() for d in deps if d.source.is_path()]
    todo += [d for _, d in ws.replace if d.source.is_path()]
    out: list[Package] = []
    while todo:
        dep = todo.pop(0)
        directory = _norm(dep.source.url)
        if directory in seen_dirs:
            continue
        seen_dirs.add(directory)
        pkg = load_standalone_package(Path(directory) / "Cargo.toml", dep.source)
        out.append(pkg)
        todo.extend(d for d in pkg.dependencies if d.source.is_path() and d.kind is not DepKind.DEV)
    return out


def local_path_ids(ws: Workspace) -> list[PackageId]:
    """The ids ``Cargo.lock``'s source-less packages bind to (cargo's ``build_path_deps``):
    the workspace's packages and the ``[patch]``/``[replace]`` path packages."""
    ids = [p.package_id for p in ws.packages]
    ids += [p.package_id for p in patch_path_packages(ws)]
    return ids


def _lock_key(pid: PackageId) -> tuple:
    return (pid.name, pid.version, _source_identity(pid.source))


def _match_lock_edge(
    dep: Dependency,
    candidates: list[tuple[PackageId, PackageId]],
    patch_sources: set[tuple[str, tuple]],
) -> PackageId | None:
    want = _source_identity(dep.source)
    best: tuple[tuple, PackageId] | None = None
    for declared_id, real_id in candidates:
        if declared_id.name != dep.name:
            continue
        same_source = _source_identity(declared_id.source) == want
        patched = (dep.name, _source_identity(declared_id.source)) in patch_sources
        if not (same_source or patched):
            continue
        if not dep.matches_version(declared_id.version) and not patched:
            continue
        key = package_id_key(declared_id)
        if best is None or key > best[0]:
            best = (key, real_id)
    return None if best is None else best[1]
