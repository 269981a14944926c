"""``Cargo.lock`` for a loaded workspace: read the old one, resolve, decide whether to write.

* :func:`inputs_from_workspace` — a :class:`~nocargo_py.resolve.versions.LockInputs` from a
  :class:`~nocargo_py.package.Workspace` (members in cargo's discovery order, ``[patch]``
  URLs canonicalised, resolver "3" rust-version preference).
* :func:`lock_workspace` — what ``nocargo-py lock`` does, and what cargo does before every
  build: resolve with the existing lock as a guide and report whether ``Cargo.lock`` changes.
  When nothing changes the file is left alone (whatever its format version); when something
  does, the format is raised to the default for the workspace's ``rust-version`` (never
  lowered) and — with ``--locked`` — the run fails instead.
* :func:`ensure_lockfile` — for ``gen``: the lock file to plan from, created or updated only
  when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


from ..errors import NocargoError
from ..fsutil import replace_file
from ..lockfile import Lockfile, header_comments, parse_lockfile, write_lockfile
from ..package import Workspace
from ..source import SourceId, canonical_url
from .graph import local_path_ids
from .provider import PackageSource, RegistrySource, pid_key
from .solver import show_id
from .versions import LockInputs, VersionResolution, default_lock_version, resolve_versions

__all__ = [
    "LockOutcome",
    "ensure_lockfile",
    "inputs_from_workspace",
    "lock_workspace",
    "registry_loader",
    "unused_patch_warnings",
]


def _patch_url(key: str) -> str:
    """The canonical URL a ``[patch]`` table patches (the workspace loader already mapped
    ``crates-io`` and registry names to index URLs)."""
    if key.startswith("registry+"):
        key = key[len("registry+"):]
    return canonical_url(key)


def inputs_from_workspace(ws: Workspace, *, config=None) -> LockInputs:
    """What version resolution needs from a workspace (see :class:`LockInputs`)."""
    members = ws.members  # cargo's discovery order: it decides ties between roots
    honor = ws.resolver == "3"
    if config is not None:
        setting = _config_get(config, "resolver.incompatible-rust-versions")
        if setting == "fallback":
            honor = True
        elif setting == "allow":
            honor = False
    patches = tuple(sorted(((_patch_url(k), tuple(v)) for k, v in ws.patch.items()),
                           key=lambda kv: kv[0]))
    # a manifest with both [patch] and [replace] fails to load; `[patch]` from
    # .cargo/config.toml next to a manifest's [replace] is fine (as in cargo)
    return LockInputs(
        members=tuple(p.summary for p in members),
        local_packages=tuple(p.summary for p in ws.packages),
        patches=patches,
        replacements=tuple(ws.replace),
        rust_versions=tuple(p.rust_version for p in members),
        honor_rust_version=honor,
    )


def _config_get(config, key: str):
    try:
        value = config.get(key)
    except (AttributeError, KeyError, NocargoError):
        return None
    return getattr(value, "value", value)


def registry_loader(registries, git=None) -> Callable[[SourceId], PackageSource]:
    """Map non-local sources to package sources: registries through the index's
    ``Registries`` (``registries.get(source)``; locked dependencies first look in its
    on-disk cache, without network, as cargo does), git sources through ``git``."""
    cached = registries.cached_view() if hasattr(registries, "cached_view") else None

    def load(source: SourceId) -> PackageSource:
        if source.is_registry():
            view = None
            if cached is not None:
                try:
                    view = cached.get(source)
                except NocargoError:
                    view = None
            return RegistrySource(registries.get(source), source, cached=view)
        if source.is_git():
            if git is None:
                raise NocargoError(
                    f"git source `{source.to_lock_string(with_precise=False)}` cannot be "
                    "resolved here")
            return git(source)
        raise NocargoError(f"unsupported source `{source.to_lock_string()}`")

    return load


@dataclass(frozen=True)
class LockOutcome:
    """The result of :func:`lock_workspace`."""

    lockfile: Lockfile
    text: str
    changed: bool
    created: bool
    path: Path
    resolution: VersionResolution
    previous: Lockfile | None
    rust_version: str | None = None  # what "latest Rust X compatible" refers to (resolver 3)


def read_previous(ws: Workspace) -> tuple[Lockfile | None, str | None]:
    """The existing ``Cargo.lock`` (path packages bound to the workspace's packages and to
    the ``[patch]``/``[replace]`` path packages) and its text."""
    path = ws.lockfile_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise NocargoError(f"failed to read `{path}`: {exc.strerror}") from None
    lock = parse_lockfile(text, path)
    return lock.with_path_sources(local_path_ids(ws)), text


def lock_workspace(ws: Workspace, load_source: Callable[[SourceId], PackageSource], *,
                   locked: bool = False, locked_flag: str = "--locked",
                   config=None, ignore_previous: bool = False) -> LockOutcome:
    """Resolve ``ws`` with its existing lock file as a guide; decide what ``Cargo.lock``
    becomes. Nothing is written here. With ``locked``, a change is an error (as cargo's
    ``--locked``: "cannot update the lock file ... because --locked was passed").
    ``ignore_previous`` resolves from scratch (``cargo generate-lockfile``)."""
    if not ws.members:
        raise NocargoError("you can't generate a lockfile for an empty workspace.")
    previous, orig = read_previous(ws)
    inputs = inputs_from_workspace(ws, config=config)
    resolution = resolve_versions(inputs, load_source,
                                  previous=None if ignore_previous else previous)
    header = header_comments(orig) if orig else ()
    lock = resolution.to_lockfile(header_comments=header)
    text = write_lockfile(lock)
    path = ws.lockfile_path()
    rust = None
    if inputs.honor_rust_version:
        rust = inputs.lowest_rust_version() or inputs.rustc_version
    if orig is not None and _same_lines(orig, text):
        return LockOutcome(lock, orig, False, False, path, resolution, previous, rust)
    if orig is not None and locked and previous is not None and _same_graph(previous, lock):
        return LockOutcome(lock, orig, False, False, path, resolution, previous, rust)
    if locked:
        action = "update" if orig is not None else "create"
        raise NocargoError(
            f"cannot {action} the lock file {path} because {locked_flag} was passed to prevent "
            "this",
            notes=[f"help: to generate the lock file without accessing the network, remove the "
                   f"{locked_flag} flag and use --offline instead."])
    default = default_lock_version(inputs.lowest_rust_version())
    if lock.version < default:
        lock = lock.with_version(default)
        text = write_lockfile(lock)
    return LockOutcome(lock, text, True, orig is None, path, resolution, previous, rust)


def _same_lines(a: str, b: str) -> bool:
    """cargo's ``orig.lines().eq(current.lines())`` (``\\r\\n`` and a final newline ignored)."""
    return a.splitlines() == b.splitlines()


