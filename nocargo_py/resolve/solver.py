"""Cargo's dependency resolver: depth-first activation with backtracking (``src/resolver/``).

:func:`solve` takes the root summaries (workspace members, resolved with all features and
dev-dependencies) and a :class:`~nocargo_py.resolve.provider.PackageRegistry`, and returns
a :class:`Resolution`: the activated packages and the dependency edges between them.

It is a port of cargo's ``activate_deps_loop`` and its helpers, because when several
solutions exist the one cargo writes to ``Cargo.lock`` is the *first* one its search finds;
reproducing the lock file means searching in the same order:

* the dependency visited next is the first remaining dependency of the frame whose next
  dependency has the fewest candidates (ties: the frame pushed first); a package's
  dependencies are visited fewest-candidates first (stable, declaration order);
* candidates are tried previously-locked/patched first, then (resolver "3") the most
  ``rust-version``-compatible, then highest version (:class:`VersionPreferences`);
* at most one version per (name, semver-compatibility class, source) and one package per
  ``links`` value; a candidate lacking a requested feature is rejected;
* on failure, jump back to the most recent decision that could change the outcome, using
  the conflict maps and the global :class:`~nocargo_py.resolve.conflicts.ConflictCache`.

Features are resolved here only as far as version resolution needs them (which optional
dependencies are pulled in); the feature resolver proper lives in ``features.py``.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

from ..errors import NocargoError
from ..semver_req import Version, VersionReq
from ..source import PackageId
from ..summary import DepFeatureRef, DepRef, FeatureRef, FeatureValue
from .conflicts import SEMVER, ConflictCache, ConflictMap, ConflictReason, sorted_ids
from .provider import (
    Candidate,
    Dep,
    PackageRegistry,
    PackageSummary,
    parse_version,
    pid_key,
    pid_sort_key,
    source_key,
)

__all__ = [
    "Replacement",
    "Resolution",
    "ResolveError",
    "RootRequest",
    "VersionPreferences",
    "show_id",
    "solve",
]


class ResolveError(NocargoError):
    """No set of versions satisfies the requirements (message explains the conflict)."""


# --------------------------------------------------------------------------------------
# preferences
# --------------------------------------------------------------------------------------


def _partial(text: str) -> tuple[int, int | None, int | None] | None:
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts]
    return (nums[0], nums[1] if len(nums) > 1 else None, nums[2] if len(nums) > 2 else None)


@functools.lru_cache(maxsize=4096)
def rust_version_compatible(rust_version: str, rustc: tuple[int, int | None, int | None]) -> bool:
    """cargo's ``RustVersion::is_compatible_with``: ``^rust_version`` matches ``rustc``."""
    msrv = _partial(rust_version)
    if msrv is None:
        return True
    req = VersionReq.parse(".".join(str(p) for p in msrv if p is not None))
    return req.matches(Version(rustc[0], rustc[1] or 0, rustc[2] or 0))


@dataclass
class VersionPreferences:
    """Which candidates to try first (cargo's ``VersionPreferences``).

    ``try_to_use``: package ids of the previous lock (keys from :func:`pid_key`);
    ``prefer_patch_deps``: ``[patch]`` dependencies by name; ``rust_versions``: the
    members' ``rust-version`` s (resolver "3": versions compatible with more of them first).
    """

    try_to_use: set[tuple] = field(default_factory=set)
    prefer_patch_deps: dict[str, list[Dep]] = field(default_factory=dict)
    rust_versions: list[tuple[int, int | None, int | None]] = field(default_factory=list)

    def prefer_package_id(self, pid: PackageId) -> None:
        self.try_to_use.add(pid_key(pid))

    def prefer_dependency(self, dep: Dep) -> None:
        self.prefer_patch_deps.setdefault(dep.name, []).append(dep)

    def set_rust_versions(self, versions: Iterable[str]) -> None:
        self.rust_versions = [p for p in (_partial(v) for v in versions) if p is not None]

    def should_prefer(self, pid: PackageId) -> bool:
        if pid_key(pid) in self.try_to_use:
            return True
        return any(d.matches_id(pid) for d in self.prefer_patch_deps.get(pid.name, ()))

    def _msrv_count(self, candidate: Candidate) -> int:
        if candidate.rust_version is None:
            return len(self.rust_versions)
        return sum(1 for rv in self.rust_versions
                   if rust_version_compatible(candidate.rust_version, tuple(rv)))

    def sort(self, candidates: list[Candidate]) -> list[Candidate]:
        """Preferred first, then most rust-version compatible, then highest version."""
        def key(c: Candidate):
            msrv = -self._msrv_count(c) if self.rust_versions else 0
            return (0 if self.should_prefer(c.package_id) else 1, msrv, _Desc(c.version))
        return sorted(candidates, key=key)


class _Desc:
    """Wraps a version to sort it in descending order."""

    __slots__ = ("v",)

    def __init__(self, v: Version) -> None:
        self.v = v

    def __lt__(self, other: "_Desc") -> bool:
        return other.v < self.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


