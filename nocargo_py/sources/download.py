"""``.crate`` downloads: registry ``dl`` URL -> verified file in the cache.

Layout: ``<cache root>/crates/<registry dir>/<name>-<version>.crate``, the registry dir
being the index cache's (``index.crates.io-<16 hex>``, see
:func:`nocargo_py.index.cache.registry_dir_name`); the cache root is ``--cache-dir``, else
``$NOCARGO_PY_CACHE_DIR``, else the user cache dir.

* Every file is checked against the sha256 from ``Cargo.lock`` — when downloaded (a
  mismatch is an error naming the crate and nothing is stored) and whenever it is read from
  the cache (a corrupted file is deleted and fetched again).
* Writes are atomic: the body goes to ``.tmp/<name>-<version>.crate.<random>.part`` and is
  renamed into place only after verification, under a per-crate
  :class:`filelock.FileLock` (``.locks/``), so concurrent processes never see half a file;
  parts left by a killed process are removed by the next writer of that crate.
* Downloads run in a bounded thread pool over one pooled ``requests`` session (the index
  developer's :class:`~nocargo_py.index.http.HttpClient`: retries, timeouts); all failures
  of a batch are reported together.
* ``offline``: nothing is fetched; missing crates are listed in one error.

Not supported yet: ``auth-required`` registries (no token is sent on downloads).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence


from ..errors import NocargoError
from ..index.cache import default_cache_root, registry_dir_name
from ..shell import Shell
from ..source import PackageId

if TYPE_CHECKING:  # pragma: no cover
    import filelock
    from ..index.http import HttpClient
    from ..index.registries import Registries
    from ..lockfile import Lockfile

__all__ = ["CrateDownloader", "CrateRequest", "crate_requests", "download_crates"]

_DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class CrateRequest:
    """One ``.crate`` to fetch: the registry package, its sha256 and its download URL."""

    package_id: PackageId
    checksum: str
    url: str

    @property
    def file_name(self) -> str:
        return f"{self.package_id.name}-{self.package_id.version}.crate"

    def describe(self) -> str:
        return f"`{self.package_id.name} v{self.package_id.version}`"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CrateDownloader:
    """Fetches ``.crate`` files into the cache (see the module docstring).

    ``client`` is shared across threads; ``max_workers`` bounds concurrent downloads.
    """

    def __init__(self, cache_root: Path | None = None, *, client: "HttpClient | None" = None,
                 offline: bool = False, shell: Shell | None = None,
                 max_workers: int = _DEFAULT_WORKERS) -> None:
        self.root = default_cache_root(cache_root) / "crates"
        self._client = client
        self.offline = offline
        self.shell = shell or Shell(verbosity=-1)
        self.max_workers = max(1, max_workers)

    def client(self) -> "HttpClient":
        if self._client is None:
            from ..index.http import HttpClient

            self._client = HttpClient(pool=self.max_workers)
        return self._client

    # -- paths -----------------------------------------------------------------------------
    def registry_dir(self, request: CrateRequest) -> Path:
        return self.root / registry_dir_name(request.package_id.source)

    def path(self, request: CrateRequest) -> Path:
        """Where the verified ``.crate`` of ``request`` lives (whether present or not)."""
        return self.registry_dir(request) / request.file_name

    def cached(self, request: CrateRequest) -> Path | None:
        """The cached file if present and intact (a corrupted one is deleted)."""
        path = self.path(request)
        if not path.is_file():
            return None
        if sha256_file(path) == request.checksum:
            return path
        with self._lock(request):
            if path.is_file() and sha256_file(path) != request.checksum:
                path.unlink()
        return None

    # -- fetching ----------------------------------------------------------------------------
    def fetch(self, request: CrateRequest) -> Path:
        """The verified ``.crate`` of ``request``, downloading it if needed."""
        found = self.cached(request)
        if found is not None:
            return found
        if self.offline:
            raise NocargoError(
                f"cannot download {request.describe()} in offline mode: it is not in the cache",
                notes=[f"looked for {self.path(request)}"])
        return self._download(request)

    def fetch_all(self, requests: Sequence[CrateRequest], *,
                  on_file: Callable[[PackageId, Path], None] | None = None,
                  ) -> dict[PackageId, Path]:
        """Fetch all ``requests`` (cache first, then a thread pool); one error lists every
        failure. ``on_file`` is called (in this thread) with each file as soon as it is
        there — cached files while the downloads run, the others as they finish — so that
        reading them overlaps the network; not after a download has failed."""
        result: dict[PackageId, Path] = {}
        missing: list[CrateRequest] = []
        for req in requests:
            found = self.cached(req)
            if found is not None:
                result[req.package_id] = found
            else:
                missing.append(req)
        if not missing:
            if on_file is not None:
                for pid, path in result.items():
                    on_file(pid, path)
            return result
        if self.offline:
            names = ", ".join(r.describe() for r in missing)
            raise NocargoError(
                f"cannot download {len(missing)} crate(s) in offline mode: {names}",
                notes=[f"the crate cache is {self.root}"])
        workers = min(self.max_workers, len(missing))
        errors: dict[int, NocargoError] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nocargo-dl") as pool:
            futures = {pool.submit(self._download, req): (i, req)
                       for i, req in enumerate(missing)}
            if on_file is not None:
                for pid, path in list(result.items()):
                    on_file(pid, path)
            for future in as_completed(futures):
                i, req = futures[future]
                try:
                    path = future.result()
                except NocargoError as err:
                    errors[i] = err
                    continue
                result[req.package_id] = path
                if on_file is not None and not errors:
                    on_file(req.package_id, path)
        if len(errors) == 1:
            raise next(iter(errors.values()))
        if errors:
            raise NocargoError(f"failed to download {len(errors)} crates",
                               notes=[errors[i].headline() for i in sorted(errors)])
        # in the order asked for (as_completed gave them in the order they finished)
        return {r.package_id: result[r.package_id] for r in requests}

    def _lock(self, request: CrateRequest) -> filelock.FileLock:
        locks = self.registry_dir(request) / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        import filelock

        return filelock.FileLock(str(locks / f"{request.file_name}.lock"))

    def _download(self, request: CrateRequest) -> Path:
        final = self.path(request)
        tmp_dir = self.registry_dir(request) / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(request):
            for stale in tmp_dir.glob(f"{request.file_name}.*.part"):
                stale.unlink(missing_ok=True)  # left by a killed writer of this crate
            if final.is_file() and sha256_file(final) == request.checksum:
                return final  # another process got it meanwhile
            part = tmp_dir / f"{request.file_name}.{uuid.uuid4().hex}.part"
            try:
                actual = self._stream_to(request, part)
                if actual != request.checksum:
                    raise NocargoError(
                        f"failed to verify the checksum of {request.describe()} downloaded from "
                        f"`{request.url}`",
                        notes=[f"expected (Cargo.lock): {request.checksum}",
                               f"got:                  {actual}"])
                os.replace(part, final)
            finally:
                part.unlink(missing_ok=True)
        self.shell.status("Downloaded", f"{request.package_id.name} v{request.package_id.version}")
        return final

    def _stream_to(self, request: CrateRequest, part: Path) -> str:
        """GET the crate into ``part`` (fsynced); returns the sha256 of what was written.

        Connection errors and 5xx answers are retried by the client's urllib3 policy; a body
        that breaks off is retried here. The body is read raw (no content decoding).
        """
        import requests
        import urllib3

        client = self.client()
        attempts = client.retries + 1
        problem = ""
        for attempt in range(attempts):
            try:
                resp = client.session.get(request.url, headers={"Accept-Encoding": "identity"},
                                          timeout=client.timeout, stream=True)
            except requests.exceptions.RequestException as exc:
                raise NocargoError(
                    f"failed to download {request.describe()} from `{request.url}`: "
                    f"{_reason(exc)}", notes=[f"gave up after {attempts} attempts"]) from None
            with resp:
                if resp.status_code != 200:
                    raise NocargoError(
                        f"failed to download {request.describe()} from `{request.url}`: "
                        f"HTTP status {resp.status_code}")
                digest = hashlib.sha256()
                try:
                    with open(part, "wb") as fh:
                        for chunk in resp.raw.stream(1 << 16, decode_content=False):
                            fh.write(chunk)
                            digest.update(chunk)
                        fh.flush()
                        os.fsync(fh.fileno())
                    return digest.hexdigest()
                except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException) as exc:
                    problem = f"the transfer broke off ({_reason(exc)})"
            part.unlink(missing_ok=True)
            if attempt + 1 < attempts:
                time.sleep(min(10.0, client.backoff * (2 ** attempt)))
        raise NocargoError(
            f"failed to download {request.describe()} from `{request.url}`: {problem}",
            notes=[f"gave up after {attempts} attempts"])


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "…"


def crate_requests(lock: "Lockfile", registries: "Registries", *,
                   packages: Iterable[PackageId] | None = None) -> list[CrateRequest]:
    """A :class:`CrateRequest` per registry package of ``lock`` (or of ``packages``).

    The URL comes from the registry's ``config.json`` ``dl`` template (through
    ``registries``, so source replacement applies). A registry package without a checksum
    in the lock file is an error: its download could not be verified.
    """
    wanted = None if packages is None else set(packages)
    out = []
    for pkg in lock.packages:
        if not pkg.source.is_registry() or (wanted is not None and pkg.id not in wanted):
            continue
        if pkg.checksum is None:
            raise NocargoError(
                f"`{pkg.name} v{pkg.version}` has no checksum in Cargo.lock; its download "
                "cannot be verified")
        url = registries.get(pkg.source).dl_url(pkg.name, pkg.version, pkg.checksum)
        out.append(CrateRequest(pkg.id, pkg.checksum, url))
    return out


def download_crates(lock: "Lockfile", registries: "Registries", *,
                    downloader: CrateDownloader | None = None,
                    packages: Iterable[PackageId] | None = None) -> dict[PackageId, Path]:
    """Download (or find in the cache) every registry crate of ``lock``; id -> ``.crate``."""
    if downloader is None:
        downloader = CrateDownloader(registries.cache_root, offline=registries.offline,
                                     shell=registries.shell)
    return downloader.fetch_all(crate_requests(lock, registries, packages=packages))
