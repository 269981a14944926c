#!/usr/bin/env python3
"""Time `metadata --no-deps` on every corpus project, next to cargo.

    python3 benchmarks/metadata.py [--runs 5] [--no-cargo]

What is timed (best of ``--runs``, milliseconds):

* ``ours``   ``load_workspace`` + ``metadata_text`` in-process (manifest parsing, inheritance,
             target discovery, workspace walk, JSON) — no interpreter start-up;
* ``cli``    ``python -m nocargo_py metadata --no-deps --format-version 1`` as a process
             (interpreter and import start-up included);
* ``cargo``  ``cargo metadata --no-deps --offline --format-version 1`` as a process.

The outputs are also compared (``same`` column): the benchmark is only meaningful while
they are byte-identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nocargo_py.metadata import metadata_text  # noqa: E402
from nocargo_py.workspace import load_workspace  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()


def best(fn, runs: int) -> tuple[float, object]:
    result = None
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cargo", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "RUSTUP_TOOLCHAIN": "stable", "PYTHONPATH": str(REPO)}
    have_cargo = not args.no_cargo and shutil.which("cargo") is not None
    print(f"{'project':<10} {'pkgs':>4} {'ours ms':>8} {'cli ms':>8} {'cargo ms':>9} "
          f"{'ours/cargo':>10} same")
    for project in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        ours_ms, text = best(lambda: metadata_text(load_workspace(None, project, strict=False)),
                             args.runs)
        cli_ms, cli = best(lambda: subprocess.run(
            [sys.executable, "-m", "nocargo_py", "metadata", "--no-deps", "--format-version", "1"],
            cwd=project, env=env, capture_output=True, text=True).stdout, args.runs)
        packages = text.count('"manifest_path"')
        if have_cargo:
            cargo_ms, theirs = best(lambda: subprocess.run(
                ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"],
                cwd=project, env=env, capture_output=True, text=True).stdout, args.runs)
            same = "yes" if theirs == text == cli else "NO"
            print(f"{project.name:<10} {packages:>4} {ours_ms:>8.1f} {cli_ms:>8.1f} "
                  f"{cargo_ms:>9.1f} {ours_ms / cargo_ms:>10.2f} {same}")
        else:
            print(f"{project.name:<10} {packages:>4} {ours_ms:>8.1f} {cli_ms:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