# --------------------------------------------------------------------------------------
# inputs and outputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootRequest:
    """A package to resolve from: a workspace member with all its features and dev-deps."""

    summary: PackageSummary
    all_features: bool = True
    features: tuple[str, ...] = ()
    uses_default_features: bool = True
    dev_deps: bool = True


@dataclass(frozen=True)
class Replacement:
    """A ``[replace]`` entry: a package-id spec matcher and the dependency that replaces it."""

    spec: str
    matches: object  # Callable[[PackageId], bool]
    dep: Dep


@dataclass(frozen=True)
class Resolution:
    """The result: activated packages, edges (parent -> child -> declarations), and more."""

    packages: Mapping[tuple, Candidate]
    summaries: Mapping[tuple, PackageSummary]
    edges: Mapping[PackageId, Mapping[PackageId, frozenset[Dep]]]
    replacements: Mapping[PackageId, PackageId]
    features: Mapping[PackageId, frozenset[str]]

    def package_ids(self) -> list[PackageId]:
        return sorted((c.package_id for c in self.packages.values()), key=pid_sort_key)


# --------------------------------------------------------------------------------------
# resolver state
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Opts:
    """cargo's ``ResolveOpts``: CLI features for roots, requested features for dependencies."""

    dev_deps: bool
    cli: bool
    features: frozenset[str]
    all_features: bool
    uses_default: bool


class _Conflict(Exception):
    """``ActivateError::Conflict``: candidate rejected because of ``pid`` for ``reason``."""

    def __init__(self, pid: PackageId, reason: ConflictReason) -> None:
        super().__init__()
        self.pid = pid
        self.reason = reason


class _Context:
    """cargo's ``ResolverContext``; cheap to copy (shallow copies, copy-on-write parents)."""

    __slots__ = ("age", "activations", "resolve_features", "links", "parents")

    def __init__(self) -> None:
        self.age = 0
        # (name, compat class, source key) -> (candidate, summary, age)
        self.activations: dict[tuple, tuple[Candidate, PackageSummary, int]] = {}
        self.resolve_features: dict[tuple, frozenset[str]] = {}
        self.links: dict[str, PackageId] = {}
        # child id key -> {parent id: frozenset of deps}
        self.parents: dict[tuple, dict[PackageId, frozenset[Dep]]] = {}

    def copy(self) -> "_Context":
        new = _Context.__new__(_Context)
        new.age = self.age
        new.activations = dict(self.activations)
        new.resolve_features = dict(self.resolve_features)
        new.links = dict(self.links)
        new.parents = dict(self.parents)
        return new

    def link(self, child: PackageId, parent: PackageId, dep: Dep) -> None:
        key = pid_key(child)
        inner = dict(self.parents.get(key, {}))
        inner[parent] = inner.get(parent, frozenset()) | {dep}
        self.parents[key] = inner

    def flag_activated(self, cand: Candidate, summary: PackageSummary, opts: _Opts,
                       parent_dep: Dep | None) -> bool:
        """Insert ``cand``; True if it was already active with (at least) these features."""
        pid = cand.package_id
        key = _act_key(cand)
        if key not in self.activations:
            if summary.links is not None:
                had = summary.links in self.links
                self.links[summary.links] = pid
                if had:
                    raise NocargoError(
                        "Attempting to resolve a dependency with more than one crate with "
                        f"links={summary.links}.\nThis will not build as is. Consider "
                        "rebuilding the .lock file.")
            self.activations[key] = (cand, summary, self.age)
            if parent_dep is not None and source_key(parent_dep.source) != key[2]:
                key2 = (key[0], key[1], source_key(parent_dep.source))
                prev = self.activations.get(key2)
                self.activations[key2] = (cand, summary, self.age)
                if prev is not None:
                    raise _Conflict(prev[0].package_id, SEMVER)
            return False
        if opts.cli:
            return False
        has_default = "default" in summary.features
        prev_features = self.resolve_features.get(cand.key, frozenset())
        return opts.features <= prev_features and (
            not opts.uses_default or "default" in prev_features or not has_default)

    def is_active(self, pid: PackageId) -> int | None:
        entry = self.activations.get(_pid_act_key(pid))
        if entry is not None and entry[0].key == pid_key(pid):
            return entry[2]
        return None

    def is_conflicting(self, parent: PackageId | None, conflicts: Mapping[PackageId, object]) -> int | None:
        """The age of the newest of ``parent`` and the conflict's packages if all are active."""
        newest = 0
        if parent is not None:
            age = self.is_active(parent)
            if age is None:
                return None
            newest = max(newest, age)
        for pid in conflicts:
            age = self.is_active(pid)
            if age is None:
                return None
            newest = max(newest, age)
        return newest

    def parent_edges(self, pid: PackageId) -> Mapping[PackageId, frozenset[Dep]]:
        return self.parents.get(pid_key(pid), {})

    def is_path_from_to(self, start: PackageId, target: PackageId) -> bool:
        """Is ``target`` an ancestor of ``start`` (following dependents)?"""
        target_key = pid_key(target)
        stack = [start]
        seen = {pid_key(start)}
        while stack:
            node = stack.pop()
            for p in sorted(self.parent_edges(node), key=pid_sort_key):
                k = pid_key(p)
                if k == target_key:
                    return True
                if k not in seen:
                    seen.add(k)
                    stack.append(p)
        return False

    def path_to_root(self, pid: PackageId) -> list[tuple[PackageId, Dep | None]]:
        """cargo's ``path_to_bottom``: a shortest chain of dependents from ``pid`` to a root,
        ``[(pid, None), (dependent, its dep satisfied by pid), ..., (root, dep)]``."""
        back: dict[tuple, tuple[PackageId, PackageId, frozenset[Dep]]] = {}
        queue = [pid]
        last = pid
        i = 0
        while i < len(queue):
            node = queue[i]
            i += 1
            last = node
            edges = self.parent_edges(node)
            if not edges:
                break
            for parent in sorted(edges, key=pid_sort_key):
                k = pid_key(parent)
                if k not in back:
                    back[k] = (parent, node, edges[parent])
                    queue.append(parent)
        chain: list[tuple[PackageId, Dep | None]] = []
        node = last
        while pid_key(node) in back:
            parent, child, deps = back.pop(pid_key(node))
            chain.append((parent, min(deps, key=_dep_sort_key)))
            node = child
        if all(pid_key(n) != pid_key(node) for n, _ in chain):
            chain.append((node, None))
        chain.reverse()
        return chain


