"""Where each package's files come from, and the package facts units need.

* local (path) packages: the package's own directory, relative to the generated file,
  filtered: the ``target`` directory, nested packages (every sub-directory holding a
  ``Cargo.toml``, as ``cargo package`` leaves them out), the generated file and the files
  ``nocargo-py init`` writes next to it, and ``Cargo.lock``; the Nix side also drops VCS
  directories and ``result`` symlinks (``nix/fetch.nix``). So editing a file outside a
  crate's directory never rebuilds it.
* registry packages: the ``.crate`` from the registry's ``dl`` URL with the
  ``Cargo.lock`` checksum (a fixed-output fetch);
* git packages: ``builtins.fetchGit`` at the locked commit (sub-directory of a git
  workspace, submodules).

Registry and git packages are described by :class:`~nocargo_py.sources.CrateInfo`
(targets, links, ``CARGO_PKG_*``); :func:`crate_facts` turns one into the
``targets``/``links``/``manifest_path`` object :func:`~nocargo_py.resolve.graph.graph_from_lockfile`
expects, rooted at a virtual directory so target paths relativise like local ones.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from ..errors import NocargoError
from ..package import Package, Target, TargetKind, Workspace
from ..plan import GitSource, PackagePlan, PathSource, RegistrySource, Source
from ..resolve.graph import ResolvedGraph, ResolvedPackage
from ..semver_req import Version
from ..source import PackageId
from ..sources.crate_info import CrateInfo

if TYPE_CHECKING:  # pragma: no cover
    from ..sources.git import GitFetchSpec

__all__ = [
    "GENERATED_COMPANIONS",
    "CrateFacts",
    "PackageFacts",
    "SourceProvider",
    "crate_facts",
    "package_facts",
    "env_path_sources",
    "path_excludes",
]

#: Files ``nocargo-py init`` writes next to the generated file; never part of a crate.
GENERATED_COMPANIONS = ("flake.nix", "flake.lock", "default.nix")
_VIRTUAL_ROOT = Path("/nocargo-crate")
_SKIP_SCAN = frozenset({".git", ".hg", ".svn", ".jj", ".pijul", "_darcs", ".bzr", "CVS",
                        "target", "node_modules"})


@dataclass(frozen=True)
class CrateFacts:
    """A registry/git package as the unit graph sees it (``CrateInfoLike``)."""

    info: CrateInfo
    targets: tuple[Target, ...]
    links: str | None
    manifest_path: Path


def crate_facts(info: CrateInfo) -> CrateFacts:
    """Targets (lib, build script) of a registry or git package from its :class:`CrateInfo`."""
    root = _VIRTUAL_ROOT / f"{info.name}-{info.version}"
    targets: list[Target] = []
    lib = info.lib
    if lib is not None:
        targets.append(Target(
            kind=TargetKind.LIB, name=lib.name, src_path=root / lib.src_path,
            crate_types=tuple(lib.crate_types), edition=lib.edition, test=lib.test,
            doctest=lib.doctest, doc=lib.doc, harness=lib.harness))
    if info.build is not None:
        stem = PurePosixPath(info.build).stem
        targets.append(Target(
            kind=TargetKind.BUILD_SCRIPT, name=f"build-script-{stem}",
            src_path=root / info.build, crate_types=("bin",), edition=info.edition,
            test=False, bench=False, doc=False))
    return CrateFacts(info, tuple(targets), info.links, root / "Cargo.toml")


@dataclass(frozen=True)
class SourceProvider:
    """How non-local packages are fetched: ``registry(pid)`` -> (``dl`` URL, sha256);
    ``git(pid)`` -> the ``builtins.fetchGit`` spec; ``info(pid)`` -> its :class:`CrateInfo`."""

    registry: Callable[[PackageId], tuple[str, str]]
    git: Callable[[PackageId], GitFetchSpec]
    info: Callable[[PackageId], CrateInfo]


@dataclass(frozen=True)
class PackageFacts:
    """What units of one package need: plan key and source, ``CARGO_PKG_*``, where target
    paths are relative to (``root_dir``), the remap target, locality, features, lints."""

    package_id: PackageId
    key: str
    plan: PackagePlan
    pkg_env: Mapping[str, str]
    root_dir: Path
    remap_to: str
    local: bool
    feature_names: tuple[str, ...]
    lint_flags: tuple[str, ...] = ()
    rust_version: str | None = None
    targets: tuple[Target, ...] = field(default=(), repr=False)

    def src_path(self, target: Target) -> str:
        """The target's crate root relative to the package root (POSIX)."""
        path, root = str(target.src_path), str(self.root_dir)
        if os.path.isabs(path) and os.path.isabs(root):
            return _relative_posix(path, root)   # asked for every unit: cached
        rel = os.path.relpath(path, root)
        return PurePosixPath(Path(rel).as_posix()).as_posix()


