"""``nocargo-py plan`` without ``--unit-graph``: the build plan ``gen`` renders.

The printed JSON must be a valid :class:`~nocargo_py.plan.Plan` (``Plan.validate()``) that
round-trips through :func:`~nocargo_py.plan.plan_from_json`, and rendering it must give
byte for byte the ``Cargo.nix`` that ``gen`` writes with the same flags (same code path).
Flags that choose one profile or mode belong to ``--unit-graph``/``--format
resolved-units`` and are refused for the plan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from nocargo_py.plan import plan_from_json
from nocargo_py.render import render_cargo_nix

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
HOST = "x86_64-unknown-linux-gnu"
WASM = "wasm32-unknown-unknown"

CASES = {
    "default": ("ws", []),
    "package-features": ("ws", ["-p", "cli", "--features", "extras"]),
    "exclude": ("ws", ["--exclude", "ffi", "--no-default-features"]),
    "workspace-all-features": ("ws", ["--workspace", "--all-features"]),
    "two-targets": ("wasmws", ["--target", HOST, "--target", WASM]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_prints_the_plan_gen_renders(case, tmp_path):
    fixture, args = CASES[case]
    base = Path(shutil.copytree(FIXTURES / "planner", tmp_path / "planner"))
    ws = base / fixture
    printed = run_cli("plan", "--offline", "--host", HOST, *args, cwd=ws)
    assert printed.returncode == 0, printed.stderr
    plan = plan_from_json(printed.stdout).validate()
    assert plan.to_json() == printed.stdout
    assert str(tmp_path) not in printed.stdout
    generated = run_cli("gen", "--offline", "--host", HOST, *args, cwd=ws)
    assert generated.returncode == 0, generated.stderr
    assert render_cargo_nix(plan) == (ws / "Cargo.nix").read_text(encoding="utf-8")
    if "--target" in args:
        assert [t.triple for t in plan.targets] == [HOST, WASM]


def test_gen_accepts_workspace_as_the_default_selection(tmp_path):
    ws = Path(shutil.copytree(REPO / "examples" / "workspace", tmp_path / "ws"))
    assert run_cli("gen", "--offline", cwd=ws).returncode == 0
    default = (ws / "Cargo.nix").read_bytes()
    check = run_cli("gen", "--offline", "--workspace", "--check", cwd=ws)
    assert check.returncode == 0, check.stderr
    assert (ws / "Cargo.nix").read_bytes() == default


@pytest.mark.parametrize("args, message", [
    (["--release"], "error: `--release` applies to `--unit-graph` and `--format resolved-units` only"),
    (["--profile", "dev"], "error: `--profile` applies to `--unit-graph` and `--format resolved-units` only"),
    (["--format", "plan", "--tests"], "error: `--tests` applies to `--unit-graph` and `--format resolved-units` only"),
    (["--unit-graph", "--format", "plan"], "error: `--unit-graph` cannot be combined with `--format`"),
])
def test_plan_refuses_flags_of_other_formats(args, message, tmp_path):
    ws = Path(shutil.copytree(REPO / "examples" / "workspace", tmp_path / "ws"))
    result = run_cli("plan", "--offline", *args, cwd=ws)
    assert result.returncode == 101, result.stdout
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_resolved_units_stay_behind_their_flag(tmp_path):
    ws = Path(shutil.copytree(REPO / "examples" / "workspace", tmp_path / "ws"))
    result = run_cli("plan", "--offline", "--format", "resolved-units", "--release", cwd=ws)
    assert result.returncode == 0, result.stderr
    assert '"format": "nocargo-resolved-units"' in result.stdout
    assert '"profile": "release"' in result.stdout