def _act_key(cand: Candidate) -> tuple:
    return (cand.package_id.name, cand.version.compat_key, source_key(cand.package_id.source))


def _pid_act_key(pid: PackageId) -> tuple:
    return (pid.name, parse_version(pid.version).compat_key, source_key(pid.source))


# (dep, candidates, features requested of the dependency)
_DepInfo = tuple  # tuple[Dep, tuple[Candidate, ...], frozenset[str]]


@dataclass(frozen=True)
class _DepsFrame:
    """A package's dependencies still to visit (``remaining`` from ``offset``)."""

    parent: Candidate
    parent_summary: PackageSummary
    just_for_error_messages: bool
    deps: tuple[_DepInfo, ...]
    offset: int = 0

    def min_candidates(self) -> int:
        return len(self.deps[self.offset][1]) if self.offset < len(self.deps) else 0

    def sort_key(self) -> tuple:
        return (0 if self.just_for_error_messages else 1, self.min_candidates())

    def remaining(self) -> Iterator[_DepInfo]:
        return iter(self.deps[self.offset:])


class _RemainingDeps:
    """cargo's ``RemainingDeps``: frames ordered by (error-message frames first, fewest
    candidates of their next dependency, insertion time)."""

    __slots__ = ("time", "heap")

    def __init__(self) -> None:
        self.time = 0
        self.heap: list[tuple[tuple, int, _DepsFrame]] = []

    def copy(self) -> "_RemainingDeps":
        new = _RemainingDeps.__new__(_RemainingDeps)
        new.time = self.time
        new.heap = list(self.heap)
        return new

    def push(self, frame: _DepsFrame) -> None:
        heapq.heappush(self.heap, (frame.sort_key(), self.time, frame))
        self.time += 1

    def pop_most_constrained(self) -> tuple[bool, _DepsFrame, _DepInfo] | None:
        while self.heap:
            _, t, frame = heapq.heappop(self.heap)
            if frame.offset < len(frame.deps):
                sibling = frame.deps[frame.offset]
                nxt = _DepsFrame(frame.parent, frame.parent_summary, frame.just_for_error_messages,
                                 frame.deps, frame.offset + 1)
                heapq.heappush(self.heap, (nxt.sort_key(), t, nxt))
                return frame.just_for_error_messages, frame, sibling
        return None

    def iter(self) -> Iterator[tuple[PackageId, Dep]]:
        for _, _, frame in sorted(self.heap, key=lambda e: (e[0], e[1])):
            for dep, _, _ in frame.remaining():
                yield frame.parent.package_id, dep


class _RemainingCandidates:
    """cargo's ``RemainingCandidates``: the next candidate valid in a context (peekable)."""

    __slots__ = ("candidates", "offset", "has_another")

    def __init__(self, candidates: tuple[Candidate, ...]) -> None:
        self.candidates = candidates
        self.offset = 0
        self.has_another: Candidate | None = None

    def copy(self) -> "_RemainingCandidates":
        new = _RemainingCandidates.__new__(_RemainingCandidates)
        new.candidates = self.candidates
        new.offset = self.offset
        new.has_another = self.has_another
        return new

    def next(self, conflicting: ConflictMap, cx: _Context) -> tuple[Candidate, bool] | None:
        cands = self.candidates
        while self.offset < len(cands):
            b = cands[self.offset]
            self.offset += 1
            active = cx.activations.get(_act_key(b))
            if active is not None and active[0].key != b.key:
                conflicting.setdefault(active[0].package_id, SEMVER)
                continue
            if b.links is not None:
                a = cx.links.get(b.links)
                if a is not None and pid_key(a) != b.key:
                    conflicting.setdefault(a, ConflictReason(ConflictReason.LINKS, b.links))
                    continue
            if self.has_another is not None:
                r = self.has_another
                self.has_another = b
                return r, True
            self.has_another = b
        if self.has_another is not None:
            r = self.has_another
            self.has_another = None
            return r, False
        return None


