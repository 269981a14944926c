"""Version resolution for a workspace: create or update ``Cargo.lock`` as cargo does.

Entry points:

* :func:`resolve_versions` — cargo's ``resolve_with_previous``: the members of a
  :class:`LockInputs` are resolved with all features, all platforms and their
  dev-dependencies; with a ``previous`` lock file, every locked package that still fits is
  kept (its dependencies become exact requirements), previously locked versions are tried
  first where a dependency has to be re-resolved, and only what must change changes
  (``register_previous_locks``: a member dependency that matches nothing in the old lock
  unlocks that whole source, but old versions stay preferred).
* :meth:`VersionResolution.to_lockfile` — the result as a
  :class:`~nocargo_py.lockfile.Lockfile` (format version: the old file's, else the default
  for the members' lowest ``rust-version``: v4, v3 ≥ 1.53, v2 ≥ 1.41, v1 below).
* :func:`inputs_from_workspace` — build :class:`LockInputs` from a loaded
  :class:`~nocargo_py.package.Workspace`; :func:`lock_workspace` does the whole
  ``nocargo-py lock`` job (read the old lock, resolve, decide whether the file changes,
  honour ``--locked``).

The search itself is :mod:`nocargo_py.resolve.solver`; the packages come through the
:class:`~nocargo_py.resolve.provider.PackageRegistry` seam, so a fake index, the vendored
``registry-cache/`` and the live index are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..errors import NocargoError
from ..lockfile import Lockfile, lockfile_from_graph
from ..source import GitReference, PackageId, SourceId, canonical_url
from ..summary import Dependency, Summary
from .provider import (
    Candidate,
    Dep,
    LockedPatch,
    PackageRegistry,
    PackageSource,
    PathSource,
    pid_key,
    pid_sort_key,
    source_key,
    source_url_key,
)
from .solver import Replacement, Resolution, RootRequest, VersionPreferences, solve

__all__ = [
    "LockInputs",
    "VersionResolution",
    "default_lock_version",
    "resolve_versions",
]

RUSTC_VERSION = "1.95.0"
"""The toolchain whose behaviour is reproduced (resolver "3" without any ``rust-version``)."""


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockInputs:
    """What version resolution needs to know about a workspace.

    ``members``: the members' summaries in cargo's member order (the order in which cargo
    discovers them: ``workspace.members`` entries, each followed by its path dependencies
    inside the workspace, then the root package). ``local_packages``: every local package
    (members and path dependencies) — what a ``path`` source contains. ``patches``:
    ``[patch]`` tables as ``(canonical URL of the patched source, entries)``;
    ``replacements``: ``[replace]`` as ``(package-id spec, dependency)``.
    ``rust_versions``: the members' ``rust-version`` (``None`` when unset);
    ``honor_rust_version``: resolver "3" (or ``resolver.incompatible-rust-versions =
    "fallback"``).
    """

    members: tuple[Summary, ...]
    local_packages: tuple[Summary, ...] = ()
    patches: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    replacements: tuple[tuple[str, Dependency], ...] = ()
    rust_versions: tuple[str | None, ...] = ()
    honor_rust_version: bool = False
    rustc_version: str = RUSTC_VERSION

    def lowest_rust_version(self) -> str | None:
        """The lowest member ``rust-version`` (cargo's ``Workspace::lowest_rust_version``)."""
        versions = [v for v in self.rust_versions if v]
        if not versions:
            return None
        return min(versions, key=_partial_key)


def _partial_key(text: str) -> tuple:
    parts = text.split(".")
    nums: list[int] = []
    for p in parts[:3]:
        try:
            nums.append(int(p))
        except ValueError:
            nums.append(0)
    while len(nums) < 3:
        nums.append(-1)  # cargo's PartialVersion: a missing part sorts before any number
    return tuple(nums)


def default_lock_version(rust_version: str | None) -> int:
    """cargo's ``ResolveVersion::with_rust_version``: the format of a new lock file."""
    if rust_version is None:
        return 4
    key = _partial_key(rust_version)
    if key >= (1, 83, -1):
        return 4
    if key >= (1, 53, -1):
        return 3
    if key >= (1, 41, -1):
        return 2
    return 1


# --------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionResolution:
    """A resolved workspace: the packages, their edges, checksums, unused patches."""

    resolution: Resolution
    unused_patches: tuple[Candidate, ...]
    version: int
    metadata: tuple[tuple[str, str], ...] = ()
    #: for each unused patch (by candidate key): the canonical URLs it was registered for
    unused_patch_urls: Mapping[Any, frozenset[str]] = field(default_factory=dict)

    def package_ids(self) -> list[PackageId]:
        return self.resolution.package_ids()

    def to_lockfile(self, *, version: int | None = None,
                    header_comments: Iterable[str] = ()) -> Lockfile:
        """The resolve as a :class:`~nocargo_py.lockfile.Lockfile` (edges of every kind)."""
        res = self.resolution
        ids = {k: c.package_id for k, c in res.packages.items()}
        graph: dict[PackageId, list[PackageId]] = {pid: [] for pid in ids.values()}
        for parent, children in res.edges.items():
            graph[ids.get(pid_key(parent), parent)].extend(children)
        checksums = {c.package_id: (c.checksum if c.package_id.source.is_registry() else None)
                     for c in res.packages.values()}
        _check_duplicates(graph)
        unused = tuple(c.package_id for c in self.unused_patches)
        unused_sums = {c.package_id: (c.checksum if c.package_id.source.is_registry() else None)
                       for c in self.unused_patches}
        return lockfile_from_graph(
            graph,
            version=self.version if version is None else version,
            checksums=checksums,
            replacements=dict(res.replacements),
            patch_unused=unused,
            unused_checksums=unused_sums,
            metadata=dict(self.metadata),
            header_comments=header_comments,
        )


def _check_duplicates(graph: Mapping[PackageId, object]) -> None:
    """cargo's ``check_duplicate_pkgs_in_lockfile``: two ids that print the same."""
    seen: dict[tuple, PackageId] = {}
    for pid in sorted(graph, key=pid_sort_key):
        source = "" if pid.source.is_path() else pid.source.to_lock_string(with_precise=False)
        key = (pid.name, pid.version, source)
        other = seen.get(key)
        if other is not None:
            raise NocargoError(
                f"package collision in the lockfile: packages {_show(other)} and {_show(pid)} "
                "are different, but only one can be written to lockfile unambiguously")
        seen[key] = pid


def _show(pid: PackageId) -> str:
    if pid.source.is_path():
        return f"{pid.name} v{pid.version} ({pid.source.url})"
    if pid.source.is_crates_io():
        return f"{pid.name} v{pid.version}"
    return f"{pid.name} v{pid.version} ({pid.source.to_lock_string()})"


# --------------------------------------------------------------------------------------
# resolve_with_previous
# --------------------------------------------------------------------------------------

SourceLoader = Callable[[SourceId], PackageSource]


def resolve_versions(
    inputs: LockInputs,
    load_source: SourceLoader,
    *,
    previous: Lockfile | None = None,
    keep_previous: Callable[[PackageId], bool] | None = None,
) -> VersionResolution:
    """Resolve the workspace's versions (cargo's ``resolve_with_previous``).

    ``load_source`` returns the :class:`PackageSource` of a non-local source (registries,
    git); ``path`` sources are served from ``inputs.local_packages``. ``previous`` is the
    existing lock file with path packages bound to the workspace's ids
    (:meth:`Lockfile.with_path_sources`); ``keep_previous`` (default: keep all) says which
    of its packages may stay locked.
    """
    keep_prev = keep_previous or (lambda _pid: True)
    local = _LocalPackages(inputs.local_packages)

    def loader(source: SourceId) -> PackageSource:
        if source.is_path():
            return local.source(source)
        return load_source(source)

    registry = PackageRegistry(loader)
    prefs = VersionPreferences()
    if inputs.honor_rust_version:
        versions = [v for v in inputs.rust_versions if v]
        prefs.set_rust_versions(versions or [inputs.rustc_version])

    avoid_patch_ids = _register_patch_entries(registry, inputs, previous, prefs, keep_prev)

    def keep(pid: PackageId) -> bool:
        return keep_prev(pid) and pid_key(pid) not in avoid_patch_ids

    if previous is not None:
        _register_previous_locks(inputs, local, registry, previous, keep)
        registry.prefetch_locked()
        for locked in previous.packages:
            if keep(locked.id):
                prefs.prefer_package_id(locked.id)

    registry.lock_patches()
    roots = [RootRequest(registry.lock(member)) for member in inputs.members]
    replacements = _lock_replacements(inputs, previous, keep)
    try:
        resolution = solve(roots, registry, prefs, replacements)
    except NocargoError as err:
        missing = registry.offline_missing()
        if missing:
            shown = ", ".join(f"`{n}`" for n in missing[:10]) + (", ..." if len(missing) > 10 else "")
            err.notes = tuple(err.notes) + (
                f"note: index data was not available for {shown} (offline or vendored index); "
                "such crates count as nonexistent, which can cause surprising resolution "
                "failures",
                "help: retry without --offline / --index-dir, or vendor the missing index "
                "files")
        raise

    used = set(resolution.packages)
    unused: list[Candidate] = []
    unused_urls: dict[Any, set[str]] = {}
    for url, c in registry.patch_candidates():
        if c.key not in used:
            unused.append(c)
            unused_urls.setdefault(c.key, set()).add(url)

    version = default_lock_version(inputs.lowest_rust_version())
    metadata: tuple[tuple[str, str], ...] = ()
    if previous is not None:
        _check_checksums(resolution, previous)
        metadata = previous.metadata
        version = previous.version
    return VersionResolution(resolution, tuple(unused), version, metadata,
                             {k: frozenset(v) for k, v in unused_urls.items()})


def load_path_package(directory: Path) -> Summary | None:
    """The package at ``directory`` (a ``[patch]``/``[replace]`` path, or a path dependency
    of such a package), loaded as cargo's path source does; ``None`` if there is none."""
    from ..workspace import load_standalone_package

    manifest = directory / "Cargo.toml"
    if not manifest.is_file():
        return None
    return load_standalone_package(manifest, SourceId.for_path(directory)).summary


class _LocalPackages:
    """Path sources: the local packages by directory (others loaded from disk on demand)."""

    def __init__(self, packages: Iterable[Summary],
                 load: Callable[[Path], Summary | None] = load_path_package) -> None:
        self.by_dir: dict[str, list[Summary]] = {}
        self._load = load
        for summary in packages:
            self.by_dir.setdefault(_dir_key(summary.source), []).append(summary)

    def _find(self, source: SourceId) -> list[Summary]:
        key = _dir_key(source)
        found = self.by_dir.get(key)
        if found is None:
            loaded = self._load(Path(source.url))
            found = [loaded] if loaded is not None else []
            self.by_dir[key] = found
        return found

    def source(self, source: SourceId) -> PackageSource:
        found = self._find(source)
        if not found:
            raise NocargoError(
                f"failed to read `{Path(source.url) / 'Cargo.toml'}`: no such file")
        return PathSource(source, found)

    def package(self, source: SourceId) -> Summary | None:
        found = self._find(source)
        return found[0] if found else None


def _dir_key(source: SourceId) -> str:
    return canonical_url(source.url.rstrip("/"))


def _register_patch_entries(registry: PackageRegistry, inputs: LockInputs,
                            previous: Lockfile | None, prefs: VersionPreferences,
                            keep_prev: Callable[[PackageId], bool]) -> set[tuple]:
    avoid: set[tuple] = set()
    for url, entries in inputs.patches:
        deps = [Dep.from_dependency(d) for d in entries]
        for dep in deps:
            prefs.prefer_dependency(dep)
        if previous is None:
            registry.patch(url, [(d, None) for d in deps])
            continue
        candidates = [p.id for p in previous.packages] + [p.id for p in previous.patch_unused]
        candidates = [pid for pid in candidates if keep_prev(pid)]
        registrations: list[tuple[Dep, LockedPatch | None]] = []
        for dep in deps:
            lock = None
            hit = next((pid for pid in candidates if dep.matches_id(pid)), None)
            if hit is not None:
                lock = LockedPatch(dep.lock_to(hit), hit)
            else:
                for pid in candidates:
                    master = _master_branch_git_source(pid, previous)
                    if master is not None and dep.matches_id(master):
                        using_master = PackageId(pid.name, pid.version,
                                                 dep.source.with_precise(pid.source.precise))
                        lock = LockedPatch(dep.lock_to(using_master), using_master, pid)
                        break
            registrations.append((dep, lock))
        for orig, unlock_id in registry.patch(url, registrations):
            avoid.add(pid_key(unlock_id))
            for locked in previous.packages:
                if orig.matches_ignoring_source(locked.id) and source_url_key(locked.id.source) == url:
                    avoid.add(pid_key(locked.id))
    return avoid


def _master_branch_git_source(pid: PackageId, previous: Lockfile) -> PackageId | None:
    """v1/v2 lock files wrote ``branch = "master"`` like the default branch: the other id."""
    if previous.version <= 2 and pid.source.is_git() and pid.source.reference is not None \
            and pid.source.reference.is_default():
        src = SourceId.for_git(pid.source.url, GitReference("branch", "master"), pid.source.precise)
        return PackageId(pid.name, pid.version, src)
    return None


def _register_previous_locks(inputs: LockInputs, local: _LocalPackages,
                             registry: PackageRegistry, previous: Lockfile,
                             keep: Callable[[PackageId], bool]) -> None:
    """cargo's ``register_previous_locks``: lock what can stay locked, poison what changed."""
    nodes = [p.id for p in previous.packages]
    nodes_by_name: dict[str, list[PackageId]] = {}
    for pid in nodes:
        nodes_by_name.setdefault(pid.name, []).append(pid)
    deps_of = {pid_key(p.id): p.dependencies for p in previous.packages}
    avoid: set[tuple] = set()

    def add_deps(start: PackageId) -> None:
        stack = [start]
        while stack:
            node = stack.pop()
            key = pid_key(node)
            if key in avoid:
                continue
            avoid.add(key)
            stack.extend(reversed(deps_of.get(key, ())))

    for node in nodes:
        if not keep(node):
            add_deps(node)

    member_keys = {pid_key(m.package_id) for m in inputs.members}
    path_deps = list(inputs.members)
    visited: set[tuple] = set()
    while path_deps:
        member = path_deps.pop()
        mkey = pid_key(member.package_id)
        if mkey in visited:
            continue
        visited.add(mkey)
        is_member = mkey in member_keys
        for decl in member.dependencies:
            dep = Dep.from_dependency(decl)
            if not is_member and (dep.optional or not dep.is_transitive):
                continue
            if dep.source.is_path():
                pkg = local.package(dep.source)
                if pkg is not None:
                    path_deps.append(pkg)
                    continue
            if any(dep.matches_ignoring_source(pid) for pid in nodes_by_name.get(dep.name, ())):
                continue
            dep_source = source_key(dep.source)
            for pid in nodes:
                if source_key(pid.source) == dep_source:
                    add_deps(pid)

    for node in nodes:
        if node.source.is_path():
            pkg = local.package(node.source)
            if pkg is not None and pid_key(pkg.package_id) != pid_key(node):
                avoid.add(pid_key(node))

    def keep2(pid: PackageId) -> bool:
        return keep(pid) and pid_key(pid) not in avoid

    registry.clear_lock()
    for locked in previous.packages:
        if not keep2(locked.id):
            continue
        deps = [d for d in locked.dependencies if keep2(d)]
        master = _master_branch_git_source(locked.id, previous)
        if master is not None:
            registry.register_lock(master, deps)
        registry.register_lock(locked.id, deps)


def _lock_replacements(inputs: LockInputs, previous: Lockfile | None,
                       keep: Callable[[PackageId], bool]) -> list[Replacement]:
    from .pkgspec import PackageIdSpec

    out: list[Replacement] = []
    prev_repl = []
    if previous is not None:
        by_key = {pid_key(p.id): p.id for p in previous.packages}
        for p in previous.packages:
            if p.replace is not None:
                prev_repl.append((p.id, by_key.get(pid_key(p.replace), p.replace)))
    for spec_text, decl in inputs.replacements:
        spec = PackageIdSpec.parse(spec_text)
        dep = Dep.from_dependency(decl)
        for key_id, val in prev_repl:
            if spec.matches(key_id) and dep.matches_id(val) and keep(val):
                dep = dep.lock_to(val)
                break
        out.append(Replacement(spec_text, spec.matches, dep))
    return out


def _check_checksums(resolution: Resolution, previous: Lockfile) -> None:
    """cargo's ``merge_from``: a package's checksum may not differ from the old lock's."""
    mine = {k: c for k, c in resolution.packages.items()}
    for locked in previous.packages:
        cand = mine.get(pid_key(locked.id))
        if cand is None:
            continue
        new = cand.checksum if cand.package_id.source.is_registry() else None
        old = locked.checksum
        if old is None or old == new:
            # a lock file records a checksum only where it knows one (v1: `<none>` for git)
            continue
        name = f"{locked.id.name} v{locked.id.version}"
        if new is None:
            raise NocargoError(
                f"checksum for `{name}` could not be calculated, but a checksum is listed in the "
                "existing lock file",
                notes=["this could be indicative of a few possible situations:",
                       "    * the source supports checksums, but was replaced with one that "
                       "doesn't",
                       "    * the lock file is corrupt"])
        raise NocargoError(
            f"checksum for `{name}` changed between lock files",
            notes=["this could be indicative of a few possible errors:",
                   "    * the lock file is corrupt",
                   "    * a replacement source in use (e.g., a mirror) returned a different "
                   "checksum",
                   "    * the source itself may be corrupt in one way or another",
                   f"unable to verify that `{name}` is the same as when the lockfile was "
                   "generated"])
