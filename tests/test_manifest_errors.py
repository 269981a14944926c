"""Malformed manifests and workspaces: one-line ``error:`` naming the file (and key and
line:column), exit 101, no traceback — and the same problem cargo reports.

The cases live in ``manifest_error_cases.py``. The fast tests run nocargo-py in-process;
the slow tests run cargo and nocargo-py (as a subprocess, the real entry point) on the same
tree and check that both name the same problem (and the same line, where cargo gives one).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from manifest_error_cases import CASES, Case
from nocargo_py.cli import main

assert len(CASES) >= 20


def materialize(case: Case, root: Path) -> Path:
    for rel, content in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root / case.cwd


def check_ours(case: Case, root: Path, code: int, stderr: str) -> str:
    assert code == 101, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("error: "), stderr
    assert case.our_phrase in stderr, stderr
    first = stderr.splitlines()[0]
    assert str(root / case.file) in first, first
    if case.key is not None:
        assert f"key `{case.key}`" in first, first
    if case.line is not None:
        assert f"{root / case.file}:{case.line}:" in first, first
    return first


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_ours(case: Case, tmp_path, monkeypatch, capsys):
    cwd = materialize(case, tmp_path)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))
    code = main(["metadata", "--no-deps", "--format-version", "1"])
    captured = capsys.readouterr()
    assert captured.out == ""
    check_ours(case, tmp_path, code, captured.err)


_CARGO_LINE = re.compile(r"--> (?:.*/)?Cargo\.toml:(\d+):(\d+)")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_matches_cargo(case: Case, tmp_path):
    """cargo rejects the same tree with the same problem (and line) that the fast test
    checks for nocargo-py."""
    cwd = materialize(case, tmp_path)
    env = {"CARGO_HOME": str(tmp_path / "cargo-home"), "RUSTUP_TOOLCHAIN": "stable"}
    cargo = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    assert cargo.returncode == 101, cargo.stderr
    assert case.cargo in cargo.stderr, cargo.stderr
    m = _CARGO_LINE.search(cargo.stderr)
    if case.line is not None and case.cargo_line:
        assert m is not None and int(m.group(1)) == case.line, cargo.stderr


_ENTRY_POINT_CASES = ["toml-unclosed-table", "invalid-utf8", "dep-bad-requirement",
                      "workspace-missing-member", "feature-unknown-value"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in _ENTRY_POINT_CASES],
                         ids=_ENTRY_POINT_CASES)
def test_error_through_entry_point(case: Case, tmp_path):
    """The real entry point (`python -m nocargo_py`): same message, exit 101, no traceback."""
    cwd = materialize(case, tmp_path)
    ours = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=cwd,
                   env={"CARGO_HOME": str(tmp_path / "cargo-home")})
    assert ours.stdout == ""
    check_ours(case, tmp_path, ours.returncode, ours.stderr)


def test_every_case_names_a_distinct_problem():
    assert len({c.id for c in CASES}) == len(CASES)