@dataclass
class _BacktrackFrame:
    context: _Context
    remaining_deps: _RemainingDeps
    remaining_candidates: _RemainingCandidates
    parent: Candidate
    parent_summary: PackageSummary
    dep: Dep
    features: frozenset[str]
    conflicting: ConflictMap


# --------------------------------------------------------------------------------------
# dependency queries (cargo's RegistryQueryer / dep_cache.rs)
# --------------------------------------------------------------------------------------


class _Queryer:
    def __init__(self, registry: PackageRegistry, prefs: VersionPreferences,
                 replacements: Sequence[Replacement]) -> None:
        self.registry = registry
        self.prefs = prefs
        self.replacements = replacements
        self.used_replacements: dict[tuple, tuple[Candidate, PackageSummary]] = {}
        self._query_cache: dict[Dep, tuple[Candidate, ...]] = {}
        self._deps_cache: dict[tuple, tuple[frozenset[str], tuple[_DepInfo, ...]]] = {}

    def query(self, dep: Dep) -> tuple[Candidate, ...]:
        cached = self._query_cache.get(dep)
        if cached is not None:
            return cached
        found = [c for c in self.registry.query(dep)
                 if not c.yanked or self.prefs.should_prefer(c.package_id)]
        for cand in found:
            self._check_replacement(cand)
        out = tuple(self.prefs.sort(found))
        self._query_cache[dep] = out
        return out

    def _check_replacement(self, cand: Candidate) -> None:
        matching = [r for r in self.replacements if r.matches(cand.package_id)]
        if not matching:
            return
        first = matching[0]
        found = [c for c in self.registry.query(first.dep) if not c.yanked]
        if not found:
            raise NocargoError(
                f"no matching package for override `{first.spec}` found",
                notes=[f"location searched: {self.registry.describe_source(first.dep.source)}",
                       f"version required: {first.dep.req_text}"])
        if len(found) > 1:
            listed = "\n".join(f"  * {show_id(c.package_id)}" for c in found)
            raise NocargoError(
                f"the replacement specification `{first.spec}` matched multiple packages:\n"
                + listed)
        repl = found[0]
        if repl.version != cand.version:
            raise NocargoError(
                f"replacement specification `{first.spec}` matched {cand.version} and tried to "
                f"override it with {repl.version}",
                notes=["avoid matching unrelated packages by being more specific"])
        if len(matching) > 1:
            raise NocargoError(
                "overlapping replacement specifications found:\n\n"
                f"  * {matching[0].spec}\n  * {matching[1].spec}\n\n"
                f"both specifications match: {show_id(cand.package_id)}")
        if source_key(repl.package_id.source) != source_key(cand.package_id.source):
            self.used_replacements[cand.key] = (repl, self.registry.summary(repl))

    def replacement(self, cand: Candidate) -> tuple[Candidate, PackageSummary] | None:
        return self.used_replacements.get(cand.key)

    def build_deps(self, cx: _Context, parent: PackageId | None, cand: Candidate,
                   summary: PackageSummary, opts: _Opts) -> tuple[frozenset[str], tuple[_DepInfo, ...]]:
        cache_key = (pid_key(parent) if parent is not None else None, cand.key, opts)
        cached = self._deps_cache.get(cache_key)
        if cached is not None:
            return cached
        used_features, deps = _resolve_features(parent, summary, opts)
        self.registry.prefetch(dep for dep, _ in deps)
        infos = []
        for dep, features in deps:
            try:
                candidates = self.query(dep)
            except NocargoError as err:
                raise NocargoError(
                    f"failed to get `{dep.name}` as a dependency of "
                    f"{_describe_path(cx, cand.package_id)}",
                    notes=[err.render()]) from err
            infos.append((dep, candidates, features))
        infos.sort(key=lambda info: len(info[1]))
        out = (frozenset(used_features), tuple(infos))
        self._deps_cache[cache_key] = out
        return out


class _RequirementError(Exception):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(name)
        self.kind = kind
        self.name = name


class _Requirements:
    """cargo's ``Requirements``: features enabled on one package and on its dependencies."""

    def __init__(self, summary: PackageSummary) -> None:
        self.summary = summary
        self.deps: dict[str, set[str]] = {}
        self.features: set[str] = set()

    def require_dep_feature(self, package: str, feat: str, weak: bool) -> None:
        if not weak and package in self.summary.optional_dep_names:
            if package in self.summary.features:
                self.require_feature(package)
        self.deps.setdefault(package, set()).add(feat)

    def require_feature(self, feat: str) -> None:
        if feat in self.features:
            return
        self.features.add(feat)
        values = self.summary.features.get(feat)
        if values is None:
            raise _RequirementError("missing_feature", feat)
        for fv in values:
            if isinstance(fv, FeatureRef) and fv.feature == feat:
                raise _RequirementError("cycle", feat)
            self.require_value(fv)

    def require_value(self, fv: FeatureValue) -> None:
        if isinstance(fv, FeatureRef):
            self.require_feature(fv.feature)
        elif isinstance(fv, DepRef):
            self.deps.setdefault(fv.dep_name, set())
        else:
            assert isinstance(fv, DepFeatureRef)
            self.require_dep_feature(fv.dep_name, fv.dep_feature, fv.weak)


