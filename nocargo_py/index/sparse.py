"""A sparse registry over HTTP (crates.io's ``https://index.crates.io/`` or any ``sparse+``).

Per file, per run (cargo's ``HttpRegistry``):

* online: send a conditional request when the cache has a validator (``If-None-Match``
  with the stored ``ETag``, preferred, else ``If-Modified-Since`` with ``Last-Modified``);
  200 → store and use the body; 304 → use the cache; 404/410/451 → the crate does not
  exist (remembered in the cache as such); 401 → retry once with the registry's token, if
  any; anything else → :class:`IndexFetchError` naming the URL and status.
* offline: use whatever the cache holds; missing files are collected and reported
  together by :meth:`SparseIndex.prefetch` (:class:`OfflineMissing`).

``config.json`` is fetched first (once per run) for ``dl``/``auth-required``; with
``auth-required`` every request carries the token. A run that fetches no index file (an
up-to-date lock, every locked version in the cache: see ``Registries.cached_view``) reads
the cached ``config.json`` instead and sends nothing, as cargo does when no update was
requested. Tokens go only to this registry's
index host (requests drops ``Authorization`` on cross-host redirects).
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable

from ..config import Secret
from ..errors import NocargoError
from ..shell import Shell
from ..source import SourceId
from .base import FileIndex
from .cache import CacheEntry, IndexCache
from .http import HttpClient, HttpResponse
from .layout import RegistryConfig, index_path
from .lines import IndexFile
from .types import IndexFetchError, OfflineMissing

__all__ = ["CRATES_IO_DEFAULT_CONFIG", "SparseIndex"]

# crates.io's config.json as published at index.crates.io (used offline when not cached).
CRATES_IO_DEFAULT_CONFIG = RegistryConfig(dl="https://static.crates.io/crates",
                                          api="https://crates.io")
_NOT_FOUND = {404, 410, 451}
PROGRESS_THRESHOLD = 8


class SparseIndex(FileIndex):
    """:class:`~nocargo_py.index.types.RegistryIndex` for one sparse registry.

    ``url`` is the index root (``https://index.crates.io/``, no ``sparse+``);
    ``source_id`` what summaries carry (crates.io's lockfile id for crates.io, or the
    *replaced* source's id under source replacement). ``client=None`` or ``offline=True``
    means no network. ``workers`` bounds concurrent fetches in :meth:`prefetch`.
    ``label`` names the registry in the ``Updating … index`` status line (cargo's wording).
    """

    def __init__(self, source_id: SourceId, url: str, *, cache: IndexCache,
                 client: HttpClient | None, offline: bool = False,
                 token: Secret | None = None, shell: Shell | None = None,
                 workers: int = 16, default_config: RegistryConfig | None = None,
                 label: str | None = None) -> None:
        super().__init__(source_id)
        self.label = label or ("crates.io index" if source_id.is_crates_io()
                               else f"`{url}` index")
        self.url = url if url.endswith("/") else url + "/"
        self.cache = cache
        self.client = None if offline else client
        self.offline = offline or client is None
        self.token = token
        self.shell = shell or Shell(verbosity=-1)
        self.workers = max(1, workers)
        self._default_config = default_config
        self._cfg: RegistryConfig | None = None
        self._cfg_from_cache = False
        self._update_requested = False
        self._cfg_lock = threading.Lock()
        self.fetch_log: list[tuple[str, int]] = []  # (index path, HTTP status) of this run

    def _where(self) -> str:
        return self.url

    # -- config.json --------------------------------------------------------------------
    def _config(self) -> RegistryConfig:
        with self._cfg_lock:
            if self._cfg is None:
                self._cfg = self._load_config()
            return self._cfg

    def _load_config(self) -> RegistryConfig:
        if not self.offline and not self._update_requested:
            # cargo's `config_cached`: while nothing asked for an update (every file so
            # far came from the cache, as for an up-to-date lock), the cached copy serves
            cached = self.cache.read("config.json")
            if cached is not None and cached.found:
                try:
                    config = RegistryConfig.parse(cached.body, f"{self.url}config.json")
                except NocargoError:
                    pass  # a damaged copy: fetched again below
                else:
                    self._cfg_from_cache = True
                    return config
        if not self.offline:
            self.shell.status("Updating", self.label)
        body = self._fetch("config.json", what="the registry's config.json")
        if body is None:
            if self._default_config is not None:
                return self._default_config
            if self.offline:
                raise OfflineMissing(["config.json"], self.source_id, where=str(self.cache.dir))
            raise NocargoError(f"the registry at `{self.url}` has no config.json")
        return RegistryConfig.parse(body, f"{self.url}config.json")

    def _auth_required(self) -> bool:
        try:
            return self._config().auth_required
        except OfflineMissing:
            return False

    # -- one file -----------------------------------------------------------------------
    def _request_update(self) -> None:
        """cargo's ``invalidate_cache``: from now on files are checked with the server, and
        a ``config.json`` read from the cache is fetched again."""
        with self._cfg_lock:
            if not self._update_requested:
                self._update_requested = True
                if self._cfg_from_cache:
                    self._cfg, self._cfg_from_cache = None, False

    def _load(self, name: str) -> IndexFile | None:
        rel = index_path(name)
        # Make sure `auth-required` is known before the first crate request (cargo does).
        if not self.offline and rel != "config.json":
            self._request_update()
            self._config()
        body = self._fetch(rel, what=f"the index file of `{name}`")
        if body is None:
            return None
        return IndexFile(name, body, self.source_id, where=f"{self.url}{rel}")

    def _fetch(self, rel: str, *, what: str) -> bytes | None:
        """The body of ``rel`` (fresh or revalidated), or ``None`` if it does not exist.

        Offline and not cached: raises :class:`OfflineMissing` for that one file.
        """
        cached = self.cache.read(rel)
        if self.offline or self.client is None:
            if cached is None:
                raise OfflineMissing([_crate_of(rel)], self.source_id, where=str(self.cache.dir))
            return cached.body if cached.found else None
        headers: dict[str, str] = {}
        # Like cargo, config.json is always fetched in full; index files conditionally.
        if cached is not None and cached.found and rel != "config.json":
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            elif cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        url = self.url + rel
        send_token = self.token is not None and rel != "config.json" and self._auth_required()
        resp = self._get(url, headers, send_token)
        if resp.status == 401 and self.token is not None and not send_token:
            resp = self._get(url, headers, True)
        self.fetch_log.append((rel, resp.status))
        if resp.status == 304 and cached is not None and cached.found:
            return cached.body
        if resp.status == 200:
            entry = CacheEntry(200, resp.body, etag=resp.headers.get("etag"),
                               last_modified=resp.headers.get("last-modified"), url=url)
            self.cache.write(rel, entry)
            return resp.body
        if resp.status in _NOT_FOUND:
            self.cache.write(rel, CacheEntry(404, b"", url=url))
            return None
        if resp.status == 401:
            hint = ("no token is configured for this registry (`CARGO_REGISTRIES_<NAME>_TOKEN`"
                    " or credentials.toml)") if self.token is None else "the token was refused"
            raise IndexFetchError(f"failed to fetch {what} from `{url}`: authentication "
                                  "required (401)", notes=[hint])
        if resp.status == 304:
            # 304 without a cached body (the cache was removed meanwhile): fetch again plainly.
            resp = self._get(url, {}, send_token)
            if resp.status == 200:
                entry = CacheEntry(200, resp.body, etag=resp.headers.get("etag"),
                                   last_modified=resp.headers.get("last-modified"), url=url)
                self.cache.write(rel, entry)
                return resp.body
        snippet = resp.body[:200].decode("utf-8", "replace").strip()
        notes = [f"body: {snippet}"] if snippet else []
        raise IndexFetchError(f"failed to fetch {what} from `{url}`: got HTTP "
                              f"{resp.status}", notes=notes)

    def _get(self, url: str, headers: dict[str, str], with_token: bool) -> HttpResponse:
        assert self.client is not None
        if with_token and self.token is not None:
            headers = {**headers, "Authorization": self.token.reveal()}
        return self.client.get(url, headers)

    # -- many files -----------------------------------------------------------------------
    def prefetch(self, names: Iterable[str]) -> None:
        """Load every named file, concurrently (bounded thread pool, tqdm bar on a TTY).

        Names that do not exist are remembered as such (``versions`` then raises
        :class:`NoSuchCrate`). Offline, every file missing from the cache is collected and
        reported at once. A network failure raises after the other fetches finished.
        """
        todo = sorted({n.lower(): n for n in names if n.lower() not in self._files}.values())
        if not todo:
            return
        if self.offline:
            missing = []
            for name in todo:
                try:
                    self._file(name)
                except OfflineMissing:
                    missing.append(name)
            if missing:
                raise OfflineMissing(missing, self.source_id, where=str(self.cache.dir))
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        self._request_update()
        self._config()
        errors: list[NocargoError] = []
        bar = _progress(self.shell, len(todo), self.url)
        with ThreadPoolExecutor(max_workers=min(self.workers, len(todo)),
                                thread_name_prefix="nocargo-index") as pool:
            futures = {pool.submit(self._load, name): name for name in todo}
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    loaded = fut.result()
                except NocargoError as exc:
                    errors.append(exc)
                else:
                    with self._lock:
                        self._files.setdefault(name.lower(), loaded)
                bar(1)
        bar(0, close=True)
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.notes = (*first.notes, f"({len(errors) - 1} more index file(s) failed "
                               "to download)")
            raise first


def _crate_of(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def _progress(shell: Shell, total: int, url: str) -> Callable[..., None]:
    """A tqdm bar on stderr when it is a TTY (not -q, not CI) and enough files are fetched."""
    if total < PROGRESS_THRESHOLD or not shell.is_tty():
        def noop(n: int, close: bool = False) -> None:
            return None
        return noop
    from tqdm import tqdm

    bar = tqdm(total=total, desc="Fetching index", unit="file", file=shell.stream,
               leave=False, dynamic_ncols=True)

    def update(n: int, close: bool = False) -> None:
        if n:
            bar.update(n)
        if close:
            bar.close()
    return update
