#!/usr/bin/env python3
"""Time `plan` on every corpus project, next to `cargo metadata` and cargo's unit graph.

    python3 benchmarks/plan.py [--runs 5] [--no-cargo]

What is timed (best of ``--runs``, milliseconds), all on the project's ``Cargo.lock`` with
warm caches (index data from ``registry-cache/``, crate facts from the cache dir filled by a
first, untimed run; cargo's crates already downloaded):

* ``ours``      in-process: load the workspace, check ``Cargo.lock`` with the version
                resolver (as cargo re-resolves on every build; about two thirds of the time),
                build the resolved graph from it, resolve features, build the unit graph and
                the plan JSON — no interpreter start-up;
* ``cli``       ``python -m nocargo_py plan`` as a process (start-up and imports included);
* ``metadata``  ``cargo metadata --format-version 1 --locked --offline`` as a process (cargo
                resolves and loads every package manifest: the closest cargo command that
                does comparable work and is stable);
* ``ugraph``    ``cargo build --unit-graph`` (``RUSTC_BOOTSTRAP=1``) as a process.

``units`` is the number of units of the plan; ``same`` says whether our unit graph equals
cargo's (up to the order of units that differ only in their dependencies) — the timing is
only meaningful while it does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from nocargo_py.cli import Context, GlobalOptions  # noqa: E402
from nocargo_py.commands.plan import load_graph, plan_json, PlanRequest  # noqa: E402
from nocargo_py.profiles import Profiles  # noqa: E402
from nocargo_py.resolve import (  # noqa: E402
    FeatureRequest, Intent, build_unit_graph, resolve_features,
)
from nocargo_py.shell import Shell  # noqa: E402
from nocargo_py.workspace import load_workspace  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
HOST = "x86_64-unknown-linux-gnu"


def best(fn, runs: int) -> tuple[float, object]:
    result = None
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, result


def ours(root: Path, ctx: Context) -> tuple[dict, dict]:
    old = os.getcwd()
    os.chdir(root)
    try:
        ws = load_workspace(None, root, ctx.shell)
        graph = load_graph(ws, ctx)
        res = resolve_features(graph, ws, FeatureRequest(host=HOST))
        profiles = Profiles.new(ws.profiles, "dev", HOST)
        ug = build_unit_graph(graph, ws, res, profiles, intent=Intent.BUILD, explicit_targets=False)
        req = PlanRequest(ws, graph, res, profiles, Intent.BUILD, False, ())
        return plan_json(req, ug), ug.to_json()
    finally:
        os.chdir(old)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cargo", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "RUSTUP_TOOLCHAIN": "stable", "PYTHONPATH": str(REPO),
           "RUSTC_BOOTSTRAP": "1"}
    have_cargo = not args.no_cargo and shutil.which("cargo") is not None
    index_dir = REPO / "registry-cache"
    options = GlobalOptions(manifest_path=None, offline=False, locked=True, frozen=False,
                            verbosity=-1, color="never", index_dir=index_dir, cache_dir=None)
    ctx = Context(options=options, shell=Shell(verbosity=-1))
    print(f"{'project':<10} {'units':>5} {'ours ms':>8} {'cli ms':>8} {'metadata ms':>11} "
          f"{'ugraph ms':>9} {'ours/metadata':>13} {'cli/metadata':>12} same")
    with tempfile.TemporaryDirectory(prefix="nocargo-bench-") as tmp:
        for project in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
            root = Path(tmp) / project.name
            shutil.copytree(project, root)
            for path in [root, *root.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
            root = root.resolve()
            plan, ugraph = ours(root, ctx)  # warm-up: fills the crate-facts cache
            ours_ms, _ = best(lambda: ours(root, ctx), args.runs)
            cli_ms, _ = best(lambda: subprocess.run(
                [sys.executable, "-m", "nocargo_py", "-q", "--index-dir", str(index_dir), "plan"],
                cwd=root, env=env, capture_output=True, check=True), args.runs)
            meta_ms = ug_ms = float("nan")
            same = "-"
            if have_cargo:
                base = ["cargo", "metadata", "--format-version", "1", "--locked"]
                subprocess.run(base, cwd=root, env=env, capture_output=True, check=True)
                meta_ms, _ = best(lambda: subprocess.run(
                    base + ["--offline"], cwd=root, env=env, capture_output=True, check=True),
                    args.runs)
                ug_cmd = ["cargo", "build", "--locked", "--offline", "--ignore-rust-version",
                          "--unit-graph", "-Z", "unstable-options"]
                ug_ms, proc = best(lambda: subprocess.run(
                    ug_cmd, cwd=root, env=env, capture_output=True, text=True, check=True),
                    args.runs)
                from test_unit_graph_vs_cargo import equivalent

                same = "yes" if equivalent(ugraph, json.loads(proc.stdout)) else "NO"
            print(f"{project.name:<10} {len(plan['units']):>5} {ours_ms:>8.0f} {cli_ms:>8.0f} "
                  f"{meta_ms:>11.0f} {ug_ms:>9.0f} {ours_ms / meta_ms:>13.2f} "
                  f"{cli_ms / meta_ms:>12.2f} {same}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