def _build_requirements(parent: PackageId | None, summary: PackageSummary,
                        opts: _Opts) -> _Requirements:
    reqs = _Requirements(summary)
    try:
        if opts.cli and opts.all_features:
            for key in sorted(summary.features):
                reqs.require_feature(key)
        for feature in (opts.features if opts.cli else sorted(opts.features)):
            if opts.cli:
                from ..summary import parse_feature_value
                reqs.require_value(parse_feature_value(feature))
            else:
                reqs.require_feature(feature)
        if opts.uses_default and "default" in summary.features:
            reqs.require_feature("default")
    except _RequirementError as err:
        raise _activate_error(err, parent, summary) from None
    return reqs


def _resolve_features(parent: PackageId | None, summary: PackageSummary,
                      opts: _Opts) -> tuple[set[str], list[tuple[Dep, frozenset[str]]]]:
    reqs = _build_requirements(parent, summary, opts)
    out: list[tuple[Dep, frozenset[str]]] = []
    valid: set[str] = set()
    for dep in summary.dependencies:
        if not (dep.is_transitive or opts.dev_deps):
            continue
        if dep.optional and dep.name_in_toml not in reqs.deps:
            continue
        valid.add(dep.name_in_toml)
        base = set(reqs.deps.get(dep.name_in_toml, ()))
        base.update(dep.features)
        out.append((dep, frozenset(base)))
    if parent is None:
        for name in sorted(reqs.deps):
            if name not in valid:
                raise NocargoError(
                    f"package `{show_id(summary.package_id)}` does not have a dependency named "
                    f"`{name}`")
    return reqs.features, out


def _activate_error(err: _RequirementError, parent: PackageId | None,
                    summary: PackageSummary) -> Exception:
    feat = err.name
    if err.kind == "cycle":
        return NocargoError(f"cyclic feature dependency: feature `{feat}` depends on itself")
    deps = [d for d in summary.dependencies if d.name_in_toml == feat]
    pkg = show_id(summary.package_id)
    if not deps:
        if parent is None:
            return NocargoError(f"package `{pkg}` does not have the feature `{feat}`")
        return _Conflict(parent, ConflictReason(ConflictReason.MISSING_FEATURE, feat))
    if any(d.optional for d in deps):
        if parent is None:
            return NocargoError(
                f"package `{pkg}` does not have feature `{feat}`",
                notes=["help: an optional dependency with that name exists, but the `features` "
                       'table includes it with the "dep:" syntax so it does not have an '
                       "implicit feature with that name"])
        return _Conflict(parent, ConflictReason(ConflictReason.NON_IMPLICIT_DEPENDENCY_AS_FEATURE, feat))
    if parent is None:
        return NocargoError(
            f"package `{pkg}` does not have feature `{feat}`",
            notes=["help: a dependency with that name exists but it is required dependency and "
                   "only optional dependencies can be used as features."])
    return _Conflict(parent, ConflictReason(ConflictReason.REQUIRED_DEPENDENCY_AS_FEATURE, feat))


# --------------------------------------------------------------------------------------
# the main loop
# --------------------------------------------------------------------------------------


def solve(roots: Sequence[RootRequest], registry: PackageRegistry, prefs: VersionPreferences,
          replacements: Sequence[Replacement] = ()) -> Resolution:
    """Resolve versions for ``roots`` (cargo's ``resolver::resolve``); raises
    :class:`ResolveError` with cargo's explanation when no solution exists."""
    queryer = _Queryer(registry, prefs, replacements)
    past = ConflictCache()
    cx = _activate_deps_loop(queryer, roots, past)
    resolution = _finish(cx, queryer)
    _check_cycles(resolution)
    return resolution


def _activate(cx: _Context, queryer: _Queryer, parent: tuple[Candidate, Dep] | None,
              cand: Candidate, opts: _Opts) -> _DepsFrame | None:
    cx.age += 1
    if parent is not None:
        cx.link(cand.package_id, parent[0].package_id, parent[1])
    summary = queryer.registry.summary(cand)
    activated = cx.flag_activated(cand, summary, opts, parent[1] if parent is not None else None)
    repl = queryer.replacement(cand)
    if repl is not None:
        r_cand, r_summary = repl
        if cx.flag_activated(r_cand, r_summary, opts, None) and activated:
            return None
        cand, summary = r_cand, r_summary
    elif activated:
        return None
    used, deps = queryer.build_deps(cx, parent[0].package_id if parent is not None else None,
                                    cand, summary, opts)
    if used:
        cx.resolve_features[cand.key] = cx.resolve_features.get(cand.key, frozenset()) | used
    return _DepsFrame(cand, summary, False, deps)