def _same_graph(a: Lockfile, b: Lockfile) -> bool:
    def shape(lock: Lockfile):
        return (
            sorted((pid_key(p.id), tuple(sorted(pid_key(d) for d in p.dependencies)),
                    p.checksum, pid_key(p.replace) if p.replace else None) for p in lock.packages),
            sorted(pid_key(p.id) for p in lock.patch_unused),
            lock.metadata,
        )
    return shape(a) == shape(b)


def write_outcome(outcome: LockOutcome) -> None:
    """Write the lock file if it changed (atomically: temp file, then rename)."""
    if not outcome.changed:
        return
    try:
        replace_file(outcome.path, outcome.text)
    except OSError as exc:
        raise NocargoError(f"failed to write `{outcome.path}`: {exc.strerror or exc}") from None


_UNUSED_PATCH_HELP = """\
help: Check that the patched package version and available features are compatible
      with the dependency requirements. If the patch has a different version from
      what is locked in the Cargo.lock file, run `cargo update` to use the new
      version. This may also occur with an optional dependency that is not enabled."""


def _registry_name(source: SourceId) -> str:
    """cargo's ``SourceId::display_registry_name``."""
    if source.is_crates_io():
        return "crates-io"
    if source.is_path():
        return source.url
    return canonical_url(source.url)


def unused_patch_warnings(resolution: VersionResolution) -> list[str]:
    """cargo's warnings for ``[patch]`` entries the graph does not use: where the graph has
    the name only from sources the patch was not for, the sources it has (a misspelled
    ``[patch.<url>]``?); the others together, with cargo's general help."""
    by_name: dict[str, set[SourceId]] = {}
    for pid in resolution.package_ids():
        by_name.setdefault(pid.name, set()).add(pid.source.canonical())
    warnings: list[str] = []
    general: list[str] = []
    seen = set()
    for cand in sorted(resolution.unused_patches, key=lambda c: pid_key(c.package_id)):
        if cand.key in seen:
            continue
        seen.add(cand.key)
        head = f"patch `{show_id(cand.package_id)}` was not used in the crate graph"
        sources = by_name.get(cand.package_id.name)
        urls = resolution.unused_patch_urls.get(cand.key, frozenset())
        if sources and all(canonical_url(s.url) not in urls for s in sources):
            listed = "".join(f"\n          \t{_registry_name(s)}"
                             for s in sorted(sources, key=_registry_name))
            warnings.append(f"{head}\n  |\n  = help: perhaps you meant one of the following:{listed}")
        else:
            general.append(head)
    if general:
        warnings.append("\nwarning: ".join(general) + "\n" + _UNUSED_PATCH_HELP)
    return warnings


def ensure_lockfile(ws: Workspace, load_source: Callable[[SourceId], PackageSource], *,
                    locked: bool = False, config=None, write: bool = True,
                    shell=None) -> Lockfile:
    """The lock file to plan from (for ``gen``): the existing one if it is up to date,
    otherwise a resolved one (written unless ``write`` is false). Unused ``[patch]``
    entries are warned about on ``shell``, as cargo does on every resolve."""
    outcome = lock_workspace(ws, load_source, locked=locked, config=config)
    if shell is not None:
        for warning in unused_patch_warnings(outcome.resolution):
            shell.warn(warning)
    if write:
        write_outcome(outcome)
    if outcome.changed:
        return outcome.lockfile.with_path_sources(local_path_ids(ws))
    assert outcome.previous is not None
    return outcome.previous
