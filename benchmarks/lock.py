#!/usr/bin/env python3
"""Time ``nocargo-py lock`` next to ``cargo generate-lockfile`` on the same index data.

    python3 benchmarks/lock.py [--runs 5] [--projects ripgrep fd]

The corpus projects whose index files are vendored whole in ``registry-cache/`` (ripgrep,
fd) are copied to a scratch directory; ``registry-cache/`` is served on 127.0.0.1 as a
sparse registry and both tools are pointed at it (``.cargo/config.toml`` source
replacement), so they read exactly the same data the same way. Timed (median of
``--runs``, milliseconds, each a fresh process):

* ``cargo gen``   ``cargo generate-lockfile`` — resolve from scratch (warm ``CARGO_HOME``:
                  index files cached, revalidated with conditional requests);
* ``cargo noop``  ``cargo update --workspace`` on the up-to-date lock (cargo's re-resolve
                  with the old lock as a guide, the closest cargo command to our no-op);
* ``ours gen``    ``nocargo-py lock --from-scratch --stdout`` (warm index cache);
* ``ours noop``   ``nocargo-py lock`` on the up-to-date lock (nothing written);
* ``ours off``    ``nocargo-py --offline --index-dir registry-cache lock`` (no HTTP at all).

The lock files are compared (``same``): the figures only mean something while ours equals
cargo's. Ratios are ours/cargo (below 1 means faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from sparse_server import cargo_config_for, serve_registry  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
CACHE = REPO / "registry-cache"


def timed(cmd: list[str], cwd: Path, env: dict, runs: int) -> tuple[float, subprocess.CompletedProcess]:
    times = []
    proc = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return statistics.median(times) * 1000, proc


def bench(project: str, runs: int, scratch: Path) -> None:
    ws = scratch / project
    shutil.copytree(CORPUS / project, ws)
    original = (ws / "Cargo.lock").read_text()
    cargo_env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO")}
    cargo_env.update(CARGO_HOME=str(scratch / f"home-{project}"), CARGO_TERM_COLOR="never",
                     NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    ours_env = {**os.environ, "PYTHONPATH": str(REPO),
                "NOCARGO_PY_CACHE_DIR": str(scratch / f"cache-{project}")}
    cli = [sys.executable, "-m", "nocargo_py", "-q"]
    with serve_registry(CACHE) as server:
        (ws / ".cargo").mkdir(exist_ok=True)
        (ws / ".cargo" / "config.toml").write_text(cargo_config_for(server))
        # warm both caches once (not timed)
        subprocess.run(["cargo", "generate-lockfile"], cwd=ws, env=cargo_env, capture_output=True)
        subprocess.run(cli + ["lock", "--from-scratch", "--stdout"], cwd=ws, env=ours_env,
                       capture_output=True)
        cargo_gen, _ = timed(["cargo", "generate-lockfile"], ws, cargo_env, runs)
        generated = (ws / "Cargo.lock").read_text()
        ours_gen, proc = timed(cli + ["lock", "--from-scratch", "--stdout"], ws, ours_env, runs)
        same_gen = proc.stdout == generated
        (ws / "Cargo.lock").write_text(original)
        cargo_noop, _ = timed(["cargo", "update", "--workspace"], ws, cargo_env, runs)
        same_cargo_noop = (ws / "Cargo.lock").read_text() == original
        (ws / "Cargo.lock").write_text(original)
        ours_noop, _ = timed(cli + ["lock"], ws, ours_env, runs)
        same_noop = (ws / "Cargo.lock").read_text() == original
    ours_off, _ = timed(cli + ["--offline", "--index-dir", str(CACHE), "lock"], ws, ours_env, runs)
    same_off = (ws / "Cargo.lock").read_text() == original
    packages = original.count("[[package]]")
    same = "yes" if same_gen and same_noop and same_off and same_cargo_noop else "NO"
    print(f"{project:<9} {packages:>4} {cargo_gen:>9.0f} {ours_gen:>8.0f} {ours_gen / cargo_gen:>6.2f}"
          f" {cargo_noop:>10.0f} {ours_noop:>9.0f} {ours_noop / cargo_noop:>6.2f}"
          f" {ours_off:>8.0f} {ours_off / cargo_noop:>6.2f}  {same}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--projects", nargs="*", default=["ripgrep", "fd"])
    args = parser.parse_args()
    if shutil.which("cargo") is None:
        print("cargo not found")
        return 1
    print(f"{'project':<9} {'pkgs':>4} {'cargo gen':>9} {'ours gen':>8} {'ratio':>6}"
          f" {'cargo noop':>10} {'ours noop':>9} {'ratio':>6} {'ours off':>8} {'ratio':>6}  same")
    with tempfile.TemporaryDirectory(prefix="nocargo-bench-lock-") as tmp:
        for project in args.projects:
            bench(project, args.runs, Path(tmp))
    print("(milliseconds, median of", args.runs, "runs; ratio = ours / cargo; "
          "'ours off' is compared with 'cargo noop')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
