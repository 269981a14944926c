"""A vendored index: a directory with the sparse layout (``registry-cache/``, ``--index-dir``).

Layout::

    DIR/config.json            optional; crates.io's is assumed when absent
    DIR/se/rd/serde            index files, whole or partial
    DIR/vendor.json            optional: {"partial": ["name", ...]} — files vendored with
                               --locked-only (only the locked versions' lines)
    DIR/crate-info/            reserved for facts from .crate manifests (another module)

A cargo ``local-registry`` is read the same way from its ``index/`` subdirectory.
Nothing is fetched: a crate without a file is *not available* (:class:`OfflineMissing`),
since a vendored directory cannot tell "not vendored" from "does not exist".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from ..errors import NocargoError
from ..source import SourceId
from .base import FileIndex
from .layout import RegistryConfig, index_path
from .lines import IndexFile
from .types import OfflineMissing

__all__ = ["DirectoryIndex", "VENDOR_MANIFEST", "read_partial_names"]

VENDOR_MANIFEST = "vendor.json"


def read_partial_names(root: Path) -> set[str]:
    """Lower-cased names of the partial (``--locked-only``) files listed in ``vendor.json``."""
    path = root / VENDOR_MANIFEST
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NocargoError(f"invalid vendored index manifest `{path}`: {exc}") from None
    partial = data.get("partial", []) if isinstance(data, dict) else None
    if not isinstance(partial, list) or not all(isinstance(n, str) for n in partial):
        raise NocargoError(f"invalid vendored index manifest `{path}`: `partial` must be a "
                           "list of crate names")
    return {n.lower() for n in partial}


class DirectoryIndex(FileIndex):
    """:class:`~nocargo_py.index.types.RegistryIndex` over a vendored directory."""

    def __init__(self, root: Path | str, source_id: SourceId | None = None, *,
                 default_config: RegistryConfig | None = None) -> None:
        super().__init__(source_id or SourceId.crates_io())
        self.root = Path(root)
        if not self.root.is_dir():
            raise NocargoError(f"index directory `{self.root}` does not exist")
        self._partial = read_partial_names(self.root)
        self._default_config = default_config
        self._cfg: RegistryConfig | None = None

    def _where(self) -> str:
        return str(self.root)

    def _config(self) -> RegistryConfig:
        if self._cfg is None:
            path = self.root / "config.json"
            if path.is_file():
                self._cfg = RegistryConfig.parse(path.read_bytes(), str(path))
            elif self._default_config is not None or self.source_id.is_crates_io():
                from .sparse import CRATES_IO_DEFAULT_CONFIG
                self._cfg = self._default_config or CRATES_IO_DEFAULT_CONFIG
            else:
                raise NocargoError(f"index directory `{self.root}` has no config.json")
        return self._cfg

    def _load(self, name: str) -> IndexFile | None:
        rel = index_path(name)
        path = self.root / rel
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise OfflineMissing([name], self.source_id, where=str(self.root)) from None
        except OSError as exc:
            raise NocargoError(f"failed to read `{path}`: {exc.strerror or exc}") from None
        return IndexFile(name, data, self.source_id, complete=name.lower() not in self._partial,
                         where=str(path))

    def prefetch(self, names: Iterable[str]) -> None:
        """Check that every named file is present; list all missing ones at once."""
        missing = []
        for name in sorted(set(names)):
            try:
                self._file(name)
            except OfflineMissing:
                missing.append(name)
        if missing:
            raise OfflineMissing(missing, self.source_id, where=str(self.root))
