"""An in-memory :class:`~nocargo_py.index.types.RegistryIndex` for tests and fakes."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from ..source import SourceId
from .base import FileIndex
from .layout import RegistryConfig
from .lines import IndexFile

__all__ = ["MemoryIndex"]


class MemoryIndex(FileIndex):
    """Index data given as ``{name: [entry, ...]}`` where an entry is a dict (the JSON object
    of one line, ``name`` filled in when missing) or a raw ``bytes``/``str`` line.

    ``MemoryIndex({"foo": [{"vers": "1.0.0", "deps": []}]})`` is a one-crate registry.
    """

    def __init__(self, crates: Mapping[str, Iterable[Any]], *,
                 source_id: SourceId | None = None,
                 config: RegistryConfig | None = None) -> None:
        super().__init__(source_id or SourceId.crates_io())
        self._data: dict[str, bytes] = {}
        for name, entries in crates.items():
            lines = []
            for entry in entries:
                if isinstance(entry, dict):
                    obj = {"name": name, "deps": [], "cksum": "0" * 64, "features": {},
                           "yanked": False, **entry}
                    lines.append(json.dumps(obj, separators=(",", ":")).encode())
                else:
                    lines.append(entry.encode() if isinstance(entry, str) else entry)
            self._data[name.lower()] = b"\n".join(lines) + b"\n"
        self._cfg = config or RegistryConfig(dl="https://static.crates.io/crates")

    def _load(self, name: str) -> IndexFile | None:
        data = self._data.get(name.lower())
        if data is None:
            return None
        return IndexFile(name, data, self.source_id, where=f"memory index `{name}`")

    def _config(self) -> RegistryConfig:
        return self._cfg
