"""Which index serves which source: :class:`Registries`, and lockfile checksum checks.

Mapping rules (first match wins):

1. a provider registered explicitly (:meth:`Registries.register`; tests, fakes);
2. crates.io (``registry+https://github.com/rust-lang/crates.io-index`` or
   ``sparse+https://index.crates.io/``) with ``--index-dir DIR``: the vendored directory;
3. ``[source]`` replacement from ``.cargo/config.toml``: a ``sparse+`` registry, a
   ``local-registry`` (its ``index/`` dir) or crates.io itself; ``directory`` sources and
   git-protocol registries are refused with a clear error;
4. crates.io: the sparse index ``https://index.crates.io/``; ``sparse+`` URLs: that
   registry; other ``registry+`` (git protocol) URLs: refused (unsupported).

Summaries always carry the *original* source id (as cargo's replaced sources do), so the
lockfile's ids keep working under replacement.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ..config import CargoConfig, load_config
from ..errors import NocargoError
from ..shell import Shell
from ..source import PackageId, SourceId
from ..summary import Summary
from .cache import IndexCache, default_cache_root
from .directory import DirectoryIndex
from .http import HttpClient
from .sparse import CRATES_IO_DEFAULT_CONFIG, SparseIndex
from .types import ChecksumMismatch, IndexVersion, NoSuchVersion, OfflineMissing, RegistryIndex

if TYPE_CHECKING:  # pragma: no cover
    from ..cli import GlobalOptions
    from ..lockfile import Lockfile

__all__ = ["CRATES_IO_SPARSE_URL", "Registries", "find_version", "verify_lock_checksums"]

CRATES_IO_SPARSE_URL = "https://index.crates.io/"


class Registries:
    """Maps a :class:`SourceId` to the :class:`RegistryIndex` that serves it (one run)."""

    def __init__(self, *, config: CargoConfig | None = None, index_dir: Path | None = None,
                 cache_root: Path | None = None, offline: bool = False,
                 shell: Shell | None = None, client: HttpClient | None = None,
                 crates_io_url: str = CRATES_IO_SPARSE_URL) -> None:
        self.config = config
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.cache_root = cache_root if cache_root is not None else default_cache_root()
        self.offline = offline
        self.shell = shell or Shell(verbosity=-1)
        self._client = client
        self.crates_io_url = crates_io_url
        self._indexes: dict[SourceId, RegistryIndex] = {}
        self._cached_view: Registries | None = None

    @classmethod
    def from_options(cls, options: "GlobalOptions", shell: Shell, *, cwd: Path | None = None,
                     config: CargoConfig | None = None) -> "Registries":
        """Build from the CLI's global flags (``--index-dir``, ``--offline``/``--frozen``,
        ``--cache-dir``) and the cargo config seen from ``cwd``."""
        if config is None:
            config = load_config(cwd, shell=shell)
        return cls(config=config, index_dir=options.index_dir,
                   cache_root=default_cache_root(options.cache_dir),
                   offline=options.effective_offline or config.net_offline(), shell=shell)

    # -- providers -----------------------------------------------------------------------
    def register(self, source: SourceId, index: RegistryIndex) -> None:
        """Serve ``source`` from ``index`` (overrides every other rule)."""
        self._indexes[_key(source)] = index

    def client(self) -> HttpClient:
        """The shared HTTP client (created on first use)."""
        if self._client is None:
            retries = self.config.net_retry() if self.config else 3
            timeout = self.config.http_timeout() if self.config else 30
            self._client = HttpClient(retries=retries, timeout=float(timeout))
        return self._client

    def get(self, source: SourceId) -> RegistryIndex:
        """The provider for ``source`` (created on first use)."""
        key = _key(source)
        index = self._indexes.get(key)
        if index is None:
            index = self._create(key)
            self._indexes[key] = index
        return index

    def _create(self, source: SourceId) -> RegistryIndex:
        if not source.is_registry():
            raise NocargoError(f"`{source}` is not a registry source; it has no index")
        if source.is_crates_io() and self.index_dir is not None:
            return DirectoryIndex(self.index_dir, source)
        replacement = self.config.source_replacement(source) if self.config else None
        if replacement is not None:
            if replacement.kind == "local-registry":
                return DirectoryIndex(Path(replacement.location) / "index", source)
            if replacement.kind == "registry":
                target = SourceId.for_registry(replacement.location)
                if target.is_crates_io():
                    if self.index_dir is not None:
                        return DirectoryIndex(self.index_dir, source)
                    return self._sparse(source, self.crates_io_url, target,
                                        label=f"`{replacement.name}` index")
                if target.url.startswith("sparse+"):
                    return self._sparse(source, target.url.removeprefix("sparse+"), target,
                                        label=f"`{replacement.name}` index")
                raise NocargoError(
                    f"source `{source}` is replaced with `{replacement.name}` "
                    f"(`{replacement.location}`), a git-protocol registry, which nocargo-py "
                    "does not support",
                    notes=[f"configured in {replacement.definition}" if replacement.definition
                           else "configured in .cargo/config.toml",
                           "use a sparse registry (`sparse+https://…`) or a local-registry"])
            raise NocargoError(
                f"source `{source}` is replaced with `{replacement.name}`, a `{replacement.kind}`"
                " source, which nocargo-py cannot read index data from",
                notes=[f"configured in {replacement.definition}" if replacement.definition
                       else "configured in .cargo/config.toml",
                       "use a sparse registry, a local-registry, or `--index-dir` with a "
                       "vendored index (`nocargo-py index vendor`)"])
        if source.is_crates_io():
            return self._sparse(source, self.crates_io_url, SourceId.crates_io())
        if source.url.startswith("sparse+"):
            return self._sparse(source, source.url.removeprefix("sparse+"), source)
        raise NocargoError(
            f"registry `{source.url}` uses the git protocol, which nocargo-py does not support",
            notes=["configure it as a sparse registry (`sparse+https://…`), or replace it "
                   "with a sparse or local registry in .cargo/config.toml `[source]`"])

    def _sparse(self, source: SourceId, url: str, fetched: SourceId, *,
                label: str | None = None) -> SparseIndex:
        cache = IndexCache(self.cache_root, "sparse+" + url)
        token = self.config.token(fetched) if self.config else None
        return SparseIndex(source, url, cache=cache,
                           client=None if self.offline else self.client(),
                           offline=self.offline, token=token, shell=self.shell,
                           default_config=CRATES_IO_DEFAULT_CONFIG if fetched.is_crates_io()
                           else None, label=label or self._label(fetched))

    def _label(self, fetched: SourceId) -> str:
        if fetched.is_crates_io():
            return "crates.io index"
        name = self.config.registry_name_for(fetched) if self.config else None
        return f"`{name}` index" if name else f"`{fetched.url.removeprefix('sparse+')}` index"

    # -- conveniences -----------------------------------------------------------------------
    def versions(self, name: str, source: SourceId, *,
                 required_by: str | None = None) -> Sequence[IndexVersion]:
        """``get(source).versions(name, required_by=…)``."""
        return self.get(source).versions(name, required_by=required_by)

    def summary(self, package_id: PackageId) -> Summary:
        """The index summary of a registry package id."""
        return self.get(package_id.source).summary(package_id.name, package_id.version)

    # -- locked packages: the cache first (cargo's lazy update) -------------------------------
    def cached_view(self) -> Registries | None:
        """These registries read from the on-disk cache only, never the network; ``None``
        when this object uses no network anyway (offline, ``--index-dir``). A locked
        version the cache lists is taken from there, as cargo does without an update."""
        if self.offline or self.index_dir is not None:
            return None
        if self._cached_view is None:
            self._cached_view = Registries(config=self.config, cache_root=self.cache_root,
                                           offline=True, shell=self.shell)
        return self._cached_view

    def _cached_index(self, package_id: PackageId) -> RegistryIndex | None:
        """The cached index of ``package_id``'s registry if it lists that version."""
        view = self.cached_view()
        if view is None:
            return None
        try:
            index = view.get(package_id.source)
            if index.version(package_id.name, package_id.version) is not None:
                return index
        except NocargoError:  # not cached (OfflineMissing), no such crate, unreadable
            pass
        return None

    def locked_summary(self, package_id: PackageId) -> Summary:
        """The summary of a locked registry package: from the cache when it lists that
        version (no request), else from the registry."""
        index = self._cached_index(package_id)
        if index is not None:
            return index.summary(package_id.name, package_id.version)
        return self.summary(package_id)

    def prefetch_locked(self, ids: Iterable[PackageId]) -> None:
        """:meth:`prefetch_packages` for the locked packages the cache cannot answer."""
        self.prefetch_packages(pid for pid in ids
                               if pid.source.is_registry() and self._cached_index(pid) is None)

    def prefetch_packages(self, ids: Iterable[PackageId]) -> None:
        """Load the index files of all registry packages in ``ids``, every registry in turn;
        offline, one :class:`OfflineMissing` lists every missing crate of every registry."""
        by_source: dict[SourceId, set[str]] = {}
        for pid in ids:
            if pid.source.is_registry():
                by_source.setdefault(_key(pid.source), set()).add(pid.name)
        missing: list[OfflineMissing] = []
        for source in sorted(by_source, key=lambda s: s.to_lock_string()):
            try:
                self.get(source).prefetch(sorted(by_source[source]))
            except OfflineMissing as exc:
                missing.append(exc)
        if len(missing) == 1:
            raise missing[0]
        if missing:
            names = [f"{n} ({m.source})" for m in missing for n in m.names]
            raise OfflineMissing(names, missing[0].source,
                                 where="; ".join(m.notes[0].removeprefix("looked in: ")
                                                 for m in missing))

    def close(self) -> None:
        """Release network connections."""
        if self._client is not None:
            self._client.close()


