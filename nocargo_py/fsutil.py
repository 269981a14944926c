"""Replacing a file atomically: the one way every command and cache writes a whole file."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Write ``data`` (text as UTF-8, line ends as given) to ``path`` through a new file in
    the same directory renamed over it: readers see the old content or the new, never a
    part, and the temporary file never stays behind. The file gets the permissions a plain
    write would give it (the umask's), or ``mode``. Raises :class:`OSError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
