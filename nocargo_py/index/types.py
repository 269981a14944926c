"""The index provider seam: :class:`IndexVersion`, :class:`RegistryIndex` and index errors.

Everything that reads registry index data (feature resolver, version resolver, planner)
talks to a :class:`RegistryIndex`; the live sparse index, a vendored directory and the
in-memory fake used by tests all implement it, so they are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence, runtime_checkable

from ..errors import NocargoError
from ..source import SourceId
from ..summary import Summary

__all__ = [
    "ChecksumMismatch",
    "IndexFetchError",
    "IndexVersion",
    "NoSuchCrate",
    "NoSuchVersion",
    "OfflineMissing",
    "RegistryIndex",
    "INDEX_V_MAX",
]

INDEX_V_MAX = 2
"""Highest index schema version (``v``) understood; lines above it are ignored, as cargo does."""


@dataclass(frozen=True)
class IndexVersion:
    """One published version as listed in an index file (cheap to build: no deps decoded).

    ``version`` is the ``vers`` string exactly as written; ``name`` the JSON ``name`` (original
    case, which may differ from the lower-cased file name). ``cksum`` is the sha256 of the
    ``.crate`` file, ``v`` the entry's schema version (1 when absent).
    """

    name: str
    version: str
    yanked: bool
    cksum: str | None
    links: str | None = None
    rust_version: str | None = None
    v: int = 1


@runtime_checkable
class RegistryIndex(Protocol):
    """Read access to one registry's index (crates.io, another sparse registry, a vendored dir).

    * :meth:`versions` — all usable published versions of one crate in publication order
      (lines with ``v`` > 2 and lines that are not valid JSON are left out, as cargo does).
      Raises :class:`NoSuchCrate` if the registry has no such crate; ``required_by`` (e.g.
      ``"package `foo v0.1.0`"``) is put into that error so it names who asked.
      Cost: the first call per name loads one file (network or disk); later calls are
      dictionary look-ups. Only ``vers``/``yanked``/``cksum``/``v``/``links``/
      ``rust_version`` are extracted; the rest of each line stays undecoded.
    * :meth:`summary` — one version in full (JSON-decoded on first use, then memoised).
      Raises :class:`NoSuchVersion` if the crate exists but that version is not listed.
    * :meth:`prefetch` — load many files concurrently (a no-op for local data). Offline,
      raises :class:`OfflineMissing` listing *every* crate that is not available.
    * :meth:`dl_url` — where the ``.crate`` file of a version is downloaded from.
    * :meth:`is_complete` — False when the file holds only some versions (a ``--locked-only``
      vendored entry): enough to plan a lock, not to resolve versions.
    """

    source_id: SourceId

    def versions(self, name: str, *, required_by: str | None = None) -> Sequence[IndexVersion]:
        ...

    def summary(self, name: str, version: str) -> Summary:
        ...

    def prefetch(self, names: Iterable[str]) -> None:
        ...

    def dl_url(self, name: str, version: str, cksum: str | None = None) -> str:
        ...

    def is_complete(self, name: str) -> bool:
        ...


class NoSuchCrate(NocargoError):
    """The registry has no crate of this name (HTTP 404/410/451, or no file in a vendored dir)."""

    def __init__(self, name: str, source: SourceId, *, required_by: str | None = None,
                 where: str | None = None) -> None:
        notes = [f"location searched: {where or _describe(source)}"]
        if required_by:
            notes.append(f"required by {required_by}")
        super().__init__(f"no matching package named `{name}` found", notes=notes)
        self.name = name
        self.source = source
        self.required_by = required_by


class NoSuchVersion(NocargoError):
    """The crate exists but the index does not list this version."""

    def __init__(self, name: str, version: str, source: SourceId, *,
                 required_by: str | None = None, partial: bool = False) -> None:
        notes = [f"location searched: {_describe(source)}"]
        if partial:
            notes.append("note: this index entry is partial (vendored with --locked-only); "
                         "re-vendor the whole file to see every version")
        if required_by:
            notes.append(f"required by {required_by}")
        super().__init__(f"version `{version}` of package `{name}` is not in the index",
                         notes=notes)
        self.name = name
        self.version = version
        self.source = source


class OfflineMissing(NocargoError):
    """Offline (or vendored) index data lacks some crates; lists every one of them."""

    def __init__(self, names: Iterable[str], source: SourceId, *, where: str) -> None:
        missing = sorted(set(names))
        shown = ", ".join(f"`{n}`" for n in missing)
        super().__init__(
            f"{len(missing)} crate(s) of {_describe(source)} not available offline: {shown}",
            notes=[f"looked in: {where}",
                   "run without --offline to fetch them, or vendor them with "
                   "`nocargo-py index vendor`"],
        )
        self.names = tuple(missing)
        self.source = source


class IndexFetchError(NocargoError):
    """A network fetch of an index file failed for good (after retries)."""


class ChecksumMismatch(NocargoError):
    """The index ``cksum`` of a locked version differs from the checksum in ``Cargo.lock``."""

    def __init__(self, name: str, version: str, locked: str, index: str | None,
                 lock_path: str | None = None) -> None:
        where = f" in `{lock_path}`" if lock_path else ""
        super().__init__(
            f"checksum for `{name} v{version}` changed between lock files: the index says "
            f"`{index}`, but `Cargo.lock`{where} says `{locked}`",
            notes=["this could be indicative of either a tampered lock file or registry "
                   "index; refusing to continue"],
        )
        self.name = name
        self.version = version


def _describe(source: SourceId) -> str:
    if source.is_crates_io():
        return "crates.io index"
    return f"registry `{source.to_lock_string()}`"