def _activate_deps_loop(queryer: _Queryer, roots: Sequence[RootRequest],
                        past: ConflictCache) -> _Context:
    cx = _Context()
    backtrack_stack: list[_BacktrackFrame] = []
    remaining_deps = _RemainingDeps()

    for root in roots:
        cand = queryer.registry.add_root(root.summary)
        opts = _Opts(root.dev_deps, True, frozenset(root.features), root.all_features,
                     root.uses_default_features)
        try:
            frame = _activate(cx, queryer, None, cand, opts)
        except _Conflict as exc:  # pragma: no cover - cargo panics here
            raise NocargoError(f"unexpected conflict activating root {show_id(cand.package_id)}") from exc
        if frame is not None:
            remaining_deps.push(frame)

    while True:
        popped = remaining_deps.pop_most_constrained()
        if popped is None:
            break
        just_here_for_errors, frame, (dep, candidates, features) = popped
        parent, parent_summary = frame.parent, frame.parent_summary

        just_here_for_errors = just_here_for_errors and past.find_conflicting(cx.is_active, dep) is not None
        remaining = _RemainingCandidates(candidates)
        conflicting: ConflictMap = {}
        backtracked = False

        while True:
            nxt = remaining.next(conflicting, cx)
            if nxt is None:
                generalized = None
                if not just_here_for_errors and not backtracked:
                    past.insert(dep, conflicting)
                    generalized = _generalize_conflicting(cx, queryer, past, parent, dep, conflicting)
                found = _find_candidate(cx, backtrack_stack, parent, backtracked,
                                        generalized if generalized is not None else conflicting)
                if found is None:
                    raise _activation_error(cx, queryer, parent, dep, conflicting, candidates)
                candidate, has_another, bframe = found
                cx = bframe.context
                remaining_deps = bframe.remaining_deps
                remaining = bframe.remaining_candidates
                parent = bframe.parent
                parent_summary = bframe.parent_summary
                dep = bframe.dep
                features = bframe.features
                conflicting = bframe.conflicting
                backtracked = True
            else:
                candidate, has_another = nxt

            if just_here_for_errors and not backtracked and has_another:
                continue

            backtrack = None
            if has_another:
                backtrack = _BacktrackFrame(cx.copy(), remaining_deps.copy(), remaining.copy(),
                                            parent, parent_summary, dep, features, dict(conflicting))

            pid = candidate.package_id
            opts = _Opts(False, False, features, False, dep.uses_default_features)
            try:
                new_frame = _activate(cx, queryer, (parent, dep), candidate, opts)
            except _Conflict as exc:
                conflicting[exc.pid] = exc.reason
                ok = False
            else:
                if new_frame is None:
                    ok = True
                else:
                    ok = _consider_frame(cx, queryer, past, backtrack_stack, remaining_deps,
                                         new_frame, pid, parent, backtracked, has_another,
                                         just_here_for_errors, conflicting)
            if ok:
                if backtrack is not None:
                    backtrack_stack.append(backtrack)
                break
            if backtrack is not None:
                cx = backtrack.context
    return cx


def _consider_frame(cx: _Context, queryer: _Queryer, past: ConflictCache,
                    backtrack_stack: list[_BacktrackFrame], remaining_deps: _RemainingDeps,
                    frame: _DepsFrame, pid: PackageId, parent: Candidate, backtracked: bool,
                    has_another: bool, just_here_for_errors: bool,
                    conflicting: ConflictMap) -> bool:
    """After a successful activation: skip the frame if it is known to fail (cargo's
    ``has_past_conflicting_dep`` logic); push it otherwise. Returns whether it was kept."""
    pid_k = pid_key(pid)
    has_past_conflicting_dep = just_here_for_errors
    if not has_past_conflicting_dep:
        for new_dep, _, _ in frame.remaining():
            con = past.find_conflicting(cx.is_active, new_dep)
            if con is not None:
                for p in sorted_ids(con):
                    if pid_key(p) != pid_k:
                        conflicting[p] = con[p]
                has_past_conflicting_dep = True
                break
    if not has_past_conflicting_dep:
        related = past.dependencies_conflicting_with(pid)
        if related:
            for other_parent, other_dep in remaining_deps.iter():
                if other_dep not in related:
                    continue
                con = past.find_conflicting(cx.is_active, other_dep, pid)
                if con is None:
                    continue
                rel = next(r for p, r in con.items() if pid_key(p) == pid_k)
                for p in sorted_ids(con):
                    if pid_key(p) != pid_k:
                        conflicting[p] = con[p]
                conflicting[other_parent] = rel
                has_past_conflicting_dep = True
                break
    activate_for_error_message = has_past_conflicting_dep and not has_another and (
        just_here_for_errors
        or _find_candidate(cx, list(backtrack_stack), parent, backtracked, conflicting,
                           peek=True) is None)
    if activate_for_error_message:
        backtrack_stack.clear()
    frame = _DepsFrame(frame.parent, frame.parent_summary, has_past_conflicting_dep, frame.deps,
                       frame.offset)
    if not has_past_conflicting_dep or activate_for_error_message:
        remaining_deps.push(frame)
        return True
    return False