def _key(source: SourceId) -> SourceId:
    return source.canonical()


def find_version(index: RegistryIndex, name: str, version: str) -> IndexVersion | None:
    """The listed entry of ``name`` ``version`` in ``index`` (exact version string).

    Uses the provider's ``version(name, version)`` look-up when it has one (``FileIndex``:
    scans one line instead of all of them)."""
    lookup = getattr(index, "version", None)
    if callable(lookup):
        return lookup(name, version)
    for iv in index.versions(name):
        if iv.version == version:
            return iv
    return None


def verify_lock_checksums(lock: "Lockfile", registries: Registries, *,
                          lock_path: str | None = None) -> None:
    """Check every registry package's ``Cargo.lock`` checksum against the index ``cksum``.

    A mismatch (or a checksum present on one side only) raises :class:`ChecksumMismatch`
    naming the crate — a tampered index or lockfile is never accepted silently. Index
    files are prefetched first, so offline every missing crate is listed at once.
    """
    pkgs = [p for p in lock.packages if p.source.is_registry()]
    registries.prefetch_packages(p.id for p in pkgs)
    for pkg in pkgs:
        index = registries.get(pkg.source)
        iv = find_version(index, pkg.name, pkg.version)
        if iv is None:
            raise NoSuchVersion(pkg.name, pkg.version, pkg.source,
                                required_by=f"`{lock_path or 'Cargo.lock'}`",
                                partial=not index.is_complete(pkg.name))
        if pkg.checksum is None and iv.cksum is None:
            continue
        if pkg.checksum is None:
            raise NocargoError(
                f"checksum for `{pkg.name} v{pkg.version}` was not previously calculated, "
                "but a checksum could now be calculated",
                notes=["this could be indicative of either a tampered lock file or "
                       "registry index; refusing to continue"])
        if pkg.checksum != iv.cksum:
            raise ChecksumMismatch(pkg.name, pkg.version, pkg.checksum, iv.cksum, lock_path)
