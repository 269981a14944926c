"""`nocargo-py metadata --no-deps` against `cargo metadata --no-deps` (live, byte for byte).

Slow tier: every project of the shared corpus (at its root and from inside a member), every
fixture workspace under ``tests/fixtures/workspaces`` (each run from the directories that
exercise a rule), the bundled example, and ``.crate`` manifests normalized by
``cargo package``. Fast tier: the command-line contract of ``metadata``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import CORPUS_PROJECTS, REPO_ROOT, run_cli

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "workspaces"
needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")


def cargo(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "RUSTUP_TOOLCHAIN": "stable", **(env or {})}
    full.pop("CARGO_TARGET_DIR", None)
    return subprocess.run(["cargo", *args], cwd=cwd, env=full, capture_output=True, text=True)


def json_diff(a, b, path="$") -> list[str]:
    """Human-readable differences between two JSON values (for assertion messages)."""
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict):
        out = [] if list(a) == list(b) else [f"{path}: keys {list(a)} != {list(b)}"]
        for k in a:
            if k in b:
                out += json_diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in json_diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def assert_same_metadata(cwd: Path, *extra: str, env: dict | None = None) -> dict:
    """Run both tools in ``cwd``; their stdout must be identical. Returns the parsed JSON."""
    args = ("metadata", "--no-deps", "--format-version", "1", *extra)
    theirs = cargo(*args, "--offline", cwd=cwd, env=env)
    assert theirs.returncode == 0, theirs.stderr
    ours = run_cli(*args, cwd=cwd, env={"RUSTUP_TOOLCHAIN": "stable", **(env or {})})
    assert ours.returncode == 0, ours.stderr
    assert "Traceback" not in ours.stderr
    if ours.stdout != theirs.stdout:
        diffs = json_diff(json.loads(theirs.stdout), json.loads(ours.stdout))
        pytest.fail("metadata differs from cargo's (cargo != ours):\n" + "\n".join(diffs[:40])
                    or "whitespace/ordering only")
    return json.loads(ours.stdout)


# --- the corpus ---------------------------------------------------------------------------

@pytest.mark.slow
@needs_cargo
@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_corpus_project(project, corpus_dir, tmp_path):
    root = corpus_dir / project
    data = assert_same_metadata(root, env={"CARGO_HOME": str(tmp_path)})
    assert data["packages"], "a corpus project has packages"
    # From inside a member that is not the root (default members change), if there is one.
    member_dirs = [Path(p["manifest_path"]).parent for p in data["packages"]
                   if Path(p["manifest_path"]).parent != root]
    if member_dirs:
        sub = member_dirs[len(member_dirs) // 2]
        assert_same_metadata(sub, env={"CARGO_HOME": str(tmp_path)})
        assert_same_metadata(tmp_path, "--manifest-path", str(sub / "Cargo.toml"),
                             env={"CARGO_HOME": str(tmp_path)})


# --- fixture workspaces -------------------------------------------------------------------

# (fixture, directory to run in) — each pair exercises rules of the issue:
FIXTURE_RUNS = [
    ("globs", "."),                      # globs, `?`, `**`, a file matched by a glob, exclude
    ("globs", "crates/alpha"),           # current = member: default members = [current]
    ("globs", "crates/excluded/inner"),  # excluded prefix but listed literally: member
    ("globs", "crates/skip-me"),         # excluded: its own workspace (no root)
    ("inherit", "."),                    # [workspace.package] + [workspace.dependencies]
    ("inherit", "members/util"),         # readme/license-file rebased to the member
    ("inherit", "members/app/src"),      # root discovery walks up from a subdirectory
    ("autodiscovery", "."),              # auto-discovery corner cases, explicit + inferred
    ("edition2015", "."),                # 2015 legacy paths and inference switches
    ("autofalse", "."),                  # auto* = false, autolib = false, build = false
    ("deps", "."),                       # every dependency form, target tables, features
    ("pointer/member", "."),             # package.workspace pointer to a sibling root
    ("pointer/root", "."),               # members outside the root directory
    ("pathdeps/ws", "."),                # path deps inside (members), excluded, outside
    ("pathdeps/ws", "inside"),
    ("virtual", "."),                    # virtual root, default-members order
    ("virtual", "b"),
    ("kinds", "."),                      # proc-macro, links + build.rs, dylib/staticlib
    ("misc", "."),                       # no version, readme detection, metadata tables
    ("lenient", "."),                    # what only cargo's builds reject
    ("altreg", "."),                     # registry = "name" via .cargo/config.toml
]


@pytest.mark.slow
@needs_cargo
@pytest.mark.parametrize("fixture,run_in", FIXTURE_RUNS,
                         ids=[f"{f}:{r}" for f, r in FIXTURE_RUNS])
def test_fixture_workspace(fixture, run_in, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / fixture.split("/")[0], root)
    cwd = root / "/".join(fixture.split("/")[1:]) / run_in
    assert_same_metadata(cwd, env={"CARGO_HOME": str(tmp_path / "home")})


@pytest.mark.slow
@needs_cargo
def test_fixture_workspace_via_manifest_path(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "inherit", root)
    assert_same_metadata(tmp_path, "--manifest-path", "ws/members/app/Cargo.toml",
                         env={"CARGO_HOME": str(tmp_path / "home")})


@pytest.mark.slow
@needs_cargo
def test_fixture_runs_cover_every_fixture():
    covered = {f.split("/")[0] for f, _ in FIXTURE_RUNS}
    assert covered == {p.name for p in FIXTURES.iterdir() if p.is_dir()}


# --- the bundled example ------------------------------------------------------------------

@pytest.mark.slow
@needs_cargo
def test_example_workspace(tmp_path):
    root = tmp_path / "workspace"
    shutil.copytree(REPO_ROOT / "examples" / "workspace", root,
                    ignore=shutil.ignore_patterns("target"))
    data = assert_same_metadata(root, env={"CARGO_HOME": str(tmp_path / "home")})
    kinds = {t["kind"][0] for p in data["packages"] for t in p["targets"]}
    assert {"lib", "bin", "proc-macro", "custom-build"} <= kinds


@pytest.mark.slow
@needs_cargo
def test_example_workspace_compiles_and_runs(tmp_path):
    root = tmp_path / "workspace"
    shutil.copytree(REPO_ROOT / "examples" / "workspace", root,
                    ignore=shutil.ignore_patterns("target"))
    result = cargo("run", "--offline", "-q", "-p", "hello", "--", "nix", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HELLO, nix! (built for ")


# --- manifests normalized by `cargo package` ------------------------------------------------

@pytest.mark.slow
@needs_cargo
@pytest.mark.parametrize("source,package", [("examples/workspace", "greeting"),
                                            ("examples/workspace", "greeting-macros"),
                                            ("tests/fixtures/workspaces/autodiscovery", None)])
def test_packaged_manifest(source, package, tmp_path):
    """A `.crate`'s normalized Cargo.toml (explicit targets, auto* = false, no paths)."""
    root = tmp_path / "src"
    shutil.copytree(REPO_ROOT / source, root, ignore=shutil.ignore_patterns("target"))
    if source == "examples/workspace":  # packaging needs versions on path dependencies
        text = (root / "Cargo.toml").read_text()
        text = text.replace('path = "greeting" }', 'path = "greeting", version = "0.1.0" }')
        text = text.replace('path = "greeting-macros" }',
                            'path = "greeting-macros", version = "0.1.0" }')
        (root / "Cargo.toml").write_text(text)
    args = ["package", "--offline", "--no-verify", "--allow-dirty"]
    args += ["--workspace"] if package else []
    result = cargo(*args, cwd=root, env={"CARGO_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    crates = sorted((root / "target" / "package").glob("*.crate"))
    name = package or "auto-disc"
    (crate,) = [c for c in crates if c.name == f"{name}-0.1.0.crate"]
    with tarfile.open(crate) as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    extracted = tmp_path / "extracted" / f"{name}-0.1.0"
    assert "autobins = false" in (extracted / "Cargo.toml").read_text()
    assert_same_metadata(extracted, env={"CARGO_HOME": str(tmp_path / "home")})


# --- command-line contract (fast) ---------------------------------------------------------

def test_metadata_without_no_deps_is_a_clear_error():
    result = run_cli("metadata", "--format-version", "1", "--manifest-path",
                     REPO_ROOT / "examples" / "workspace" / "Cargo.toml")
    assert result.returncode == 101
    assert result.stdout == ""
    assert "--no-deps" in result.stderr and "resolution" in result.stderr
    assert "Traceback" not in result.stderr


def test_metadata_bad_format_version_is_usage_error():
    result = run_cli("metadata", "--no-deps", "--format-version", "2")
    assert result.returncode == 2


def test_metadata_warns_without_format_version(tmp_path):
    shutil.copytree(REPO_ROOT / "examples" / "workspace", tmp_path / "ws",
                    ignore=shutil.ignore_patterns("target"))
    result = run_cli("metadata", "--no-deps", cwd=tmp_path / "ws")
    assert result.returncode == 0
    assert "please specify `--format-version` flag explicitly" in result.stderr
    quiet = run_cli("metadata", "--no-deps", "-q", cwd=tmp_path / "ws")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == result.stdout


def test_manifest_path_must_name_cargo_toml(tmp_path):
    (tmp_path / "x.toml").write_text("")
    result = run_cli("metadata", "--no-deps", "--format-version", "1",
                     "--manifest-path", tmp_path / "x.toml")
    assert result.returncode == 101
    assert "the manifest-path must be a path to a Cargo.toml file" in result.stderr


def test_missing_manifest(tmp_path):
    result = run_cli("metadata", "--no-deps", "--format-version", "1",
                     "--manifest-path", tmp_path / "nope" / "Cargo.toml")
    assert result.returncode == 101
    assert "does not exist" in result.stderr
    result = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=tmp_path)
    assert result.returncode == 101
    assert "could not find `Cargo.toml`" in result.stderr


@pytest.mark.slow
@needs_cargo
@pytest.mark.parametrize("how", ["not-cargo-toml", "missing", "relative-missing", "directory",
                                 "no-manifest-here"])
def test_manifest_path_errors_match_cargo(how, tmp_path):
    (tmp_path / "x.toml").write_text("")
    (tmp_path / "dir" / "Cargo.toml").mkdir(parents=True)
    args = {"not-cargo-toml": ["--manifest-path", str(tmp_path / "x.toml")],
            "missing": ["--manifest-path", str(tmp_path / "nope" / "Cargo.toml")],
            "relative-missing": ["--manifest-path", "nope/../y/Cargo.toml"],
            "directory": ["--manifest-path", "dir/Cargo.toml"],
            "no-manifest-here": []}[how]
    theirs = cargo("metadata", "--no-deps", "--format-version", "1", *args, cwd=tmp_path)
    ours = run_cli("metadata", "--no-deps", "--format-version", "1", *args, cwd=tmp_path)
    assert theirs.returncode == ours.returncode == 101
    assert theirs.stderr.splitlines()[0] == ours.stderr.splitlines()[0]


def test_output_is_deterministic(tmp_path):
    shutil.copytree(FIXTURES / "deps", tmp_path / "ws")
    first = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=tmp_path / "ws")
    second = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=tmp_path / "ws")
    assert first.returncode == 0 and first.stdout == second.stdout
