"""Shared machinery of the index providers: per-name memo of loaded :class:`IndexFile`\\ s."""

from __future__ import annotations

import threading
from typing import Iterable, Sequence

from ..source import SourceId
from ..summary import Summary
from .layout import RegistryConfig
from .lines import IndexFile
from .types import IndexVersion, NoSuchCrate

__all__ = ["FileIndex"]


class FileIndex:
    """A :class:`~nocargo_py.index.types.RegistryIndex` built on a per-crate file loader.

    Subclasses implement :meth:`_load` (one crate's :class:`IndexFile`, or ``None`` if the
    registry has no such crate) and :meth:`_config`. Loaded files are memoised per
    lower-cased name for the life of the object (one run), as cargo does.
    """

    source_id: SourceId

    def __init__(self, source_id: SourceId) -> None:
        self.source_id = source_id
        self._files: dict[str, IndexFile | None] = {}
        self._lock = threading.Lock()

    # -- to implement ------------------------------------------------------------------
    def _load(self, name: str) -> IndexFile | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _config(self) -> RegistryConfig:  # pragma: no cover - abstract
        raise NotImplementedError

    def _where(self) -> str:
        return str(self.source_id)

    # -- RegistryIndex -------------------------------------------------------------------
    def _file(self, name: str, required_by: str | None = None) -> IndexFile:
        key = name.lower()
        if key not in self._files:
            loaded = self._load(name)
            with self._lock:
                self._files.setdefault(key, loaded)
        file = self._files[key]
        if file is None:
            raise NoSuchCrate(name, self.source_id, required_by=required_by)
        return file

    def file(self, name: str, *, required_by: str | None = None) -> IndexFile:
        """The loaded :class:`IndexFile` of ``name`` (raw bytes in ``.raw``)."""
        return self._file(name, required_by)

    def versions(self, name: str, *, required_by: str | None = None) -> Sequence[IndexVersion]:
        """All usable versions of ``name`` in publication order (see ``RegistryIndex``)."""
        return self._file(name, required_by).versions

    def version(self, name: str, version: str) -> IndexVersion | None:
        """The scanned entry of one version, or ``None`` if the file does not list it."""
        return self._file(name).get(version)

    def summary(self, name: str, version: str) -> Summary:
        """The full summary of ``name`` ``version``."""
        return self._file(name).summary(version)

    def prefetch(self, names: Iterable[str]) -> None:
        """Load every file (sequentially here; the sparse index overrides this)."""
        for name in names:
            try:
                self._file(name)
            except NoSuchCrate:
                pass

    def dl_url(self, name: str, version: str, cksum: str | None = None) -> str:
        """Download URL of the ``.crate`` file (from the registry's ``config.json``)."""
        return self._config().dl_url(name, version, cksum)

    def is_complete(self, name: str) -> bool:
        """False if the file lists only some versions (a ``--locked-only`` vendored file)."""
        return self._file(name).complete

    def loaded_files(self) -> dict[str, IndexFile]:
        """Files loaded so far, by lower-cased name (for vendoring and diagnostics)."""
        return {k: v for k, v in self._files.items() if v is not None}
