"""``nocargo-py index vendor``: copy the index files lock files need into a directory.

The output has the sparse layout (see :mod:`nocargo_py.index.directory`). Whole files are
written byte-for-byte as the registry served them. With ``locked_only`` a file keeps only
the lines of the locked versions (in index order) and its name is listed as partial in
``vendor.json``. Vendoring into an existing directory merges: a whole file always wins
over a partial one, and partial files gain the newly locked lines. Every locked checksum
is checked against the index first (:func:`verify_lock_checksums`). Only crates.io packages
are vendored (the directory stands for crates.io); others are reported and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import NocargoError
from ..fsutil import replace_file
from ..lockfile import Lockfile, parse_lockfile
from ..shell import Shell
from ..source import SourceId
from .base import FileIndex
from .directory import VENDOR_MANIFEST, read_partial_names
from .layout import index_path
from .lines import scan_line
from .registries import Registries, verify_lock_checksums

__all__ = ["CRATES_IO_CONFIG_JSON", "VendorReport", "vendor_lockfiles"]

# What https://index.crates.io/config.json says on crates.io itself; written into a
# vendored crates.io directory so that download URLs do not depend on a mirror in use.
CRATES_IO_CONFIG_JSON = b'{"dl":"https://static.crates.io/crates","api":"https://crates.io"}\n'


@dataclass(frozen=True)
class VendorReport:
    """What was written: ``files`` index files, ``whole`` of them complete, ``partial`` not."""

    files: int
    whole: int
    partial: int


def _read_lock(path: Path) -> Lockfile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NocargoError(f"failed to read `{path}`: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NocargoError(f"failed to read `{path}`: {exc}") from None
    return parse_lockfile(text, path)


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        replace_file(path, data)
    except OSError as exc:
        raise NocargoError(f"failed to write `{path}`: {exc.strerror or exc}") from None


def vendor_lockfiles(lockfiles: Sequence[Path], registries: Registries, out: Path, *,
                     locked_only: bool = False, shell: Shell | None = None) -> VendorReport:
    """Vendor the crates.io index files of every registry package in ``lockfiles``."""
    shell = shell or Shell(verbosity=-1)
    crates_io = SourceId.crates_io()
    locked: dict[str, set[str]] = {}   # lower name -> locked versions
    names: dict[str, str] = {}         # lower name -> name as locked
    skipped: set[str] = set()
    for path in lockfiles:
        lock = _read_lock(path)
        verify_lock_checksums(lock, registries, lock_path=str(path))
        for pkg in lock.packages:
            if not pkg.source.is_registry():
                continue
            if not pkg.source.is_crates_io():
                skipped.add(f"{pkg.name} v{pkg.version} ({pkg.source})")
                continue
            locked.setdefault(pkg.name.lower(), set()).add(pkg.version)
            names.setdefault(pkg.name.lower(), pkg.name)
    for item in sorted(skipped):
        shell.warn(f"not vendoring `{item}`: only crates.io packages are vendored")

    out.mkdir(parents=True, exist_ok=True)
    index = registries.get(crates_io)
    if not isinstance(index, FileIndex):
        raise NocargoError("cannot vendor from this index provider: it exposes no raw files")
    partial_before = read_partial_names(out)
    partial_after = set(partial_before)
    whole = part = 0
    for lower in sorted(locked):
        name = names[lower]
        rel = index_path(name)
        target = out / rel
        file = index.file(name)
        raw = file.raw
        if not locked_only and file.complete:
            _atomic_write(target, raw)
            partial_after.discard(lower)
            whole += 1
            continue
        if target.is_file() and lower not in partial_before:
            whole += 1  # a whole file already vendored beats locked-only lines
            continue
        keep = set(locked[lower])
        lines: dict[str, bytes] = {}
        if target.is_file() and lower in partial_before:
            for ln in target.read_bytes().split(b"\n"):
                iv = scan_line(ln)
                if iv is not None:
                    lines[iv.version] = ln.strip()
        order: list[str] = []
        for ln in raw.split(b"\n"):
            iv = scan_line(ln)
            if iv is None:
                continue
            order.append(iv.version)
            if iv.version in keep:
                lines[iv.version] = ln.strip()
        ordered = [v for v in order if v in lines] + sorted(v for v in lines if v not in order)
        _atomic_write(target, b"".join(lines[v] + b"\n" for v in ordered))
        partial_after.add(lower)
        part += 1

    if not (out / "config.json").is_file():
        _atomic_write(out / "config.json", CRATES_IO_CONFIG_JSON)
    manifest = {"partial": sorted(partial_after)} if partial_after else {"partial": []}
    _atomic_write(out / VENDOR_MANIFEST,
                  (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    return VendorReport(files=whole + part, whole=whole, partial=part)
