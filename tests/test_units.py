"""Unit graph vs. cargo's recorded ``--unit-graph`` output (fast tier, no cargo needed).

``tests/fixtures/unit_graph/`` holds small workspaces (renames, a custom lib name, a
proc-macro shared between host and target, build-dependencies that are also normal
dependencies with other features, dev-dependencies, ``links`` ordering between build
scripts, ``required-features`` incl. ``dep/feat``, profiles with ``build-override``,
package overrides, ``"*"``, ``inherits`` chains, ``lto``/``panic``/``strip``/
``split-debuginfo``, ``[profile]`` and ``build.incremental`` from ``.cargo/config.toml``) and
``expected/*.json``: the output of cargo 1.95 for one command
line each, produced by ``regen.py`` (cargo itself, never edited by hand). Each case is
planned here through the real CLI and must match byte for byte (after the fixture's
location is replaced by ``$ROOT``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from nocargo_py import cli

FIXTURES = Path(__file__).parent / "fixtures" / "unit_graph"
CASES = sorted((FIXTURES / "expected").glob("*.json"))


def plan(root: Path, mode: str, args: list[str]) -> dict:
    """``plan --unit-graph`` parsed (``$ROOT`` for ``root``), or ``{"error": stderr}``."""
    text = plan_text(root, mode, args)
    return json.loads(text) if not text.startswith("error") else {"error": text[6:]}


def plan_text(root: Path, mode: str, args: list[str]) -> str:
    """The raw output (``$ROOT`` for ``root``); ``"error:" + stderr`` when the CLI fails."""
    argv = ["plan", "--unit-graph", "--host", "x86_64-unknown-linux-gnu", *args]
    if mode == "test":
        argv.append("--tests")
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    finally:
        os.chdir(old)
    if code != 0:
        return "error:" + err.getvalue().replace(str(root), "$ROOT")
    return out.getvalue().replace(str(root), "$ROOT")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_unit_graph_matches_recorded_cargo_output(case: Path, tmp_path: Path):
    data = json.loads(case.read_text())
    root = tmp_path.resolve() / data["fixture"]
    shutil.copytree(FIXTURES / data["fixture"], root)
    text = plan_text(root, data["mode"], data["args"])
    ours = json.loads(text) if not text.startswith("error:") else {"error": text[6:]}
    expected = data["cargo"]
    if "error" in expected:
        assert "error" in ours, "cargo refuses this command line; nocargo-py accepted it"
        assert expected["error"].split(": ", 1)[1] in ours["error"]
        return
    assert "error" not in ours, ours.get("error")
    assert ours == expected
    # byte for byte what cargo prints (compact JSON, cargo's key order, one newline)
    assert text == json.dumps(expected, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_fixture_cases_cover_every_fixture():
    used = {json.loads(c.read_text())["fixture"] for c in CASES}
    present = {p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "expected"}
    assert used == present