@functools.lru_cache(maxsize=4096)
def _relative_posix(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return PurePosixPath(Path(rel).as_posix()).as_posix()


def _pkg_env_local(pkg: Package) -> dict[str, str]:
    ver = Version.parse(pkg.version)
    meta = pkg.metadata
    return {
        "CARGO_PKG_NAME": pkg.name,
        "CARGO_PKG_VERSION": pkg.version,
        "CARGO_PKG_VERSION_MAJOR": str(ver.major),
        "CARGO_PKG_VERSION_MINOR": str(ver.minor),
        "CARGO_PKG_VERSION_PATCH": str(ver.patch),
        "CARGO_PKG_VERSION_PRE": ver.pre,
        "CARGO_PKG_AUTHORS": ":".join(meta.authors),
        "CARGO_PKG_DESCRIPTION": meta.description or "",
        "CARGO_PKG_HOMEPAGE": meta.homepage or "",
        "CARGO_PKG_REPOSITORY": meta.repository or "",
        "CARGO_PKG_LICENSE": meta.license or "",
        "CARGO_PKG_LICENSE_FILE": meta.license_file or "",
        "CARGO_PKG_RUST_VERSION": str(pkg.rust_version) if pkg.rust_version else "",
        "CARGO_PKG_README": meta.readme or "",
    }


def _posix_rel(path: Path, start: Path) -> str:
    rel = Path(os.path.relpath(path, start)).as_posix()
    return "" if rel == "." else rel


def _nested_package_dirs(root: Path) -> list[str]:
    """Sub-directories of ``root`` holding a ``Cargo.toml`` (not descending into them)."""
    found: list[str] = []
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False) or entry.name in _SKIP_SCAN:
                continue
            path = Path(entry.path)
            if (path / "Cargo.toml").is_file():
                found.append(_posix_rel(path, root))
                continue
            stack.append(path)
    return sorted(found)


def env_path_sources(env_paths: Sequence[tuple[str, Path]], ws: Workspace,
                     nix_file: Path) -> dict[str, PathSource]:
    """The plan's ``env_paths``: each ``[env]`` path as a source relative to the generated
    file (a directory filtered like a package's, without leaving out nested packages)."""
    return {name: PathSource(_posix_rel(path, nix_file.parent),
                             path_excludes(path, ws, nix_file, nested_packages=False)
                             if path.is_dir() else ())
            for name, path in env_paths}


def path_excludes(pkg_dir: Path, ws: Workspace, nix_file: Path, *,
                  nested_packages: bool = True) -> tuple[str, ...]:
    """The ``exclude`` list of a local package's :class:`PathSource` (module docstring);
    without ``nested_packages`` (a directory named by ``[env]``) only what is never
    anybody's input: the target directory, the generated files, ``Cargo.lock``."""
    excludes = {"target"}
    target_dir = ws.target_directory or (ws.root / "target")
    real_dir = pkg_dir.resolve()
    for candidate in (target_dir,):
        try:
            rel = Path(candidate).resolve().relative_to(real_dir)
        except ValueError:
            continue
        if rel.as_posix() not in ("", "."):
            excludes.add(rel.as_posix())
    if nested_packages:
        excludes.update(_nested_package_dirs(pkg_dir))
    nix_dir = nix_file.parent
    for path in [nix_file, *(nix_dir / n for n in GENERATED_COMPANIONS), ws.lockfile_path()]:
        try:
            rel = path.resolve().relative_to(real_dir)
        except ValueError:
            continue
        excludes.add(rel.as_posix())
    return tuple(sorted(excludes))


def _local_lints(pkg: Package, ws_lints: Mapping | None) -> tuple[str, ...]:
    from .flags import lint_flags

    lints = pkg.raw_manifest.get("lints") if isinstance(pkg.raw_manifest, Mapping) else None
    if isinstance(lints, Mapping) and lints.get("workspace") is True:
        lints = ws_lints or {}
    return tuple(lint_flags(lints, f"lints of `{pkg.name}`"))


def _crate_lints(info: CrateInfo, pid: PackageId) -> tuple[str, ...]:
    """Lint flags of a registry/git package (its manifest's ``[lints]``; a git package's
    ``workspace = true`` is not resolved against its repository's workspace)."""
    from .flags import lint_flags

    return tuple(lint_flags(info.lints or {}, f"lints of `{pid.name} v{pid.version}`"))


