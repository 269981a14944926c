"""A path (or git) dependency without ``version`` matches any version of the package,
pre-releases included (cargo's ``OptVersionReq::Any``); with a ``version`` the usual
requirement rules apply, so ``"0.1"`` or ``"*"`` do not select ``0.1.0-alpha.1``.

The fast tests run the path-workspace graph and the lock resolver in-process on outcomes
checked with cargo 1.95; the slow ones compare with cargo directly: ``cargo
generate-lockfile`` (lock text or first error line), ``cargo build --unit-graph`` and
``cargo metadata --no-deps``, also through ``[workspace.dependencies]`` and through the
lock-file route (a git dependency without ``version`` on a pre-release).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cargo_registry import cargo, git, write_package
from conftest import run_cli
from nocargo_py.errors import NocargoError
from nocargo_py.resolve.graph import graph_from_path_workspace
from nocargo_py.resolve.lockgen import lock_workspace
from nocargo_py.workspace import load_workspace
from test_unit_graph_vs_cargo import equivalent, first_difference

PRE = "0.1.0-alpha.1"

#: root manifest's dependency line on `b` -> does cargo accept it (checked with cargo 1.95)
CASES = {
    "no-version": ('b = { path = "b" }', True),
    "exact-pre": (f'b = {{ path = "b", version = "{PRE}" }}', True),
    "caret-pre": ('b = { path = "b", version = "^0.1.0-alpha.0" }', True),
    "caret": ('b = { path = "b", version = "0.1" }', False),
    "star": ('b = { path = "b", version = "*" }', False),
}


def _workspace(root: Path, dep_line: str, *, table: str = "dependencies") -> Path:
    write_package(root, "a", "0.1.0", extra=f"\n[{table}]\n{dep_line}\n")
    write_package(root / "b", "b", PRE)
    return root


def _inherited(root: Path) -> Path:
    write_package(root, "a", "0.1.0",
                  extra='\n[dependencies]\nb.workspace = true\n\n'
                        '[workspace]\n[workspace.dependencies]\nb = { path = "b" }\n')
    write_package(root / "b", "b", PRE)
    return root


def _no_source(_source):
    raise AssertionError("a path-only workspace needs no registry")


@pytest.mark.parametrize("case", sorted(CASES))
def test_path_graph_and_lock_follow_cargo(case, tmp_path):
    dep_line, accepted = CASES[case]
    root = _workspace(tmp_path / case, dep_line)
    ws = load_workspace(root / "Cargo.toml", root)
    if accepted:
        graph = graph_from_path_workspace(ws)
        [edge] = graph.edges[ws.members[0].package_id]
        assert edge.package_id.version == PRE
        lock = lock_workspace(ws, _no_source).text
        assert lock.endswith(f'[[package]]\nname = "b"\nversion = "{PRE}"\n')
        return
    message = f'failed to select a version for the requirement `b = "{"^0.1" if case == "caret" else "*"}"`'
    with pytest.raises(NocargoError, match="failed to select") as err:
        graph_from_path_workspace(ws)
    assert err.value.message == message
    with pytest.raises(NocargoError, match="failed to select") as err:
        lock_workspace(ws, _no_source)
    assert err.value.message == message


def test_inherited_path_dependency_without_version_matches_a_prerelease(tmp_path):
    root = _inherited(tmp_path / "ws")
    ws = load_workspace(root / "Cargo.toml", root)
    [edge] = graph_from_path_workspace(ws).edges[ws.members[0].package_id]
    assert edge.package_id.version == PRE and edge.dep.any_version


# -- against cargo ----------------------------------------------------------------------------

def _first_error(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith("error:")), text)


def _compare_with_cargo(root: Path, home: Path, tmp: Path, *, accepted: bool,
                        args: tuple[str, ...] = ()) -> None:
    env = {"CARGO_HOME": str(home), "NOCARGO_PY_CACHE_DIR": str(tmp / "nocargo-cache")}
    meta = cargo(root, home, "metadata", "--no-deps", "--format-version", "1", "--offline")
    ours_meta = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=root, env=env)
    assert ours_meta.returncode == 0, ours_meta.stderr
    assert json.loads(ours_meta.stdout) == json.loads(meta.stdout)

    ours_lock = run_cli("lock", "--stdout", "--from-scratch", cwd=root, env=env)
    theirs_lock = cargo(root, home, "generate-lockfile", check=False)
    assert (theirs_lock.returncode == 0) == accepted, theirs_lock.stderr
    if not accepted:
        assert ours_lock.returncode == 101, ours_lock.stdout
        assert _first_error(ours_lock.stderr) == _first_error(theirs_lock.stderr)
    else:
        assert ours_lock.returncode == 0, ours_lock.stderr
        assert ours_lock.stdout == (root / "Cargo.lock").read_text()

    seen = False
    for extra in ((), ("--tests",)):
        sub = ("test", "--no-run") if extra else ("build",)
        theirs = cargo(root, home, *sub, "--unit-graph", "-Z", "unstable-options", *args,
                       check=False)
        ours = run_cli("plan", "--unit-graph", *extra, *args, cwd=root, env=env)
        assert (theirs.returncode == 0) == accepted, theirs.stderr
        if not accepted:
            assert ours.returncode == 101
            assert _first_error(ours.stderr) == _first_error(theirs.stderr)
            continue
        assert ours.returncode == 0, ours.stderr
        a, b = _unit_graph(ours.stdout, tmp), _unit_graph(theirs.stdout, tmp)
        assert equivalent(a, b), first_difference(a, b)
        seen = seen or any(u["pkg_id"].endswith(PRE) for u in b["units"])
    assert seen or not accepted


def _unit_graph(text: str, tmp: Path) -> dict:
    """Git checkouts live in cargo's and in nocargo's own cache: one name for both."""
    return json.loads(re.sub(rf"{re.escape(str(tmp))}/[^\"]*/git/checkouts/[^/]+/[0-9a-f]+/",
                             "$CHECKOUT/", text))


@pytest.fixture
def cargo_home(tmp_path, monkeypatch):
    if shutil.which("cargo") is None:
        pytest.skip("needs cargo")
    monkeypatch.setenv("RUSTC_BOOTSTRAP", "1")
    home = tmp_path / "cargo-home"
    home.mkdir()
    return home


@pytest.mark.slow
@pytest.mark.parametrize("table", ["dependencies", "dev-dependencies"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_prerelease_path_dependency_vs_cargo(case, table, tmp_path, cargo_home):
    dep_line, accepted = CASES[case]
    root = _workspace(tmp_path / "ws", dep_line, table=table)
    _compare_with_cargo(root, cargo_home, tmp_path, accepted=accepted)


@pytest.mark.slow
def test_inherited_prerelease_path_dependency_vs_cargo(tmp_path, cargo_home):
    _compare_with_cargo(_inherited(tmp_path / "ws"), cargo_home, tmp_path, accepted=True)


@pytest.mark.slow
@pytest.mark.parametrize("version", [None, "0.1"])
def test_git_dependency_without_version_on_a_prerelease_vs_cargo(version, tmp_path, cargo_home):
    repo = write_package(tmp_path / "repo", "b", PRE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "b")
    extra = f', version = "{version}"' if version else ""
    root = tmp_path / "ws"
    write_package(root, "a", "0.1.0",
                  extra=f'\n[dependencies]\nb = {{ git = "file://{repo}"{extra} }}\n')
    _compare_with_cargo(root, cargo_home, tmp_path, accepted=version is None)
