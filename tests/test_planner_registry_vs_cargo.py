"""Registry crates: the planner against ``cargo build -vv`` on a real lock file.

The ripgrep corpus project (its 52 locked crates.io packages; the workspace's own ``.rs``
files are empty placeholders, so only the dependencies compile — ``--keep-going``) is
planned the way ``gen --offline --index-dir registry-cache`` plans it (index data and
``crate-info/`` from the vendored ``registry-cache``), and every rustc call and build-script
run cargo makes for a registry package is compared with the planned unit (see
``tests/cargo_verbose.py``): ``--cap-lints``, ``[lints]`` of the published manifests,
``CARGO_PKG_*`` from the ``.crate``, build scripts, features. Needs crates.io for
``cargo fetch`` (cargo's own download of the same crates).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cargo_verbose import cargo_side, cargo_vv, compare, plan_side
from nocargo_py.cli import build_parser, global_options
from nocargo_py.config import load_config
from nocargo_py.index.registries import Registries
from nocargo_py.planner import plan_workspace
from nocargo_py.planner.inputs import load_resolved_graph
from nocargo_py.shell import Shell
from nocargo_py.workspace import load_workspace

pytestmark = [pytest.mark.slow, pytest.mark.network]

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("release", [False])
def test_ripgrep_registry_units_match_cargo(corpus_dir: Path, tmp_path: Path,
                                           release: bool) -> None:
    ws_dir = Path(shutil.copytree(corpus_dir / "ripgrep", tmp_path / "ripgrep"))
    env = {k: v for k, v in os.environ.items() if k != "RUSTFLAGS" and not k.startswith("CARGO_")}
    fetch = subprocess.run(["cargo", "fetch", "--locked"], cwd=ws_dir, capture_output=True,
                           text=True, timeout=900, env=env)
    assert fetch.returncode == 0, fetch.stderr
    args = build_parser().parse_args(["gen", "--offline", "--index-dir",
                                      str(REPO / "registry-cache"), "--cache-dir",
                                      str(tmp_path / "empty-cache")])
    shell = Shell(verbosity=-1)
    options = global_options(args)
    ws = load_workspace(ws_dir / "Cargo.toml", ws_dir, shell)
    registries = Registries.from_options(options, shell, cwd=ws_dir)
    try:
        graph, provider = load_resolved_graph(ws, registries, options, shell, write_lock=False)
    finally:
        registries.close()
    trace: dict = {}
    plan = plan_workspace(ws, graph, nix_file=ws_dir / "Cargo.nix",
                          host="x86_64-unknown-linux-gnu", provider=provider,
                          config=load_config(ws_dir, env=env), env=env, trace=trace)
    profile = "release" if release else "dev"
    run = cargo_vv(ws_dir, ["build", "--workspace", "--keep-going", "--ignore-rust-version",
                            *(["--release"] if release else [])], tmp_path / "target")
    members = {m.name for m in ws.members}
    known = {ld.env_prefix for u in trace["units"].values() for ld in u.links_deps}
    ours = [u for u in plan_side(trace, (plan.targets[0].triple, profile, "build"))
            if u["env"]["CARGO_PKG_NAME"] not in members]
    theirs = [u for u in cargo_side(run, known) if u["env"]["CARGO_PKG_NAME"] not in members]
    assert len(ours) >= 50
    diff = compare(ours, theirs)
    assert diff is None, diff