def workspace_lints(ws: Workspace) -> Mapping | None:
    """``[workspace.lints]`` of the root manifest (``None`` when absent)."""
    from ..toml_util import load_toml

    try:
        data = load_toml(ws.root_manifest).data
    except NocargoError:
        return None
    workspace = data.get("workspace") if isinstance(data, Mapping) else None
    lints = workspace.get("lints") if isinstance(workspace, Mapping) else None
    return lints if isinstance(lints, Mapping) else None


def package_keys(ids: Iterable[PackageId], root: Path | None = None) -> dict[PackageId, str]:
    """Plan keys: ``name-version``, with a source hash where two packages would collide.

    A path source is hashed by its directory relative to ``root`` (the workspace root),
    so the keys (and every unit id, store path and ``.drv`` below them) do not depend on
    where the checkout is.
    """
    import hashlib

    ids = list(ids)
    counts: dict[str, int] = {}
    for pid in ids:
        counts[f"{pid.name}-{pid.version}"] = counts.get(f"{pid.name}-{pid.version}", 0) + 1
    keys = {}
    for pid in ids:
        base = f"{pid.name}-{pid.version}"
        if counts[base] > 1:
            src = "path" if pid.source.is_path() else pid.source.to_lock_string()
            if pid.source.is_path():
                src += ":" + (pid.source.url if root is None
                              else _posix_rel(Path(pid.source.url), root))
            base += "-" + hashlib.sha256(src.encode()).hexdigest()[:8]
        keys[pid] = _store_name(base)
    return keys


def _store_name(name: str) -> str:
    """``name`` made a valid Nix store name (characters outside the allowed set -> ``_``)."""
    import re

    name = re.sub(r"[^A-Za-z0-9+._?=-]", "_", name)[:180]
    return "_" + name if name.startswith(".") else name


def package_facts(graph: ResolvedGraph, ws: Workspace, nix_file: Path,
                  provider: SourceProvider | None, ids: Iterable[PackageId]) -> dict[PackageId, PackageFacts]:
    """:class:`PackageFacts` of the packages ``ids`` of ``graph``."""
    ids = sorted(set(ids), key=lambda p: (p.name, p.version, p.source.sort_key()))
    keys = package_keys(ids, ws.root)
    ws_lints = workspace_lints(ws)
    nix_dir = nix_file.parent
    out: dict[PackageId, PackageFacts] = {}
    for pid in ids:
        rp: ResolvedPackage = graph.packages[pid]
        key = keys[pid]
        features = tuple(sorted(rp.summary.features))
        if rp.package is not None and pid.source.is_path():
            pkg = rp.package
            pkg_dir = pkg.root
            source: Source = PathSource(_posix_rel(pkg_dir, nix_dir),
                                        path_excludes(pkg_dir, ws, nix_file))
            remap = _posix_rel(pkg_dir, ws.root)
            out[pid] = PackageFacts(
                pid, key, PackagePlan(pkg.name, pkg.version, source, "", pkg.links,
                                      _pkg_env_local(pkg)),
                _pkg_env_local(pkg), pkg_dir, remap, True, features,
                _local_lints(pkg, ws_lints), pkg.rust_version, rp.targets)
            continue
        if provider is None:
            raise NocargoError(f"`{pid.name} v{pid.version}` is not a local package and no "
                               "registry/git source information was given")
        info = provider.info(pid)
        root_dir = rp.manifest_path.parent if rp.manifest_path is not None else \
            _VIRTUAL_ROOT / f"{pid.name}-{pid.version}"
        if pid.source.is_git():
            spec = provider.git(pid)
            source = GitSource(spec.url, spec.rev, spec.ref, spec.submodules)
            root = spec.subdir
        elif pid.source.is_registry():
            url, sha = provider.registry(pid)
            source = RegistrySource(url, sha)
            root = f"{pid.name}-{pid.version}"
        else:
            raise NocargoError(f"`{pid.name} v{pid.version}` comes from "
                               f"`{pid.source.to_lock_string()}`, which cannot be planned")
        out[pid] = PackageFacts(
            pid, key, PackagePlan(pid.name, pid.version, source, root, rp.links,
                                  info.cargo_pkg_env()),
            info.cargo_pkg_env(), root_dir, f"{pid.name}-{pid.version}", False, features,
            _crate_lints(info, pid), info.rust_version, rp.targets)
    return out
