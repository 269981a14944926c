"""The corpus projects: ``plan --unit-graph`` against cargo's ``--unit-graph`` (Cargo.lock route).

For every project in ``../shared/corpus`` (a copy, since cargo writes next to the
manifest), cargo 1.95 and nocargo-py plan the same command lines; the unit graphs must be
equivalent (identical, up to the order cargo gives units that differ only in their
dependencies). This exercises the lock file route end to end: index summaries from the
vendored ``registry-cache/``, crate facts from the downloaded ``.crate`` files, features
and profiles of real dependency trees, cross targets and ``cargo test --no-run``.

Needs crates.io (cargo downloads the crates; nocargo-py reads their manifests).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CORPUS_DIR, CORPUS_PROJECTS, REPO_ROOT
from test_unit_graph_vs_cargo import equivalent, first_difference
from test_units import plan

pytestmark = [pytest.mark.slow, pytest.mark.network]

#: command lines per project: ("build" | "test", extra arguments)
COMMANDS = {
    "default": ("build", []),
    "tests": ("test", []),
    "cross": ("build", ["--workspace", "--target", "aarch64-apple-darwin", "--release",
                        "--all-features"]),
}
_ENV = {**os.environ, "RUSTC_BOOTSTRAP": "1", "RUSTUP_TOOLCHAIN": "stable",
        "CARGO_TERM_COLOR": "never"}


@pytest.fixture(scope="module")
def corpus_copies(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpus")
    out = {}
    for name in CORPUS_PROJECTS:
        dest = base / name
        shutil.copytree(CORPUS_DIR / name, dest)
        for path in [dest, *dest.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        out[name] = dest.resolve()
    return out


def cargo(root: Path, mode: str, args: list[str]) -> dict:
    cmd = ["cargo", "test", "--no-run"] if mode == "test" else ["cargo", "build"]
    cmd += ["--locked", "--ignore-rust-version", "--unit-graph", "-Z", "unstable-options", *args]
    proc = subprocess.run(cmd, cwd=root, env=_ENV, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.replace(str(root), "$ROOT"))


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_corpus_unit_graph_matches_cargo(project, command, corpus_copies):
    root = corpus_copies[project]
    mode, args = COMMANDS[command]
    theirs = cargo(root, mode, args)
    ours = plan(root, mode, ["--index-dir", str(REPO_ROOT / "registry-cache"), *args])
    assert "error" not in ours, ours.get("error")
    assert equivalent(ours, theirs), first_difference(ours, theirs)


@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_corpus_plan_json(project, corpus_copies):
    """``plan --format resolved-units`` succeeds and agrees with the unit graph."""
    root = corpus_copies[project]
    ours = plan(root, "build", ["--index-dir", str(REPO_ROOT / "registry-cache")])
    assert "error" not in ours
    import contextlib
    import io

    from nocargo_py import cli

    out = io.StringIO()
    old = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert cli.main(["-q", "--index-dir", str(REPO_ROOT / "registry-cache"), "plan",
                             "--format", "resolved-units",
                             "--host", "x86_64-unknown-linux-gnu"]) == 0
    finally:
        os.chdir(old)
    data = json.loads(out.getvalue().replace(str(root), "$ROOT"))
    assert data["format"] == "nocargo-resolved-units"
    assert [u["package"] for u in data["units"]] == [u["pkg_id"] for u in ours["units"]]
    assert data["roots"] == ours["roots"]
    assert set(data["packages"]) == {u["pkg_id"] for u in ours["units"]}
