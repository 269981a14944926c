"""Git dependencies, pinned to the commit recorded in ``Cargo.lock``.

Cache layout (under ``<cache root>/git/``, cache root as in :mod:`.download`):

* ``db/<repo>-<16 hex>/`` — one bare repository per URL (hash of cargo's canonical URL);
  fetched with the ``git`` CLI: branches, tags and ``HEAD`` first, then the locked commit
  itself if it is still missing (a ``rev`` outside every branch);
* ``checkouts/<repo>-<16 hex>/<commit[:12]>/`` — a worktree of one commit (submodules
  updated recursively, as cargo does), made in a temporary directory and renamed into place
  once complete (a ``.nocargo-ok`` marker), under a :class:`filelock.FileLock`.

:func:`find_package_in_checkout` applies cargo's rule (``ops::read_packages``): walk the
checkout — not into hidden directories, nested repositories/submodules (a ``.git`` entry) or
a ``target`` directory next to a ``Cargo.toml`` — and take the package whose name (and
version) matches; it is loaded with the foundation's
:func:`~nocargo_py.workspace.load_standalone_package`, so workspace inheritance from the
repository root applies. Directories are visited in sorted order (cargo uses ``read_dir``
order and warns about duplicates).

:class:`GitFetchSpec` is what Nix needs to fetch the same tree with ``builtins.fetchGit``
(no import-from-derivation): ``url``, ``rev`` (the locked commit), ``ref`` (the branch or
tag, so that fetchGit looks under it), ``allRefs`` for a ``rev`` that may sit outside the
default branch, ``submodules`` when the commit has a ``.gitmodules``, and the package's
``subdir`` inside the repository.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterator

import tomli

from ..errors import NocargoError
from ..index.cache import default_cache_root
from ..shell import Shell
from ..source import GitReference, PackageId, SourceId, canonical_url

if TYPE_CHECKING:  # pragma: no cover
    import filelock

__all__ = ["GitCheckout", "GitFetchSpec", "GitSources", "find_package_in_checkout"]

_FULL_COMMIT = re.compile(r"[0-9a-f]{40}")
_OK_MARKER = ".nocargo-ok"


@dataclass(frozen=True)
class GitFetchSpec:
    """The ``builtins.fetchGit`` arguments for one git package (see the module docstring)."""

    url: str
    rev: str
    ref: str | None = None
    all_refs: bool = False
    submodules: bool = False
    subdir: str = ""

    def fetchgit_args(self) -> dict[str, Any]:
        """The attribute set for ``builtins.fetchGit`` (values still to be Nix-escaped)."""
        args: dict[str, Any] = {"url": self.url, "rev": self.rev}
        if self.ref is not None:
            args["ref"] = self.ref
        if self.all_refs:
            args["allRefs"] = True
        if self.submodules:
            args["submodules"] = True
        return args

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "rev": self.rev, "ref": self.ref, "all_refs": self.all_refs,
                "submodules": self.submodules, "subdir": self.subdir}

    @classmethod
    def from_json(cls, obj: Any) -> "GitFetchSpec":
        """Inverse of :meth:`to_json`; raises :class:`NocargoError` on malformed data."""
        ok = (isinstance(obj, dict) and isinstance(obj.get("url"), str) and isinstance(obj.get("rev"), str)
              and (obj.get("ref") is None or isinstance(obj.get("ref"), str))
              and isinstance(obj.get("all_refs", False), bool)
              and isinstance(obj.get("submodules", False), bool)
              and isinstance(obj.get("subdir", ""), str))
        if not ok:
            raise NocargoError("invalid git fetch spec: expected url, rev (strings), ref "
                               "(string or null), all_refs/submodules (booleans), subdir (string)")
        return cls(obj["url"], obj["rev"], obj.get("ref"), obj.get("all_refs", False),
                   obj.get("submodules", False), obj.get("subdir", ""))


@dataclass(frozen=True)
class GitCheckout:
    """A checked-out commit: ``path`` is the repository root of that commit."""

    url: str
    commit: str
    path: Path


def _repo_dir_name(url: str) -> str:
    canon = canonical_url(url)
    last = canon.rstrip("/").rsplit("/", 1)[-1] or "repo"
    last = re.sub(r"[^A-Za-z0-9._-]", "_", last)[:40] or "repo"
    return f"{last}-{hashlib.sha256(canon.encode()).hexdigest()[:16]}"


def _fetch_ref(reference: GitReference | None) -> str | None:
    """The ref fetchGit must look under for ``reference`` (``None``: HEAD / allRefs)."""
    if reference is None or reference.is_default():
        return None
    if reference.kind == "branch":
        return f"refs/heads/{reference.value}"
    if reference.kind == "tag":
        return f"refs/tags/{reference.value}"
    if reference.value.startswith("refs/"):
        return reference.value
    return None


class GitSources:
    """Bare mirrors and per-commit checkouts in the cache, driven by the ``git`` CLI."""

    def __init__(self, cache_root: Path | None = None, *, offline: bool = False,
                 shell: Shell | None = None, git: str = "git") -> None:
        self.root = default_cache_root(cache_root) / "git"
        self.offline = offline
        self.shell = shell or Shell(verbosity=-1)
        self.git_exe = git

    # -- running git -------------------------------------------------------------------------
    def _git(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", LC_ALL="C")
        try:
            proc = subprocess.run([self.git_exe, *args], cwd=cwd, env=env, capture_output=True,
                                  text=True, timeout=3600)
        except FileNotFoundError:
            raise NocargoError(f"`{self.git_exe}` was not found; it is needed for git dependencies") from None
        if check and proc.returncode != 0:
            raise NocargoError(f"`git {' '.join(args[:2])}` failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def _has_commit(self, repo: Path, commit: str) -> bool:
        return self._git("--git-dir", str(repo), "cat-file", "-e", f"{commit}^{{commit}}",
                         check=False).returncode == 0

    # -- mirrors -----------------------------------------------------------------------------
    def mirror_path(self, url: str) -> Path:
        return self.root / "db" / _repo_dir_name(url)

    def _lock(self, kind: str, name: str) -> filelock.FileLock:
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        import filelock

        return filelock.FileLock(str(locks / f"{kind}-{name}.lock"))

    def fetch(self, source: SourceId) -> Path:
        """The bare mirror of ``source``'s repository, containing its locked commit."""
        commit = self._locked_commit(source)
        mirror = self.mirror_path(source.url)
        with self._lock("db", mirror.name):
            if mirror.is_dir() and self._has_commit(mirror, commit):
                return mirror
            if self.offline:
                raise NocargoError(
                    f"cannot fetch git repository `{source.url}` in offline mode: commit "
                    f"{commit} is not in the cache", notes=[f"looked in {mirror}"])
            if not (mirror / "HEAD").is_file():
                tmp = mirror.with_name(f".{mirror.name}.{uuid.uuid4().hex}")
                tmp.parent.mkdir(parents=True, exist_ok=True)
                self._git("init", "--quiet", "--bare", str(tmp))
                shutil.rmtree(mirror, ignore_errors=True)
                os.replace(tmp, mirror)
            self.shell.status("Updating", f"git repository `{source.url}`")
            refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+HEAD:refs/remotes/origin/HEAD"]
            ref = _fetch_ref(source.reference)
            if ref is not None and not ref.startswith(("refs/heads/", "refs/tags/")):
                refspecs.append(f"+{ref}:refs/remotes/origin/{ref.removeprefix('refs/')}")
            proc = self._git("--git-dir", str(mirror), "fetch", "--quiet", "--force", source.url,
                             *refspecs, check=False)
            if not self._has_commit(mirror, commit):
                # a rev outside every branch: ask for the commit itself
                self._git("--git-dir", str(mirror), "fetch", "--quiet", source.url, commit, check=False)
            if not self._has_commit(mirror, commit):
                detail = proc.stderr.strip().splitlines()[-1:] if proc.returncode else []
                raise NocargoError(
                    f"failed to fetch commit {commit} of git repository `{source.url}`"
                    + (f": {detail[0]}" if detail else ": the commit is not in the repository"),
                    notes=[f"required by the lock file entry `{source.to_lock_string()}`"])
            return mirror

    @staticmethod
    def _locked_commit(source: SourceId) -> str:
        if not source.is_git():
            raise NocargoError(f"`{source}` is not a git source")
        if source.precise is None or not _FULL_COMMIT.fullmatch(source.precise):
            raise NocargoError(
                f"git source `{source.to_lock_string()}` is not locked to a full commit "
                "(expected `#<40 hex digits>` as written by cargo in Cargo.lock)")
        return source.precise

    # -- checkouts ---------------------------------------------------------------------------
    def checkout(self, source: SourceId) -> GitCheckout:
        """The working tree of ``source``'s locked commit (submodules included)."""
        commit = self._locked_commit(source)
        repo_dir = _repo_dir_name(source.url)
        final = self.root / "checkouts" / repo_dir / commit[:12]
        if (final / _OK_MARKER).is_file():
            return GitCheckout(source.url, commit, final)
        mirror = self.fetch(source)
        with self._lock("co", f"{repo_dir}-{commit[:12]}"):
            if (final / _OK_MARKER).is_file():
                return GitCheckout(source.url, commit, final)
            final.parent.mkdir(parents=True, exist_ok=True)
            for stale in final.parent.glob(f".{final.name}.*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed process
            tmp = final.parent / f".{final.name}.{uuid.uuid4().hex}"
            try:
                self._git("clone", "--quiet", "--no-checkout", "--shared", str(mirror), str(tmp))
                self._git("-C", str(tmp), "remote", "set-url", "origin", source.url)
                self._git("-C", str(tmp), "checkout", "--quiet", "--detach", commit)
                if (tmp / ".gitmodules").is_file():
                    if self.offline:
                        raise NocargoError(
                            f"git repository `{source.url}` has submodules, which cannot be "
                            "fetched in offline mode")
                    self._git("-C", str(tmp), "-c", "protocol.file.allow=always", "submodule",
                              "update", "--quiet", "--init", "--recursive")
                (tmp / _OK_MARKER).write_text(commit + "\n")
                shutil.rmtree(final, ignore_errors=True)
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return GitCheckout(source.url, commit, final)

    # -- packages ----------------------------------------------------------------------------
    def locate(self, package_id: PackageId) -> tuple[GitCheckout, Path]:
        """The checkout of a git package and its ``Cargo.toml`` inside it."""
        co = self.checkout(package_id.source)
        manifest = find_package_in_checkout(co.path, package_id.name, package_id.version,
                                            package_id.source)
        return co, manifest

    def load_package(self, package_id: PackageId):
        """The :class:`~nocargo_py.package.Package` of a git package (inheritance applied)."""
        from ..workspace import load_standalone_package

        _, manifest = self.locate(package_id)
        return load_standalone_package(manifest, package_id.source)

    def crate_info(self, package_id: PackageId):
        """The :class:`~nocargo_py.sources.crate_info.CrateInfo` of a git package."""
        from .crate_info import crate_info_from_package

        return crate_info_from_package(self.load_package(package_id))

    def fetch_spec(self, package_id: PackageId) -> GitFetchSpec:
        """How Nix fetches this package's tree (``builtins.fetchGit``) and where it sits."""
        source = package_id.source
        co, manifest = self.locate(package_id)
        subdir = PurePosixPath(manifest.parent.relative_to(co.path).as_posix()).as_posix()
        reference = source.reference or GitReference.default()
        ref = _fetch_ref(reference)
        all_refs = reference.kind == "rev" and ref is None
        return GitFetchSpec(
            url=source.url,
            rev=co.commit,
            ref=ref,
            all_refs=all_refs,
            submodules=(co.path / ".gitmodules").is_file(),
            subdir="" if subdir == "." else subdir,
        )


def _walk(root: Path) -> Iterator[Path]:
    """Directories cargo's ``read_packages`` looks at, in sorted order."""
    stack = [root]
    while stack:
        directory = stack.pop()
        if directory != root:
            if directory.name.startswith("."):
                continue
            if (directory / ".git").exists():
                continue  # nested repository or submodule
        if directory.name == "target" and (directory.parent / "Cargo.toml").is_file():
            continue
        yield directory
        try:
            children = sorted((p for p in directory.iterdir() if p.is_dir() and not p.is_symlink()),
                              key=lambda p: p.name, reverse=True)
        except OSError:
            continue
        stack.extend(children)


def find_package_in_checkout(root: Path, name: str, version: str | None = None,
                             source: SourceId | None = None) -> Path:
    """The ``Cargo.toml`` of package ``name`` (``version`` if given) inside ``root``.

    Raises :class:`NocargoError` when no such package exists (with the manifests that could
    not be read, as cargo reports them).
    """
    from ..workspace import load_standalone_package

    problems: list[str] = []
    found_versions: list[str] = []
    for directory in _walk(root):
        manifest = directory / "Cargo.toml"
        if not manifest.is_file():
            continue
        try:
            raw = tomli.loads(manifest.read_text(encoding="utf-8"))
        except (tomli.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            problems.append(f"{manifest}: {exc}")
            continue
        package = raw.get("package") or raw.get("project")
        if not isinstance(package, dict) or package.get("name") != name:
            continue
        if version is None:
            return manifest
        raw_version = package.get("version")
        if isinstance(raw_version, str):
            if raw_version == version:
                return manifest
            found_versions.append(raw_version)
            continue
        try:  # inherited (`version.workspace = true`) or defaulted: load it properly
            pkg = load_standalone_package(manifest, source or SourceId.for_path(directory))
        except NocargoError as err:
            problems.append(f"{manifest}: {err.message}")
            continue
        if pkg.version == version:
            return manifest
        found_versions.append(pkg.version)
    where = f"git repository `{source.url}`" if source is not None and source.is_git() else f"`{root}`"
    want = f"`{name}`" + (f" v{version}" if version else "")
    notes = []
    if found_versions:
        notes.append(f"found `{name}` with version(s) {', '.join(sorted(set(found_versions)))}")
    notes.extend(problems)
    raise NocargoError(f"could not find {want} in {where}", notes=notes)
