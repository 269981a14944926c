"""The on-disk index cache: atomic, locked, self-checking.

Layout: ``<cache root>/index/<registry dir>/<index path>`` where the registry dir is
``<host>-<16 hex of sha256(source url)>`` and the index path is the sparse layout
(``se/rd/serde``; ``config.json`` for the registry config). The cache root is
``--cache-dir``, else ``$NOCARGO_PY_CACHE_DIR``, else platformdirs' user cache dir for
``nocargo-py``.

Each entry is one file::

    nocargo-index-cache 1\\n
    {"etag": …, "last_modified": …, "status": 200, "sha256": …, "length": …, "url": …}\\n
    <body bytes>

Writes go to ``.tmp/`` inside the registry dir and are renamed into place
(``os.replace``), while holding the registry's :class:`filelock.FileLock` — so readers
never see half a file, and any file left in ``.tmp/`` is stale (a killed writer) and is
removed by the next writer. Every read checks the header, length and sha256 of the body;
a corrupted entry is reported as absent (and refetched), never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from ..errors import NocargoError
from ..source import SourceId

if TYPE_CHECKING:  # pragma: no cover
    import filelock

__all__ = ["CacheEntry", "IndexCache", "default_cache_root", "registry_dir_name"]

_MAGIC = b"nocargo-index-cache 1\n"
CACHE_ENV = "NOCARGO_PY_CACHE_DIR"


def default_cache_root(explicit: Path | None = None,
                       env: Mapping[str, str] | None = None) -> Path:
    """``explicit`` (``--cache-dir``), else ``$NOCARGO_PY_CACHE_DIR``, else the user cache dir."""
    if explicit is not None:
        return Path(explicit).absolute()
    env = os.environ if env is None else env
    from_env = env.get(CACHE_ENV)
    if from_env:
        return Path(from_env).absolute()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nocargo-py", appauthor=False))


def registry_dir_name(source: SourceId | str) -> str:
    """``index.crates.io-1a2b3c4d5e6f7a8b``: host plus a hash of the registry's URL."""
    url = source if isinstance(source, str) else source.to_lock_string()
    host = urlsplit(url.removeprefix("sparse+").removeprefix("registry+")).hostname or "local"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return f"{host}-{digest}"


@dataclass(frozen=True)
class CacheEntry:
    """One cached HTTP answer: ``status`` 200 (``body`` is the file) or 404 (no such crate)."""

    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    url: str | None = None

    @property
    def found(self) -> bool:
        return self.status == 200


class IndexCache:
    """The cache directory of one registry (thread-safe, multi-process-safe)."""

    def __init__(self, root: Path, source: SourceId | str) -> None:
        self.dir = Path(root) / "index" / registry_dir_name(source)
        self._tmp = self.dir / ".tmp"
        self._lock_path = self.dir / ".lock"
        self._thread_lock = threading.Lock()
        self._file_lock: filelock.FileLock | None = None
        self._cleaned = False
        self.corrupt: list[str] = []  # relative paths found corrupted during this run

    def path(self, rel: str) -> Path:
        """Where the entry for index path ``rel`` lives."""
        return self.dir / rel

    def read(self, rel: str) -> CacheEntry | None:
        """The verified entry for ``rel``, or ``None`` (absent or corrupted)."""
        path = self.path(rel)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise NocargoError(f"failed to read index cache file `{path}`: "
                               f"{exc.strerror or exc}") from None
        entry = _decode(raw)
        if entry is None:
            self.corrupt.append(rel)
        return entry

    def write(self, rel: str, entry: CacheEntry) -> None:
        """Atomically store ``entry`` for ``rel`` (temp file + rename, under the lock)."""
        import uuid

        data = _encode(entry)
        target = self.path(rel)
        try:
            with self._locked():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._tmp / f"{os.getpid()}-{uuid.uuid4().hex}"
                with open(tmp, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
        except OSError as exc:
            raise NocargoError(f"failed to write index cache file `{target}`: "
                               f"{exc.strerror or exc}",
                               notes=["use --cache-dir or $NOCARGO_PY_CACHE_DIR to choose "
                                      "another cache directory"]) from None

    def _locked(self) -> "_Both":
        self._tmp.mkdir(parents=True, exist_ok=True)
        if self._file_lock is None:
            import filelock

            self._file_lock = filelock.FileLock(str(self._lock_path), thread_local=False)
        return _Both(self)


class _Both:
    """Thread lock + file lock; the first acquisition also removes stale temp files."""

    def __init__(self, cache: IndexCache) -> None:
        self.cache = cache

    def __enter__(self) -> None:
        import filelock

        self.cache._thread_lock.acquire()
        try:
            assert self.cache._file_lock is not None
            self.cache._file_lock.acquire(timeout=600)
        except filelock.Timeout:
            self.cache._thread_lock.release()
            raise NocargoError(f"timed out after 600 s waiting for the index cache lock "
                               f"`{self.cache._lock_path}` (held by another nocargo-py run)"
                               ) from None
        except BaseException:
            self.cache._thread_lock.release()
            raise
        if not self.cache._cleaned:
            self.cache._cleaned = True
            # Holding the lock: no other writer is between creating and renaming a temp
            # file, so whatever is in .tmp/ was left by a killed process.
            for stale in self.cache._tmp.iterdir():
                try:
                    stale.unlink()
                except OSError:
                    pass

    def __exit__(self, *exc: object) -> None:
        assert self.cache._file_lock is not None
        self.cache._file_lock.release()
        self.cache._thread_lock.release()


def _encode(entry: CacheEntry) -> bytes:
    header = {
        "status": entry.status,
        "etag": entry.etag,
        "last_modified": entry.last_modified,
        "url": entry.url,
        "length": len(entry.body),
        "sha256": hashlib.sha256(entry.body).hexdigest(),
    }
    return _MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + entry.body


def _decode(raw: bytes) -> CacheEntry | None:
    if not raw.startswith(_MAGIC):
        return None
    rest = raw[len(_MAGIC):]
    header_raw, nl, body = rest.partition(b"\n")
    if not nl:
        return None
    try:
        header = json.loads(header_raw)
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    if header.get("length") != len(body) or \
            header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None
    status = header.get("status")
    if status not in (200, 404):
        return None
    etag, lm, url = header.get("etag"), header.get("last_modified"), header.get("url")
    return CacheEntry(status=status, body=body,
                      etag=etag if isinstance(etag, str) else None,
                      last_modified=lm if isinstance(lm, str) else None,
                      url=url if isinstance(url, str) else None)
