"""Why candidates fail, and the memory of past failures that makes backtracking jump far.

* :class:`ConflictReason` — why an activated package rules a candidate out (semver class
  taken, ``links`` taken, a requested feature missing...). A *conflict map*
  (``dict[PackageId, ConflictReason]``) lists the activated packages that together make a
  dependency unresolvable: as long as all of them stay activated it will fail again.
* :class:`ConflictCache` — cargo's ``conflict_cache.rs``: per dependency, a trie of conflict
  maps, to find out quickly whether a dependency is already known to fail in the current
  state (and which of the known conflicts lets the resolver jump back furthest).

Both follow cargo (``src/resolver/types.rs``, ``conflict_cache.rs``) closely, including the
order in which package ids are visited, so that backtracking takes the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from ..source import PackageId
from .provider import Dep, pid_key, pid_sort_key

__all__ = ["ConflictCache", "ConflictMap", "ConflictReason"]


@dataclass(frozen=True, order=True)
class ConflictReason:
    """cargo's ``ConflictReason`` (ordered as cargo's enum: semver < links < features).

    ``kind``: ``0`` semver, ``1`` links, ``2`` missing feature, ``3`` required dependency
    used as a feature, ``4`` optional dependency hidden by ``dep:`` used as a feature.
    ``name`` is the links value or the feature.
    """

    kind: int
    name: str = ""

    SEMVER = 0
    LINKS = 1
    MISSING_FEATURE = 2
    REQUIRED_DEPENDENCY_AS_FEATURE = 3
    NON_IMPLICIT_DEPENDENCY_AS_FEATURE = 4

    @property
    def is_semver(self) -> bool:
        return self.kind == self.SEMVER

    @property
    def is_links(self) -> bool:
        return self.kind == self.LINKS


SEMVER = ConflictReason(ConflictReason.SEMVER)

ConflictMap = dict[PackageId, ConflictReason]
"""Activated packages (ids) that rule out every candidate of a dependency, with why."""


def sorted_ids(conflicts: Mapping[PackageId, object]) -> list[PackageId]:
    """The keys of a conflict map in cargo's ``BTreeMap`` order (``PackageId`` order)."""
    return sorted(conflicts, key=pid_sort_key)


class _Trie:
    """A node of the conflict store: either a leaf (one stored map) or children by id."""

    __slots__ = ("leaf", "children")

    def __init__(self) -> None:
        self.leaf: ConflictMap | None = None
        self.children: dict[tuple, tuple[PackageId, _Trie]] | None = {}

    def find(self, is_active: Callable[[PackageId], int | None], must_contain: PackageId | None,
             max_age: int) -> tuple[ConflictMap, int] | None:
        if self.leaf is not None:
            return (self.leaf, 0) if must_contain is None else None
        out = None
        assert self.children is not None
        entries = sorted(self.children.values(), key=lambda e: pid_sort_key(e[0]))
        must_key = pid_sort_key(must_contain) if must_contain is not None else None
        must_pid = pid_key(must_contain) if must_contain is not None else None
        for pid, store in entries:
            if must_key is not None and pid_sort_key(pid) > must_key:
                break
            age_this = is_active(pid)
            if age_this is None:
                continue
            is_must = must_pid is not None and pid_key(pid) == must_pid
            if age_this >= max_age and not is_must:
                continue
            found = store.find(is_active, None if is_must else must_contain, max_age)
            if found is None:
                continue
            conflicts, age_o = found
            age = age_o if is_must else max(age_this, age_o)
            if max_age > age:
                out = (conflicts, age)
                max_age = age
        return out

    def insert(self, ids: list[PackageId], con: ConflictMap) -> None:
        if ids:
            if self.leaf is not None:
                return  # a subset of this set is already stored
            assert self.children is not None
            key = pid_key(ids[0])
            entry = self.children.get(key)
            if entry is None:
                entry = (ids[0], _Trie())
                self.children[key] = entry
            entry[1].insert(ids[1:], con)
        else:
            self.leaf = dict(con)
            self.children = None


class ConflictCache:
    """Known-unresolvable states: "``dep`` cannot be resolved while all of these are active".

    Entries are never removed (each is true whatever the resolution history).
    """

    def __init__(self) -> None:
        self._con_from_dep: dict[Dep, _Trie] = {}
        self._dep_from_pid: dict[tuple, set[Dep]] = {}

    def find(self, dep: Dep, is_active: Callable[[PackageId], int | None],
             must_contain: PackageId | None, max_age: int) -> ConflictMap | None:
        trie = self._con_from_dep.get(dep)
        if trie is None:
            return None
        found = trie.find(is_active, must_contain, max_age)
        return found[0] if found is not None else None

    def find_conflicting(self, is_active: Callable[[PackageId], int | None], dep: Dep,
                         must_contain: PackageId | None = None) -> ConflictMap | None:
        """A stored conflict for ``dep`` whose packages are all active (the one that lets the
        resolver jump back furthest), optionally one that contains ``must_contain``."""
        return self.find(dep, is_active, must_contain, 1 << 62)

    def insert(self, dep: Dep, con: ConflictMap) -> None:
        """Remember: ``dep`` is unresolvable while every package of ``con`` is active."""
        trie = self._con_from_dep.get(dep)
        if trie is None:
            trie = _Trie()
            self._con_from_dep[dep] = trie
        trie.insert(sorted_ids(con), con)
        for pid in con:
            self._dep_from_pid.setdefault(pid_key(pid), set()).add(dep)

    def dependencies_conflicting_with(self, pid: PackageId) -> set[Dep] | None:
        return self._dep_from_pid.get(pid_key(pid))
