"""What the version resolver sees of the world, and where it comes from (resolvelib-style seam).

The resolver (:mod:`nocargo_py.resolve.versions`) asks exactly two questions, both through a
:class:`PackageRegistry`:

* :meth:`PackageRegistry.query` — which :class:`Candidate` s could satisfy this :class:`Dep`
  (name, requirement or lock, source)? Cheap: for registry crates only the scanned index
  fields (version, yanked, links, rust-version, checksum) are looked at.
* :meth:`PackageRegistry.summary` — the full :class:`PackageSummary` of one candidate
  (dependencies rewritten to locked versions, features), decoded on first use and memoised.

The registry is cargo's ``PackageRegistry`` (``src/workspace/registry.rs``): it knows the
packages of the previous lock file (:meth:`register_lock`, used by :meth:`lock` to turn a
dependency into an exact ``=version`` requirement while it still matches), and the
``[patch]`` entries (:meth:`patch`, :meth:`lock_patches`) that take precedence over the
patched source. Behind it, one :class:`PackageSource` per source answers name look-ups:
:class:`RegistrySource` (any :class:`~nocargo_py.index.RegistryIndex`: live, vendored or a
:class:`~nocargo_py.index.MemoryIndex` fake), :class:`PathSource` (local packages) and git
sources (:mod:`nocargo_py.resolve.git_source`).

Source identity follows cargo: kind (git: with its reference) and canonical URL; a git
commit (``precise``) is carried along but never compared, and crates.io has one identity
whether it is reached through ``registry+https://github.com/rust-lang/crates.io-index`` or
``sparse+https://index.crates.io/``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Protocol, Sequence

from ..errors import NocargoError
from ..index import NoSuchCrate, OfflineMissing, RegistryIndex
from ..index.types import IndexVersion
from ..lockfile import package_sort_key
from ..semver_req import Version, VersionReq
from ..source import CRATES_IO_INDEX, PackageId, SourceId, canonical_url, intern_package_id
from ..summary import DepKind, Dependency, FeatureValue, Summary, build_feature_map

__all__ = [
    "Candidate",
    "Dep",
    "LockedPatch",
    "PackageRegistry",
    "PackageSource",
    "PackageSummary",
    "PathSource",
    "RegistrySource",
    "describe_source",
    "pid_key",
    "pid_sort_key",
    "source_key",
    "source_url_key",
]


# --------------------------------------------------------------------------------------
# identities
# --------------------------------------------------------------------------------------


_SOURCE_KEYS: dict[int, tuple[SourceId, tuple]] = {}


def source_key(source: SourceId) -> tuple:
    """Cargo's ``SourceId`` equality: kind (git: reference), canonical URL; never ``precise``.

    Memoised per object (source ids are shared by every dependency that names them; hashing
    a frozen dataclass on every look-up would dominate the resolver's run time).
    """
    hit = _SOURCE_KEYS.get(id(source))
    if hit is not None and hit[0] is source:
        return hit[1]
    key = _source_key(source.canonical() if source.is_crates_io() else source.without_precise())
    _SOURCE_KEYS[id(source)] = (source, key)
    return key


@functools.lru_cache(maxsize=None)
def _source_key(source: SourceId) -> tuple:
    return source.sort_key()


def source_url_key(source: SourceId) -> str:
    """The canonical URL of a source (what ``[patch.<url>]`` tables are keyed by)."""
    if source.is_crates_io():
        return canonical_url(CRATES_IO_INDEX)
    return canonical_url(source.url)


def pid_key(pid: PackageId) -> tuple:
    """Cargo's ``PackageId`` equality: name, version, source identity (not ``precise``)."""
    return (pid.name, pid.version, source_key(pid.source))


@functools.lru_cache(maxsize=None)
def _pid_sort_key(name: str, version: str, source: SourceId) -> tuple:
    return package_sort_key(intern_package_id(name, version, source))


def pid_sort_key(pid: PackageId) -> tuple:
    """Cargo's ``PackageId`` order: name, version (SemVer, build metadata last), source."""
    return _pid_sort_key(pid.name, pid.version, pid.source.without_precise())


@functools.lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """A version string from an id (validated upstream), memoised."""
    return Version.parse(text)


def describe_source(source: SourceId) -> str:
    """How cargo names a source in messages (``crates.io index``, a URL, a path)."""
    if source.is_crates_io():
        return "crates.io index"
    if source.is_path():
        return source.url
    if source.is_git():
        return source.to_lock_string(with_precise=False).removeprefix("git+")
    return f"registry `{source.to_lock_string(with_precise=False)}`"


# --------------------------------------------------------------------------------------
# the resolver's data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dep:
    """A dependency as the version resolver sees it (cargo's ``Dependency``).

    ``decl`` is the declaration (from a manifest or an index line), ``req`` its parsed
    requirement, ``source`` where it is looked up (crates.io canonical; a git source may
    carry the locked commit). ``locked`` is set by :meth:`lock_to`/:meth:`lock_version`: the
    dependency then matches exactly that version (cargo's ``OptVersionReq::Locked``), while
    messages still show the original requirement.
    """

    decl: Dependency
    req: VersionReq
    source: SourceId
    locked: Version | None = None
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        # computed on first use: most dependencies are locked (replaced) before any look-up
        h = self._hash
        if h is None:
            h = hash((self.decl, self.req, self.source, self.locked))
            object.__setattr__(self, "_hash", h)
        return h

    @classmethod
    def from_dependency(cls, dep: Dependency) -> "Dep":
        """Parse a declared dependency; the requirement text must be valid."""
        source = dep.source.canonical() if dep.source.is_crates_io() else dep.source
        return cls(dep, _parse_req(dep.req), source)

    # -- cargo's accessors ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.decl.name

    @property
    def name_in_toml(self) -> str:
        return self.decl.name_in_toml

    @property
    def kind(self) -> DepKind:
        return self.decl.kind

    @property
    def is_transitive(self) -> bool:
        """Normal and build dependencies are transitive; dev-dependencies are not."""
        return self.decl.kind is not DepKind.DEV

    @property
    def optional(self) -> bool:
        return self.decl.optional

    @property
    def uses_default_features(self) -> bool:
        return self.decl.default_features

    @property
    def features(self) -> tuple[str, ...]:
        return self.decl.features

    @property
    def is_locked(self) -> bool:
        return self.locked is not None

    @property
    def req_text(self) -> str:
        """The requirement as cargo displays it (the original one, even when locked)."""
        return str(self.req)

    # -- matching --------------------------------------------------------------------------
    def matches_version(self, version: Version) -> bool:
        if self.locked is not None:
            return self.locked == version
        return self.decl.any_version or self.req.matches(version)

    def matches_ignoring_source(self, pid: PackageId) -> bool:
        return self.decl.name == pid.name and self.matches_version(parse_version(pid.version))

    def matches_id(self, pid: PackageId) -> bool:
        return self.matches_ignoring_source(pid) and source_key(pid.source) == source_key(self.source)

    def lock_to(self, pid: PackageId) -> "Dep":
        """Exactly ``pid``: its version, and its source (with the locked git commit)."""
        return Dep(self.decl, self.req, pid.source, parse_version(pid.version))

    def lock_version(self, version: Version) -> "Dep":
        """Exactly ``version`` from this dependency's own source (a lock through ``[patch]``)."""
        return Dep(self.decl, self.req, self.source, version)

    def with_any_version(self) -> "Dep":
        """The same dependency with requirement ``*`` (for "versions found" hints)."""
        return Dep(self.decl, VersionReq.STAR, self.source)

    def describe(self) -> str:
        """``name = "req"`` (registry) or the bare TOML name (path/git), as cargo prints."""
        if self.source.is_path() or self.source.is_git():
            return self.name_in_toml
        return f'{self.name_in_toml} = "{self.req_text}"'


@functools.lru_cache(maxsize=8192)
def _parse_req(text: str) -> VersionReq:
    return VersionReq.parse(text)


@dataclass(frozen=True, eq=False)
class Candidate:
    """One version that may satisfy a dependency (cheap; the summary is loaded on demand).

    ``load`` returns the raw :class:`~nocargo_py.summary.Summary`; the registry applies the
    lock to it (:meth:`PackageRegistry.summary`).
    """

    package_id: PackageId
    version: Version
    links: str | None
    rust_version: str | None
    yanked: bool
    checksum: str | None
    load: Callable[[], Summary] = field(repr=False)
    key: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", pid_key(self.package_id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def name(self) -> str:
        return self.package_id.name

    @classmethod
    def of_summary(cls, summary: Summary) -> "Candidate":
        """A candidate for an already loaded summary (local and git packages)."""
        return cls(
            summary.package_id,
            parse_version(summary.version),
            summary.links,
            summary.rust_version,
            summary.yanked,
            summary.checksum,
            lambda: summary,
        )


@dataclass(frozen=True, eq=False)
class PackageSummary:
    """A package version as the resolver activates it: dependencies with locks applied."""

    package_id: PackageId
    dependencies: tuple[Dep, ...]
    features: Mapping[str, tuple[FeatureValue, ...]]
    links: str | None
    checksum: str | None
    key: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", pid_key(self.package_id))

    @property
    def name(self) -> str:
        return self.package_id.name

    @functools.cached_property
    def optional_dep_names(self) -> frozenset[str]:
        """TOML names of the optional dependencies (asked for every ``dep/feat`` value)."""
        return frozenset(d.name_in_toml for d in self.dependencies if d.optional)


# --------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------


class PackageSource(Protocol):
    """One source's answer to "which versions of ``name`` exist?"."""

    source_id: SourceId

    def candidates(self, name: str) -> Sequence[Candidate]:
        """Every version of ``name`` (yanked ones flagged), in any order."""
        ...

    def is_complete(self, name: str) -> bool:
        """False when only some versions are known (a partial vendored index file)."""
        ...

    def describe(self) -> str:
        ...


class RegistrySource:
    """A registry (any :class:`~nocargo_py.index.RegistryIndex`) as a package source.

    ``cached`` (optional) is a cache-only view of the same registry: a dependency locked to
    a version reads the cached index file when that version is in it, without touching the
    network — as cargo does for a locked registry — and falls back to ``index`` otherwise.
    """

    def __init__(self, index: RegistryIndex, source_id: SourceId | None = None, *,
                 cached: RegistryIndex | None = None) -> None:
        self.index = index
        self.cached_index = cached
        self.source_id = (source_id or index.source_id).canonical()
        self._cache: dict[str, tuple[Candidate, ...]] = {}
        self._from_cache: dict[str, tuple[Candidate, ...]] = {}
        self.offline_missing: set[str] = set()

    def candidates(self, name: str) -> Sequence[Candidate]:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        out = self._read(self.index, name, record_missing=True)
        self._cache[name] = out
        return out

    def locked_candidates(self, name: str, version: Version) -> Sequence[Candidate]:
        """Candidates for a dependency locked to ``version``: from the cache if it lists
        that version (no network), otherwise from the index (cargo's lazy update)."""
        if name in self._cache:
            return self.candidates(name)
        text = str(version)
        key = (name, text)
        found = self._from_cache.get(key)
        if found is None:
            index = self.cached_index or self.index
            found = self._read(index, name, record_missing=self.cached_index is None,
                               only=text)
            self._from_cache[key] = found
        if found:
            return found
        return self.candidates(name)

    def prefetch_locked(self, locked: Iterable[tuple[str, str]]) -> None:
        """Before a resolve with a lock file: fetch together the index files of the locked
        crates (``(name, version)``) that the on-disk cache cannot answer. Each would
        otherwise be fetched on its own when the resolver first asks for it, one round trip
        after another. Crates the cache answers are not fetched (cargo's lazy update)."""
        if self.cached_index is None:
            return  # offline, or local index data: nothing to fetch
        todo = []
        for name, version in locked:
            if name in self._cache:
                continue
            key = (name, str(parse_version(version)))
            found = self._from_cache.get(key)
            if found is None:
                try:
                    found = self._read(self.cached_index, name, record_missing=False,
                                       only=key[1])
                except NocargoError:
                    continue  # reported when the resolver asks
                self._from_cache[key] = found
            if not found:
                todo.append(name)
        self.prefetch(todo)

    def _read(self, index: RegistryIndex, name: str, *, record_missing: bool,
              only: str | None = None) -> tuple[Candidate, ...]:
        lookup = getattr(index, "version", None) if only is not None else None
        try:
            if lookup is not None:
                # one locked version: looked up by its line, without scanning every
                # published version of the crate (same entry `versions` would give)
                iv = lookup(name, only)
                versions = (iv,) if iv is not None else ()
            else:
                versions = index.versions(name)
        except NoSuchCrate:
            versions = ()
        except OfflineMissing:
            # as cargo offline: a crate whose index file is not available is treated as
            # absent (resolution may then pick other versions); failures mention it
            if record_missing:
                self.offline_missing.add(name)
            versions = ()
        return tuple(self._candidate(index, iv) for iv in versions
                     if iv.name == name and (only is None or iv.version == only))

    def _candidate(self, index: RegistryIndex, iv: IndexVersion) -> Candidate:
        name, version = iv.name, iv.version
        return Candidate(
            intern_package_id(name, version, self.source_id),
            parse_version(version),
            iv.links,
            iv.rust_version,
            iv.yanked,
            iv.cksum,
            lambda: index.summary(name, version),
        )

    def prefetch(self, names: Iterable[str]) -> None:
        """Fetch the files of ``names`` not loaded yet, concurrently where possible."""
        todo = [n for n in names if n not in self._cache]
        if len(todo) > 1:
            try:
                self.index.prefetch(todo)
            except NocargoError:
                pass  # reported when the crate is queried

    def is_complete(self, name: str) -> bool:
        try:
            return self.index.is_complete(name)
        except (NoSuchCrate, OfflineMissing):
            return True

    def describe(self) -> str:
        return describe_source(self.source_id)


class PathSource:
    """Local packages (workspace members, path dependencies, path patches) of one source."""

    def __init__(self, source_id: SourceId, summaries: Iterable[Summary]) -> None:
        self.source_id = source_id
        self._summaries = tuple(summaries)

    def candidates(self, name: str) -> Sequence[Candidate]:
        return tuple(Candidate.of_summary(s) for s in self._summaries if s.name == name)

    def is_complete(self, name: str) -> bool:
        return True

    def describe(self) -> str:
        return describe_source(self.source_id)


# --------------------------------------------------------------------------------------
# the registry: sources + lock + [patch]
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedPatch:
    """A ``[patch]`` entry matched to the lock file: the locked dependency and its id."""

    dependency: Dep
    package_id: PackageId
    alt_package_id: PackageId | None = None


SourceLoader = Callable[[SourceId], PackageSource]
"""Returns the :class:`PackageSource` of a source id (raises :class:`NocargoError`)."""


class PackageRegistry:
    """cargo's ``PackageRegistry``: sources, previous-lock rewriting and ``[patch]``.

    ``load_source`` maps a :class:`SourceId` to its :class:`PackageSource` (called once per
    source identity). Performance contract: :meth:`query` costs one index-file load per
    crate name (memoised by the source) plus one pass over that crate's versions.
    """

    def __init__(self, load_source: SourceLoader) -> None:
        self._load_source = load_source
        self._sources: dict[tuple, PackageSource] = {}
        self.locked: dict[tuple, list[tuple[PackageId, tuple[PackageId, ...]]]] = {}
        self.patches: dict[str, list[Candidate]] = {}
        self.patches_available: dict[str, list[PackageId]] = {}
        self.patches_locked = False
        self._summaries: dict[tuple, PackageSummary] = {}
        self._valid: dict[tuple, bool] = {}

    # -- sources -----------------------------------------------------------------------------
    def offline_missing(self) -> list[str]:
        """Crates whose index data was not available (offline / vendored), sorted."""
        names: set[str] = set()
        for src in self._sources.values():
            names |= getattr(src, "offline_missing", set())
        return sorted(names)

    def source(self, source_id: SourceId) -> PackageSource:
        """The (memoised) package source for ``source_id``."""
        key = source_key(source_id)
        src = self._sources.get(key)
        if src is None:
            src = self._load_source(source_id)
            self._sources[key] = src
        return src

    def describe_source(self, source_id: SourceId) -> str:
        return describe_source(source_id)

    def prefetch(self, deps: Iterable[Dep]) -> None:
        """Load the index files of these dependencies' crates concurrently (a network
        registry fetches them in parallel; local data ignores this). Errors surface later,
        when a file is actually queried."""
        self._per_source("prefetch", ((dep.source, dep.name) for dep in deps
                                      if dep.source.is_registry() and not dep.is_locked))

    def _per_source(self, method: str, items: Iterable[tuple[SourceId, object]]) -> None:
        """Call ``method`` of each source with its items (grouped by source, duplicates
        dropped); a source without that method, or that fails to load, is skipped (errors
        surface when a package is queried)."""
        by_source: dict[tuple, tuple[SourceId, dict]] = {}
        for source_id, item in items:
            by_source.setdefault(source_key(source_id), (source_id, {}))[1][item] = None
        for source_id, group in by_source.values():
            try:
                call = getattr(self.source(source_id), method, None)
                if call is not None:
                    call(list(group))
            except NocargoError:
                pass

    # -- previous lock ---------------------------------------------------------------------------
    def clear_lock(self) -> None:
        self.locked = {}

    def register_lock(self, pid: PackageId, deps: Sequence[PackageId]) -> None:
        """Record a package of the previous lock file and its locked dependencies."""
        self.locked.setdefault((source_key(pid.source), pid.name), []).append((pid, tuple(deps)))

    def prefetch_locked(self) -> None:
        """Fetch together what the registered locked registry packages need from the
        network (see :meth:`RegistrySource.prefetch_locked`)."""
        self._per_source("prefetch_locked", ((pid.source, (pid.name, pid.version))
                                             for entries in self.locked.values()
                                             for pid, _ in entries if pid.source.is_registry()))

    # -- [patch] -----------------------------------------------------------------------------------
    def patch(self, url: str, patch_deps: Sequence[tuple[Dep, LockedPatch | None]],
              *, where: str = "") -> list[tuple[Dep, PackageId]]:
        """Register the ``[patch.<url>]`` entries (``url`` canonical); returns the patches whose
        lock no longer matches and must be unlocked (cargo's ``PackageRegistry::patch``)."""
        unlock: list[tuple[Dep, PackageId]] = []
        chosen: list[Candidate] = []
        for orig, locked in patch_deps:
            dep = locked.dependency if locked is not None else orig
            source = self.source(dep.source)
            matches = [c for c in source.candidates(dep.name) if dep.matches_version(c.version)
                       and not c.yanked]
            candidate, unlock_id = self._summary_for_patch(orig, url, locked, matches, source, where)
            if unlock_id is not None:
                unlock.append((orig, unlock_id))
            if source_url_key(candidate.package_id.source) == url:
                raise NocargoError(
                    f"patch for `{dep.name}` points to the same source, but patches must point "
                    "to different sources",
                    notes=[f"help: check `{dep.name}` patch definition for `{url}`"
                           + (f" in `{where}`" if where else "")])
            chosen.append(candidate)
        seen: set[tuple[str, str]] = set()
        for candidate in chosen:
            nv = (candidate.name, candidate.package_id.version)
            if nv in seen:
                raise NocargoError(
                    f"several `[patch]` entries resolving to same version `{nv[0]} v{nv[1]}`",
                    notes=[f"help: check `{nv[0]}` patch definitions for `{url}`"
                           + (f" in `{where}`" if where else "")])
            seen.add(nv)
        ids: list[PackageId] = []
        for candidate, (_, locked) in zip(chosen, patch_deps):
            ids.append(candidate.package_id)
            if locked is not None and locked.alt_package_id is not None:
                ids.append(locked.alt_package_id)
        self.patches_available[url] = ids
        self.patches[url] = chosen
        return unlock

    def _summary_for_patch(self, orig: Dep, url: str, locked: LockedPatch | None,
                           matches: list[Candidate], source: PackageSource,
                           where: str) -> tuple[Candidate, PackageId | None]:
        if len(matches) == 1:
            return matches[0], None
        help_line = (f"help: check `{orig.name}` patch definition for `{url}`"
                     + (f" in `{where}`" if where else ""))
        if len(matches) > 1:
            versions = sorted((c.version for c in matches))
            raise NocargoError(
                f"patch for `{orig.name}` in `{describe_source(orig.source)}` resolved to more "
                "than one candidate",
                notes=[f"note: found versions: {', '.join(map(str, versions))}", help_line,
                       f'help: select only one package using `version = "={versions[-1]}"`'])
        if locked is not None:
            again = [c for c in source.candidates(orig.name) if orig.matches_version(c.version)
                     and not c.yanked]
            candidate, _ = self._summary_for_patch(orig, url, None, again, source, where)
            return candidate, locked.package_id
        found = sorted(c.version for c in source.candidates(orig.name) if not c.yanked)
        if not found:
            raise NocargoError(
                f"patch location `{describe_source(orig.source)}` does not contain packages "
                f"matching `{orig.name}`", notes=[help_line])
        listed = (f"version `{found[0]}`" if len(found) == 1
                  else "versions `" + ", ".join(map(str, found)) + "`")
        raise NocargoError(
            f"patch `{orig.name}` version mismatch",
            notes=[f"note: patch location contains {listed}, but patch definition requires "
                   f"`{orig.req_text}`",
                   f"help: check patch location `{describe_source(orig.source)}`", help_line])

    def lock_patches(self) -> None:
        """Make the registered patches available to :meth:`query` (after all locks)."""
        assert not self.patches_locked
        self.patches_locked = True

    def patch_candidates(self) -> list[tuple[str, Candidate]]:
        """Every registered patch with its URL (URLs sorted, entries in table order)."""
        return [(url, c) for url in sorted(self.patches) for c in self.patches[url]]

    # -- locking ---------------------------------------------------------------------------------
    def lock(self, summary: Summary) -> PackageSummary:
        """cargo's ``lock``: rewrite ``summary``'s id and dependencies to the previous lock."""
        pair = None
        for entry in self.locked.get((source_key(summary.source), summary.name), ()):
            if pid_key(entry[0]) == pid_key(summary.package_id):
                pair = entry
                break
        package_id = pair[0] if pair is not None else summary.package_id
        # the locked dependencies by name (a dependency can only match one of its name)
        by_name: dict[str, list[PackageId]] = {}
        for locked in pair[1] if pair is not None else ():
            by_name.setdefault(locked.name, []).append(locked)
        deps: list[Dep] = []
        for decl in summary.dependencies:
            deps.append(self._lock_dep(Dep.from_dependency(decl), by_name.get(decl.name, ())))
        return PackageSummary(package_id, tuple(deps), summary.features, summary.links,
                              summary.checksum)

    def _lock_dep(self, dep: Dep, locked_of_name: Sequence[PackageId]) -> Dep:
        for locked in locked_of_name:
            if dep.matches_id(locked):
                hit = locked
            elif dep.matches_ignoring_source(locked) and locked in self.patches_available.get(
                    source_url_key(dep.source), ()):
                hit = locked
            else:
                continue
            if source_key(hit.source) == source_key(dep.source):
                return dep.lock_to(hit)
            return dep.lock_version(parse_version(hit.version))
        for pid, _ in self.locked.get((source_key(dep.source), dep.name), ()):
            if dep.matches_id(pid):
                return dep.lock_to(pid)
        return dep

    def add_root(self, summary: PackageSummary) -> Candidate:
        """A candidate for an already locked root summary (a workspace member)."""
        pid = summary.package_id
        cand = Candidate(pid, parse_version(pid.version), summary.links, None, False,
                         summary.checksum, _no_load)
        self._summaries[cand.key] = summary
        return cand

    def summary(self, candidate: Candidate) -> PackageSummary:
        """The locked :class:`PackageSummary` of a candidate (memoised per package id)."""
        cached = self._summaries.get(candidate.key)
        if cached is None:
            cached = self.lock(candidate.load())
            self._summaries[candidate.key] = cached
        return cached

    # -- queries ---------------------------------------------------------------------------------
    def query(self, dep: Dep) -> list[Candidate]:
        """Every candidate for ``dep``: matching patches first, then the source's versions
        (yanked ones included and flagged; the caller decides). cargo's ``Registry::query``."""
        assert self.patches_locked
        patches = [c for c in self.patches.get(source_url_key(dep.source), ())
                   if dep.matches_ignoring_source(c.package_id)]
        if len(patches) == 1 and dep.is_locked:
            return patches
        source = self.source(dep.source)
        if dep.locked is not None and hasattr(source, "locked_candidates"):
            versions = source.locked_candidates(dep.name, dep.locked)
        else:
            versions = source.candidates(dep.name)
        if not dep.is_locked and not source.is_complete(dep.name):
            raise NocargoError(
                f"the index data for `{dep.name}` ({source.describe()}) lists only some versions "
                "(it was vendored for an existing lock file), so a new version cannot be chosen",
                notes=["re-vendor the whole index file, or run without --offline/--index-dir"])
        patched_versions = {c.version for c in patches}
        out = list(patches)
        check = source.source_id.is_registry()
        for c in versions:
            if c.version in patched_versions or not dep.matches_version(c.version):
                continue
            if check and not self.valid(c):
                continue
            out.append(c)
        return out

    def valid(self, candidate: Candidate) -> bool:
        """Would cargo accept this index entry as a summary? (cargo's ``Summary::new``: no
        optional dev-dependency, a valid feature map, parsable requirements.) Entries that
        fail are never candidates (``IndexSummary::Invalid``). Memoised."""
        ok = self._valid.get(candidate.key)
        if ok is None:
            ok = _index_entry_ok(candidate)
            self._valid[candidate.key] = ok
        return ok

    def alternatives(self, dep: Dep) -> list[Candidate]:
        """Usable versions of ``dep``'s crate whatever the requirement, highest first."""
        try:
            source = self.source(dep.source)
            found = [c for c in source.candidates(dep.name) if not c.yanked
                     and (not source.source_id.is_registry() or self.valid(c))]
        except NocargoError:
            return []
        return sorted(found, key=lambda c: c.version, reverse=True)

    def rejected(self, dep: Dep) -> list[tuple[Candidate, str]]:
        """Versions that match ``dep`` but were left out, lowest first, with why
        (``"yanked"`` or ``"invalid"``)."""
        try:
            source = self.source(dep.source)
            found = [c for c in source.candidates(dep.name) if dep.matches_version(c.version)]
        except NocargoError:
            return []
        out = []
        for c in sorted(found, key=lambda c: c.version):
            if source.source_id.is_registry() and not self.valid(c):
                out.append((c, "invalid"))
            elif c.yanked:
                out.append((c, "yanked"))
        return out


def _index_entry_ok(candidate: Candidate) -> bool:
    try:
        summary = candidate.load()
        for dep in summary.dependencies:
            if dep.optional and dep.kind is DepKind.DEV:
                return False
            _parse_req(dep.req)
        build_feature_map(summary.declared_features, summary.dependencies, validate=True)
    except NocargoError:
        return False
    return True


def _no_load() -> Summary:  # pragma: no cover - roots are registered with their summary
    raise AssertionError("root summaries are registered up front")