def _find_candidate(cx: _Context, backtrack_stack: list[_BacktrackFrame], parent: Candidate,
                    backtracked: bool, conflicting: ConflictMap, *, peek: bool = False):
    """cargo's ``find_candidate``: pop backtrack frames until one could change the outcome."""
    age = None if backtracked else cx.is_conflicting(parent.package_id, conflicting)
    new_frame = None
    if age is not None:
        while backtrack_stack:
            frame = backtrack_stack.pop()
            if frame.context.age < age:
                new_frame = frame
                break
    elif backtrack_stack:
        new_frame = backtrack_stack.pop()
    if new_frame is None:
        return None
    if peek:
        return True
    nxt = new_frame.remaining_candidates.next(new_frame.conflicting, new_frame.context)
    assert nxt is not None, "a saved frame always has another candidate"
    return nxt[0], nxt[1], new_frame


def _generalize_conflicting(cx: _Context, queryer: _Queryer, past: ConflictCache,
                            parent: Candidate, dep: Dep, conflicting: ConflictMap) -> ConflictMap | None:
    """cargo's ``generalize_conflicting``: replace the newest culprit by one of its parents
    when every alternative of that parent's dependency is known to conflict too."""
    if not conflicting:
        return None
    best = None
    for pid in sorted_ids(conflicting):
        age = cx.is_active(pid)
        if age is None:
            return None
        if best is None or (age, pid_sort_key(pid)) > (best[0], pid_sort_key(best[1])):
            best = (age, pid)
    assert best is not None
    critical_age, critical_id = best
    critical_reason = conflicting[critical_id]
    if cx.is_path_from_to(parent.package_id, critical_id):
        return None
    edges = cx.parent_edges(critical_id)
    for critical_parent in sorted(edges, key=pid_sort_key):
        p_age = cx.is_active(critical_parent)
        if p_age is None or p_age >= critical_age:
            continue
        for critical_dep in sorted(edges[critical_parent], key=_dep_sort_key):
            others = []
            ok = True
            for other in reversed(queryer.query(critical_dep)):
                other_key = other.key

                def is_active(p: PackageId, _k=other_key) -> int | None:
                    if pid_key(p) == _k:
                        return critical_age
                    return cx.is_active(p)

                con = past.find(dep, is_active, other.package_id, critical_age)
                if con is None:
                    ok = False
                    break
                others.append((other.package_id, con))
            if not ok:
                continue
            new = dict(conflicting)
            for _, con in others:
                new.update(con)
            for other_id, _ in others:
                new.pop(other_id, None)
            new[critical_parent] = critical_reason
            past.insert(dep, new)
            return new
    return None


def _dep_sort_key(dep: Dep) -> tuple:
    d = dep.decl
    return (d.name, str(dep.source), d.req, d.kind.value, d.target or "", d.name_in_toml)


# --------------------------------------------------------------------------------------
# results and errors
# --------------------------------------------------------------------------------------


def _finish(cx: _Context, queryer: _Queryer) -> Resolution:
    packages: dict[tuple, Candidate] = {}
    summaries: dict[tuple, PackageSummary] = {}
    for cand, summary, _ in cx.activations.values():
        packages[cand.key] = cand
        summaries[cand.key] = summary
    edges: dict[PackageId, dict[PackageId, frozenset[Dep]]] = {}
    by_key = {k: c.package_id for k, c in packages.items()}
    for child_key, parents in cx.parents.items():
        child = by_key.get(child_key)
        if child is None:
            continue
        for parent, deps in parents.items():
            p = by_key.get(pid_key(parent), parent)
            edges.setdefault(p, {})[child] = deps
    replacements = {}
    for key, cand in packages.items():
        repl = queryer.replacement(cand)
        if repl is not None:
            replacements[cand.package_id] = repl[0].package_id
    features = {c.package_id: cx.resolve_features.get(k, frozenset()) for k, c in packages.items()}
    return Resolution(packages, summaries, edges, replacements, features)


def _check_cycles(res: Resolution) -> None:
    """cargo's ``check_cycles``: no cycle through normal/build edges (dev edges may cycle)."""
    graph: dict[tuple, list[PackageId]] = {}
    for parent, children in res.edges.items():
        out = graph.setdefault(pid_key(parent), [])
        for child, deps in children.items():
            if any(d.is_transitive for d in deps):
                out.append(child)
                repl = res.replacements.get(child)
                if repl is not None:
                    out.append(repl)
    checked: set[tuple] = set()
    for start in res.package_ids():
        if pid_key(start) in checked:
            continue
        # iterative DFS with an explicit path
        stack: list[tuple[PackageId, Iterator[PackageId]]] = [(start, iter(graph.get(pid_key(start), ())))]
        on_path = {pid_key(start)}
        checked.add(pid_key(start))
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop()
                on_path.discard(pid_key(node))
                continue
            ck = pid_key(child)
            if ck in on_path:
                cycle = [p for p, _ in stack] + [child]
                idx = next(i for i, p in enumerate(cycle) if pid_key(p) == ck)
                shown = "\n".join(f"    ... which depends on `{show_id(p)}`" for p in cycle[idx + 1:])
                raise ResolveError(
                    f"cyclic package dependency: package `{show_id(child)}` depends on itself. "
                    f"Cycle:\npackage `{show_id(child)}`\n{shown}")
            if ck not in checked:
                checked.add(ck)
                on_path.add(ck)
                stack.append((child, iter(graph.get(ck, ()))))


