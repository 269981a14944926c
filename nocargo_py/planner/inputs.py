"""Everything ``gen`` needs before planning: the lock file, the resolved graph and where
every non-local package comes from.

* ``Cargo.lock`` is created or updated through the version resolver
  (:func:`~nocargo_py.resolve.lockgen.ensure_lockfile`) unless ``--locked``;
* registry packages: the index summary (``Registries``), the ``dl`` URL with the lock
  file's checksum, and the :class:`~nocargo_py.sources.CrateInfo` (targets, links,
  ``CARGO_PKG_*``) looked up in order in the ``crate-info/`` side table of
  ``--index-dir`` (the vendored ``registry-cache/``), the side table in the user cache,
  and finally read from the downloaded ``.crate`` (then recorded in the cache's table, so
  a later ``--offline`` run finds it);
* git packages: the checkout at the locked commit (cached) gives the package and the
  ``builtins.fetchGit`` spec; both are recorded in the cache's side table.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NocargoError
from ..lockfile import Lockfile
from ..resolve.graph import (
    CrateInfoTargets, ResolvedGraph, graph_from_lockfile, graph_from_path_workspace,
)
from ..shell import Shell
from ..source import PackageId
from ..sources.crate_info import (
    CrateInfo, crate_info_from_package, load_crate_info, load_git_info, store_crate_info,
    store_git_info,
)
from ..summary import DepKind
from .sources import SourceProvider, crate_facts

if TYPE_CHECKING:  # pragma: no cover
    from ..sources.git import GitFetchSpec

__all__ = ["CrateInfoStore", "load_resolved_graph", "is_path_only"]


def is_path_only(ws) -> bool:
    """Every dependency (dev-dependencies of non-members aside) is a path dependency and
    there is no ``[patch]``/``[replace]``: the graph needs no lock file or index."""
    member_ids = {m.package_id for m in ws.members}
    return all(d.source.is_path() for p in ws.packages for d in p.dependencies
               if not (d.kind is DepKind.DEV and p.package_id not in member_ids)) \
        and not ws.patch and not ws.replace


class CrateInfoStore:
    """Crate facts of non-local packages (see the module docstring)."""

    def __init__(self, lock: Lockfile, registries: Any, *, index_dir: Path | None,
                 offline: bool, shell: Shell) -> None:
        from ..index.cache import default_cache_root

        self.lock = lock
        self.registries = registries
        self.index_dir = index_dir
        self.cache_dir = default_cache_root(registries.cache_root)
        self.offline = offline
        self.shell = shell
        self.infos: dict[PackageId, CrateInfo] = {}
        self.git_specs: dict[PackageId, GitFetchSpec] = {}
        self.git_packages: dict[PackageId, Any] = {}
        self._git = None

    # -- registry packages ------------------------------------------------------------------
    def load_registry(self, ids: list[PackageId]) -> None:
        """Find (or download and read) the crate info of every registry package in ``ids``."""
        missing: list[PackageId] = []
        for pid in ids:
            locked = self.lock.get(pid)
            checksum = locked.checksum if locked is not None else None
            info = None
            for directory in (self.index_dir, self.cache_dir):
                if directory is None:
                    continue
                info = load_crate_info(directory, pid, checksum)
                if info is not None and info.lints is None:
                    info = None  # recorded before [lints] were: read the .crate again
                if info is not None:
                    break
            if info is None:
                missing.append(pid)
            else:
                self.infos[pid] = info
        if not missing:
            return
        from ..sources.download import CrateDownloader
        from ..sources.reading import fetch_and_read

        downloader = CrateDownloader(self.registries.cache_root, offline=self.offline,
                                     shell=self.shell)
        try:
            read = fetch_and_read(downloader, self.lock, self.registries, missing)
        except NocargoError as err:
            notes = list(err.notes)
            if self.offline:
                notes.append("the `.crate` files (or a vendored `crate-info/` table, see "
                             "`nocargo-py index vendor --crate-info`) are needed to plan "
                             "registry packages; run once without --offline")
            raise NocargoError(err.message, notes=notes) from None
        fresh = []
        for pid in missing:  # the first failure in lock order, whatever finished first
            info = read[pid]
            if isinstance(info, NocargoError):
                raise info
            self.infos[pid] = info
            fresh.append(info)
        try:
            store_crate_info(self.cache_dir, fresh)
        except OSError as exc:  # the cache is only an optimisation
            self.shell.warn(f"could not record crate info in {self.cache_dir}: {exc}")

    # -- git packages -----------------------------------------------------------------------
    def _fetcher(self):
        if self._git is None:
            from ..sources.git import GitSources

            self._git = GitSources(self.registries.cache_root, offline=self.offline,
                                   shell=self.shell)
        return self._git

    def load_git(self, pid: PackageId) -> Any:
        """The git package as a loaded :class:`~nocargo_py.package.Package` (summary with
        in-repository path dependencies pointing at the git source, as cargo has them)."""
        if pid in self.git_packages:
            return self.git_packages[pid]
        from ..resolve.git_source import _relocate

        fetcher = self._fetcher()
        checkout, manifest = fetcher.locate(pid)
        pkg = fetcher.load_package(pid)
        pkg = replace(pkg, summary=_relocate(pkg.summary, checkout.path, pid.source))
        spec = None
        for directory in (self.index_dir, self.cache_dir):
            if directory is None:
                continue
            known = load_git_info(directory, pid)
            if known is not None:
                spec = known[1]
                break
        if spec is None:
            spec = fetcher.fetch_spec(pid)
            try:
                store_git_info(self.cache_dir, pid, crate_info_from_package(pkg), spec)
            except OSError as exc:
                self.shell.warn(f"could not record git info in {self.cache_dir}: {exc}")
        self.git_packages[pid] = pkg
        self.git_specs[pid] = spec
        self.infos[pid] = crate_info_from_package(pkg)
        return pkg

    # -- provider ---------------------------------------------------------------------------
    def crate_info_for_graph(self, pid: PackageId) -> Any:
        """``graph_from_lockfile``'s ``crate_infos`` callback."""
        if pid.source.is_git():
            return self.load_git(pid)
        info = self.infos.get(pid)
        if info is None:
            self.load_registry([pid])
            info = self.infos[pid]
        return crate_facts(info)

    def provider(self) -> SourceProvider:
        def registry(pid: PackageId) -> tuple[str, str]:
            locked = self.lock.get(pid)
            if locked is None or not locked.checksum:
                raise NocargoError(f"`{pid.name} v{pid.version}` has no checksum in Cargo.lock;"
                                   " its download cannot be verified")
            url = self.registries.get(pid.source).dl_url(pid.name, pid.version, locked.checksum)
            return url, locked.checksum

        def git(pid: PackageId) -> GitFetchSpec:
            if pid not in self.git_specs:
                self.load_git(pid)
            return self.git_specs[pid]

        def info(pid: PackageId) -> CrateInfo:
            if pid not in self.infos:
                self.crate_info_for_graph(pid)
            return self.infos[pid]

        return SourceProvider(registry=registry, git=git, info=info)


