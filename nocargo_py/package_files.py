"""What the manifest loader asks of a package's directory, on disk or inside a ``.crate``.

Target discovery (``targets.py``) and the manifest loader (``README`` detection) only ask
three things of a package's files: does a path exist, is it a regular file, and what does
a directory hold. :class:`DiskFiles` answers from the file system (workspace, path and git
packages); :class:`ArchiveFiles` answers from the member list of a ``.crate``, so that
reading a registry crate needs no unpacking (its sources are never read).

Paths are relative POSIX paths under the package root, as written in manifests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Protocol

__all__ = ["ArchiveFiles", "DiskFiles", "PackageFiles"]


class PackageFiles(Protocol):
    """The file questions asked while loading one package."""

    def exists(self, rel: str) -> bool:
        """Does ``rel`` exist (following symbolic links)?"""

    def is_file(self, rel: str) -> bool:
        """Is ``rel`` a regular file (following symbolic links)?"""

    def entries(self, rel: str) -> list[tuple[str, bool]]:
        """``(name, is_dir)`` of the entries of the directory ``rel`` (``is_dir`` not
        following links), sorted by name; ``[]`` when ``rel`` is not a readable directory."""


class DiskFiles:
    """The package's files on disk, under ``root``."""

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def is_file(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def entries(self, rel: str) -> list[tuple[str, bool]]:
        out = []
        try:
            with os.scandir(self.root / rel) as it:
                for entry in it:
                    try:
                        out.append((entry.name, entry.is_dir(follow_symlinks=False)))
                    except OSError:
                        continue
        except OSError:
            return []
        out.sort()
        return out


#: How many symbolic links one lookup may follow (the kernel's ``MAXSYMLINKS`` is 40).
_MAX_LINKS = 40

_FILE, _DIR, _LINK = "file", "dir", "link"


class ArchiveFiles:
    """The files of a package, from the member list of its archive.

    ``root``: the package's directory in the archive (``name-version``); ``files``:
    regular files (and hard links); ``dirs``: directories listed as members (the parents
    of every member exist too); ``links``: symbolic link → its target as written. All are
    relative to ``root``. Lookups follow symbolic links as the file system does after the
    archive is unpacked into an empty directory (``..`` from the root leads to that
    directory, which holds only ``root``).
    """

    __slots__ = ("_root", "_kinds", "_links", "_children")

    def __init__(self, root: str, files: Iterable[str], dirs: Iterable[str] = (),
                 links: dict[str, str] | None = None) -> None:
        kinds: dict[str, str] = {"": _DIR}
        children: dict[str, dict[str, bool]] = {"": {}}

        def add(path: str, kind: str) -> None:
            parts = path.split("/")
            for i in range(1, len(parts)):  # every parent is a directory
                parent = "/".join(parts[:i])
                if parent not in kinds:
                    kinds[parent] = _DIR
                    children.setdefault("/".join(parts[:i - 1]), {})[parts[i - 1]] = True
                    children.setdefault(parent, {})
            kinds[path] = kind
            if kind == _DIR:
                children.setdefault(path, {})
            children.setdefault("/".join(parts[:-1]), {})[parts[-1]] = kind == _DIR

        add(root, _DIR)
        for rel in dirs:
            if rel:
                add(f"{root}/{rel}", _DIR)
        for rel in files:
            add(f"{root}/{rel}", _FILE)
        self._links = {f"{root}/{rel}": target for rel, target in (links or {}).items()}
        for path in self._links:
            add(path, _LINK)
        self._root = root
        self._kinds = kinds
        self._children = children

    def resolve(self, rel: str) -> str | None:
        """The archive path (``root/…``) that ``rel`` names once every link is followed,
        or ``None`` if it names nothing (missing, a dangling link, a link loop)."""
        if rel.startswith("/"):
            return None
        # the question as pathlib reads it (`x/./y` is `x/y`, `x/` is `x`); link targets
        # as the kernel does, where `.` and a trailing `/` demand a directory
        pending = [p for p in rel.split("/") if p not in ("", ".")]
        done: list[str] = [self._root]
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):  # `x/.` and `x/` name `x` only if it is a directory
                if self._kinds.get("/".join(done)) != _DIR:
                    return None
                continue
            if part == "..":
                if not done:
                    return None  # above the directory it was unpacked into
                done.pop()
                continue
            current = "/".join(done + [part])
            kind = self._kinds.get(current)
            if kind is None:
                return None
            if kind == _LINK:
                hops += 1
                target = self._links[current]
                if hops > _MAX_LINKS or target.startswith("/"):
                    return None
                pending = target.split("/") + pending
                continue  # relative to the link's directory: `done` stays as it is
            if kind == _FILE and pending:
                return None  # a file is not a directory
            done.append(part)
        return "/".join(done)

    def exists(self, rel: str) -> bool:
        return self.resolve(rel) is not None

    def is_file(self, rel: str) -> bool:
        found = self.resolve(rel)
        return found is not None and self._kinds.get(found) == _FILE

    def entries(self, rel: str) -> list[tuple[str, bool]]:
        found = self.resolve(rel)
        if found is None or self._kinds.get(found) != _DIR:
            return []
        return sorted(self._children.get(found, {}).items())
