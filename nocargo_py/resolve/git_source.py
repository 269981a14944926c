"""Git dependencies for the version resolver: which commit, and which packages it holds.

A git source (``git+URL?branch=B``) resolves to one commit: the locked one when the lock
file names it (the dependency then carries it as ``precise``), otherwise the commit the
reference points to now, found with ``git ls-remote`` (a ``rev`` that is a full commit hash
is used as is). Fetching and checking out that commit, and finding a package inside the
checkout (cargo's ``read_packages`` walk, workspace inheritance from the repository root),
is :class:`nocargo_py.sources.git.GitSources`' job; this module only adds the look-up of
an unlocked reference and the resolver-facing :class:`GitPackageSource`. Path dependencies
between packages of the repository become dependencies on the same git source, as cargo
does.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from ..errors import NocargoError
from ..shell import Shell
from ..source import GitReference, PackageId, SourceId
from ..summary import Dependency, Summary
from .provider import Candidate, describe_source

__all__ = ["GitPackageSource", "GitSources", "resolve_reference"]

_HEX40 = re.compile(r"^[0-9a-f]{40}$")


def resolve_reference(url: str, reference: GitReference) -> str:
    """The commit ``reference`` points to now in the repository at ``url`` (``ls-remote``)."""
    if reference.kind == "rev" and _HEX40.match(reference.value):
        return reference.value
    import subprocess

    try:
        proc = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "GIT_TERMINAL_PROMPT": "0",
                                                "LC_ALL": "C"})
    except FileNotFoundError:
        raise NocargoError("`git` was not found; it is needed for git dependencies") from None
    except subprocess.TimeoutExpired:
        raise NocargoError(f"`git ls-remote {url}` timed out") from None
    if proc.returncode != 0:
        raise NocargoError(f"failed to look up git repository `{url}`: {proc.stderr.strip()}")
    refs: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        commit, _, name = line.partition("\t")
        refs[name.strip()] = commit.strip()
    if reference.is_default():
        patterns = ["HEAD"]
    elif reference.kind == "branch":
        patterns = [f"refs/heads/{reference.value}"]
    elif reference.kind == "tag":
        patterns = [f"refs/tags/{reference.value}^{{}}", f"refs/tags/{reference.value}"]
    else:
        patterns = [reference.value, f"refs/heads/{reference.value}",
                    f"refs/tags/{reference.value}^{{}}", f"refs/tags/{reference.value}"]
    for pattern in patterns:
        if pattern in refs:
            return refs[pattern]
    if reference.kind == "rev":
        hits = sorted({c for c in refs.values() if c.startswith(reference.value)})
        if len(hits) == 1:
            return hits[0]
    what = {"default": "the default branch", "branch": f"branch `{reference.value}`",
            "tag": f"tag `{reference.value}`", "rev": f"revision `{reference.value}`"}[reference.kind]
    raise NocargoError(f"failed to find {what} in git repository `{url}`")


class GitPackageSource:
    """The packages of one git source at one commit (loaded per name, on demand)."""

    def __init__(self, source_id: SourceId, fetcher) -> None:
        self.source_id = source_id
        self._fetcher = fetcher
        self._root: Path | None = None
        self._cache: dict[str, tuple[Candidate, ...]] = {}

    def _checkout(self) -> Path:
        if self._root is None:
            self._root = self._fetcher.checkout(self.source_id).path
        return self._root

    def candidates(self, name: str) -> Sequence[Candidate]:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        from ..sources.git import find_package_in_checkout
        from ..workspace import load_standalone_package

        root = self._checkout()
        try:
            manifest = find_package_in_checkout(root, name, None, self.source_id)
        except NocargoError:
            self._cache[name] = ()
            return ()
        pkg = load_standalone_package(manifest, self.source_id)
        out = (Candidate.of_summary(_relocate(pkg.summary, root, self.source_id)),)
        self._cache[name] = out
        return out

    def is_complete(self, name: str) -> bool:
        return True

    def describe(self) -> str:
        return describe_source(self.source_id)


class GitSources:
    """``GitSources(...)(source_id)``: the resolver's loader for git sources."""

    def __init__(self, *, cache_root: Path | None = None, offline: bool = False,
                 shell: Shell | None = None) -> None:
        self.offline = offline
        self._cache_root = cache_root
        self._shell = shell
        self._fetcher = None

    @property
    def fetcher(self) -> Any:
        """The mirrors and checkouts (:class:`nocargo_py.sources.git.GitSources`), made on
        first use: most workspaces have no git dependency."""
        if self._fetcher is None:
            from ..sources.git import GitSources as Fetcher

            self._fetcher = Fetcher(self._cache_root, offline=self.offline,
                                    shell=self._shell or Shell(verbosity=-1))
        return self._fetcher

    def __call__(self, source: SourceId) -> GitPackageSource:
        commit = source.precise
        if commit is None or not _HEX40.match(commit):
            if self.offline:
                raise NocargoError(
                    f"cannot resolve git source `{source.to_lock_string(with_precise=False)}` "
                    "in offline mode: no commit is locked for it",
                    notes=["run without --offline to look the reference up"])
            commit = resolve_reference(source.url, source.reference or GitReference.default())
        return GitPackageSource(source.with_precise(commit), self.fetcher)


def _relocate(summary: Summary, root: Path, source: SourceId) -> Summary:
    """The summary as a package of the git source: its id and the path dependencies that
    stay inside the repository point at the git source (cargo's rule for non-path packages)."""
    root_s = os.path.normpath(str(root))

    def fix(dep: Dependency) -> Dependency:
        if dep.source.is_path():
            url = os.path.normpath(dep.source.url)
            if url == root_s or url.startswith(root_s + os.sep):
                return replace(dep, source=source)
        elif dep.source.is_git() and dep.source.without_precise() == source.without_precise():
            return replace(dep, source=source)
        return dep

    return replace(summary,
                   package_id=PackageId(summary.name, summary.version, source),
                   dependencies=tuple(fix(d) for d in summary.dependencies))