def load_resolved_graph(ws, registries, options, shell: Shell, *, write_lock: bool = True,
                        cargo_src_paths: bool = False,
                        ) -> tuple[ResolvedGraph, SourceProvider | None]:
    """The resolved graph of ``ws`` and the source provider for its non-local packages
    (``None`` for a path-only workspace). ``cargo_src_paths``: registry packages' targets
    under cargo's unpack directory (``$CARGO_HOME/registry/src/…``), so that unit graphs
    compare with cargo's (``plan --unit-graph``)."""
    from ..resolve.git_source import GitSources
    from ..resolve.lockgen import ensure_lockfile, registry_loader

    git = GitSources(cache_root=registries.cache_root, offline=options.effective_offline,
                     shell=shell)
    lock = ensure_lockfile(ws, registry_loader(registries, git),
                           locked=options.effective_locked, config=registries.config,
                           write=write_lock, shell=shell)
    if is_path_only(ws):
        return graph_from_path_workspace(ws), None
    store = CrateInfoStore(lock, registries, index_dir=options.index_dir,
                           offline=options.effective_offline, shell=shell)
    local = {p.package_id for p in ws.packages}
    store.load_registry([p.id for p in lock.packages
                         if p.source.is_registry() and p.id not in local])
    # the index files the resolve did not read from the cache, together (cached ones are
    # not asked for again: an up-to-date lock with a warm cache sends no request at all)
    registries.prefetch_locked(p.id for p in lock.packages if p.source.is_registry())
    def at_cargo_paths(pid: PackageId) -> Any:
        facts = store.crate_info_for_graph(pid)
        if pid.source.is_registry():
            return CrateInfoTargets.from_crate_info(facts.info, pid)
        return facts

    crate_info = at_cargo_paths if cargo_src_paths else store.crate_info_for_graph
    graph = graph_from_lockfile(ws, lock, registries.locked_summary, crate_info)
    return graph, store.provider()