def show_id(pid: PackageId) -> str:
    """``name v1.2.3`` plus `` (source)`` for non-crates.io sources, as cargo prints ids."""
    text = f"{pid.name} v{pid.version}"
    src = pid.source
    if src.is_crates_io():
        return text
    if src.is_path():
        return f"{text} ({src.url})"
    return f"{text} ({src.to_lock_string(with_precise=src.is_git())})"


def _describe_path(cx: _Context, pid: PackageId) -> str:
    chain = cx.path_to_root(pid)
    lines = [f"package `{show_id(chain[0][0])}`"]
    for p, dep in chain[1:]:
        if dep is None:
            continue
        kind = "path " if dep.source.is_path() else "git " if dep.source.is_git() else ""
        locked = f"(locked to {dep.locked}) " if dep.locked is not None else ""
        lines.append(f"    ... which satisfies {kind}dependency `{dep.describe()}` {locked}"
                     f"of package `{show_id(p)}`")
    return "\n".join(lines)


def _activation_error(cx: _Context, queryer: _Queryer, parent: Candidate, dep: Dep,
                      conflicting: ConflictMap, candidates: Sequence[Candidate]) -> ResolveError:
    """cargo's ``activation_error``: explain why ``dep`` of ``parent`` cannot be satisfied."""
    required_by = _describe_path(cx, parent.package_id)
    locked = f"(locked to {dep.locked}) " if dep.locked is not None else ""
    if candidates:
        lines = [f"failed to select a version for `{dep.name}`.",
                 f"    ... required by {required_by}",
                 f"versions that meet the requirements `{dep.req_text}` {locked}are: "
                 + ", ".join(str(c.version) for c in candidates)]
        items = sorted(conflicting.items(), key=lambda kv: (pid_sort_key(kv[0]), kv[1]), reverse=True)
        has_semver = False
        for p, reason in items:
            if reason.is_semver:
                has_semver = True
            elif reason.is_links:
                lines += ["", f"package `{dep.name}` links to the native library `{reason.name}`, "
                          f"but it conflicts with a previous package which links to `{reason.name}` "
                          f"as well:\n{_describe_path(cx, p)}",
                          "note: only one package in the dependency graph may specify the same "
                          "links value to ensure that only one copy of a native library is linked "
                          "in the final binary",
                          f'help: try to adjust your dependencies so that only one package uses the '
                          f'`links = "{reason.name}"` value']
            else:
                lines += ["", f"package `{p.name}` depends on `{dep.name}` with feature "
                          f"`{reason.name}` but `{dep.name}` does not have that feature."]
                if reason.kind == ConflictReason.REQUIRED_DEPENDENCY_AS_FEATURE:
                    lines.append("note: a required dependency with that name exists, but only "
                                 "optional dependencies can be used as features.")
                elif reason.kind == ConflictReason.NON_IMPLICIT_DEPENDENCY_AS_FEATURE:
                    lines.append('note: an optional dependency with that name exists, but that '
                                 'dependency uses the "dep:" syntax in the features table, so it '
                                 'does not have an implicit feature with that name.')
        if has_semver:
            lines += ["", "all possible versions conflict with previously selected packages"]
            for p, reason in items:
                if reason.is_semver:
                    lines += ["", f"  previously selected {_describe_path(cx, p)}"]
        lines += ["", f"failed to select a version for `{dep.name}` which could resolve this "
                  "conflict"]
        return ResolveError(lines[0], notes=lines[1:])

    rejected = queryer.registry.rejected(dep)
    alternatives = queryer.registry.alternatives(dep)
    lines: list[str] = []
    hints: list[str] = []
    if rejected:
        head = f'failed to select a version for the requirement `{dep.name} = "{dep.req_text}"`' + (
            f" (locked to {dep.locked})" if dep.locked is not None else "")
        lines += [f"  version {c.version} is yanked" if why == "yanked" else
                  f"  version {c.version}'s index entry is invalid" for c, why in rejected]
    elif alternatives:
        head = f'failed to select a version for the requirement `{dep.name} = "{dep.req_text}"`' + (
            f" (locked to {dep.locked})" if dep.locked is not None else "")
        shown = [str(c.version) for c in alternatives[:3]] + (["..."] if len(alternatives) > 3 else [])
        lines.append(f"candidate versions found which didn't match: {', '.join(shown)}")
        pre = next((c for c in alternatives if c.version.is_prerelease), None)
        if pre is not None:
            hints += ["help: if you are looking for the prerelease package it needs to be "
                      "specified explicitly",
                      f'    {pre.name} = {{ version = "{pre.version}" }}']
        if dep.source.is_path() and dep.is_locked:
            hints.append("help: to update a path dependency's locked version, run "
                         "`nocargo-py lock`")
    else:
        head = f"no matching package named `{dep.name}` found"
    lines.append(f"location searched: {queryer.registry.describe_source(dep.source)}")
    lines.append(f"required by {required_by}")
    return ResolveError(head, notes=lines + hints)
