"""Registry index data: what ``Cargo.lock`` does not say about a registry crate.

The seam (resolvelib-style; fakes, vendored data and the live index are interchangeable)::

    class RegistryIndex(Protocol):          # one registry
        source_id: SourceId
        def versions(self, name, *, required_by=None) -> Sequence[IndexVersion]
        def summary(self, name, version) -> Summary
        def prefetch(self, names) -> None
        def dl_url(self, name, version, cksum=None) -> str
        def is_complete(self, name) -> bool

* :class:`IndexVersion` (``name``, ``version``, ``yanked``, ``cksum``, ``links``,
  ``rust_version``, ``v``) is cheap: lines are scanned, not JSON-decoded, until
  :meth:`summary` asks for one version. ``versions`` is in publication order and leaves out
  lines cargo ignores (``v`` > 2, not JSON, bad ``vers``).
* :meth:`summary` returns a :class:`~nocargo_py.summary.Summary`: dependencies with
  ``source`` = this registry unless the entry's ``registry`` names another; ``req`` as
  written; ``features`` + ``features2`` merged and built with
  ``build_feature_map(validate=False)``; renames: the index ``name`` is the key
  (``Dependency.rename``) and ``package`` the real name (``Dependency.name``).
  A line that cannot be decoded raises :class:`InvalidIndexEntry` — cargo treats such a
  version as not selectable; resolvers should skip it.
* Errors: :class:`NoSuchCrate` (pass ``required_by="package `foo v0.1.0`"`` so it says who
  asked), :class:`NoSuchVersion`, :class:`OfflineMissing` (lists *every* missing crate;
  raised by ``prefetch`` — call it with all names first), :class:`IndexFetchError`,
  :class:`ChecksumMismatch`.

Performance contract: ``versions``/``summary`` of a name not loaded yet fetch that one file
synchronously (one round trip online); call ``prefetch(names)`` with every name you will
need next (e.g. all dependencies of the summaries just selected) to fetch them
concurrently. ``FileIndex.version(name, version)`` looks up one version without scanning
the others (what checksum checks use).

Providers: :class:`SparseIndex` (HTTP + on-disk cache), :class:`DirectoryIndex` (a
vendored directory with the sparse layout, e.g. ``registry-cache/``, or a cargo
``local-registry``'s ``index/``), :class:`MemoryIndex` (tests).

:class:`Registries` maps a :class:`~nocargo_py.source.SourceId` to its provider, applying
``.cargo/config.toml`` source replacement, ``--index-dir``, ``--offline`` and
``--cache-dir``: build it with :meth:`Registries.from_options`. It also offers
``summary(package_id)``, ``versions(name, source)``, ``prefetch_packages(ids)`` and
:func:`verify_lock_checksums`; for locked packages, ``cached_view()`` (the same registries
read from the on-disk cache only), ``locked_summary(package_id)`` and
``prefetch_locked(ids)`` take a locked version from the cache when it lists it, without a
request, as cargo does while no update was asked for.
"""

from __future__ import annotations

from .base import FileIndex
from .cache import CacheEntry, IndexCache, default_cache_root
from .directory import DirectoryIndex
from .http import HttpClient
from .layout import RegistryConfig, dep_prefix, expand_dl, index_path
from .lines import IndexFile, InvalidIndexEntry, entry_to_summary
from .memory import MemoryIndex
from .registries import Registries, find_version, verify_lock_checksums
from .sparse import SparseIndex
from .types import (
    INDEX_V_MAX,
    ChecksumMismatch,
    IndexFetchError,
    IndexVersion,
    NoSuchCrate,
    NoSuchVersion,
    OfflineMissing,
    RegistryIndex,
)

__all__ = [
    "INDEX_V_MAX",
    "CacheEntry",
    "ChecksumMismatch",
    "DirectoryIndex",
    "FileIndex",
    "HttpClient",
    "IndexCache",
    "IndexFetchError",
    "IndexFile",
    "IndexVersion",
    "InvalidIndexEntry",
    "MemoryIndex",
    "NoSuchCrate",
    "NoSuchVersion",
    "OfflineMissing",
    "RegistryConfig",
    "Registries",
    "RegistryIndex",
    "SparseIndex",
    "default_cache_root",
    "dep_prefix",
    "entry_to_summary",
    "expand_dl",
    "find_version",
    "index_path",
    "verify_lock_checksums",
]
