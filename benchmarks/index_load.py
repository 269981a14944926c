#!/usr/bin/env python3
"""Time index loading for the biggest corpus lock file, cold and warm, next to cargo.

    python3 benchmarks/index_load.py [--project cargo] [--runs 3] [--no-network] [--no-cargo]

What is timed (each: wall-clock seconds, best of ``--runs`` for the warm cases):

* ``cold``      empty cache, live https://index.crates.io/: prefetch every locked crate's
                file (thread pool), check every lock checksum, decode every locked summary;
* ``warm``      the same with a filled cache (conditional requests; a registry that sends no
                validators — like some mirrors — makes this a full refetch);
* ``offline``   the filled cache only (``--offline``);
* ``vendored``  ``--index-dir registry-cache`` (no network);
* ``parse``     in memory only: scan every file + decode the locked lines (our lazy path),
                and, for contrast, ``json.loads`` of every line of every file.

cargo, for comparison (``--no-cargo`` skips it): ``cargo generate-lockfile`` on a copy of the
project with an empty ``CARGO_HOME`` (cold) and again (warm), and ``--offline`` (warm).
cargo also *resolves* there, so its figures are an upper bound for index loading alone.
"""

from __future__ import annotations

import argparse
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

from nocargo_py.index import HttpClient, IndexFile, Registries, verify_lock_checksums  # noqa: E402
from nocargo_py.lockfile import parse_lockfile  # noqa: E402
from nocargo_py.source import SourceId  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()


def _load(regs: Registries, lock, lock_path: Path) -> int:
    verify_lock_checksums(lock, regs, lock_path=str(lock_path))
    n = 0
    for pkg in lock.packages:
        if pkg.source.is_registry():
            regs.summary(pkg.id)
            n += 1
    return n


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _best(fn, runs: int) -> float:
    return min(_timed(fn) for _ in range(runs))


def _cargo(project: Path, home: Path, *extra: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_")}
    env.update({"CARGO_HOME": str(home), "RUSTUP_TOOLCHAIN": "stable"})
    start = time.perf_counter()
    r = subprocess.run(["cargo", "generate-lockfile", *extra], cwd=project, env=env,
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"cargo failed:\n{r.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="cargo", help="corpus project (default: cargo, the biggest)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-network", action="store_true")
    ap.add_argument("--no-cargo", action="store_true")
    args = ap.parse_args()

    lock_path = CORPUS / args.project / "Cargo.lock"
    lock = parse_lockfile(lock_path.read_text(), lock_path)
    n_files = len({p.name.lower() for p in lock.packages if p.source.is_registry()})
    rows: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory(prefix="nocargo-bench-") as tmp:
        tmp_path = Path(tmp)
        cache = tmp_path / "cache"
        if not args.no_network:
            def online() -> int:
                regs = Registries(cache_root=cache, client=HttpClient())
                try:
                    return _load(regs, lock, lock_path)
                finally:
                    regs.close()
            rows.append(("nocargo-py cold (network, empty cache)", _timed(online), ""))
            rows.append(("nocargo-py warm (network, cache)", _best(online, args.runs), ""))
            rows.append(("nocargo-py offline (cache only)",
                         _best(lambda: _load(Registries(cache_root=cache, offline=True), lock,
                                             lock_path), args.runs), ""))
        rows.append(("nocargo-py vendored (--index-dir registry-cache)",
                     _best(lambda: _load(Registries(index_dir=REPO / "registry-cache",
                                                    offline=True, cache_root=cache),
                                         lock, lock_path), args.runs), "locked-only files"
                     if args.project not in ("ripgrep", "fd") else "whole files"))

        # In-memory parsing: lazy scan + locked decode vs decoding every line.
        if not args.no_network:
            regs = Registries(cache_root=cache, offline=True)
            index = regs.get(SourceId.crates_io())
            index.prefetch({p.name for p in lock.packages if p.source.is_registry()})
            raws = {name: f.raw for name, f in index.loaded_files().items()}
            size = sum(len(r) for r in raws.values())
            locked = [(p.name.lower(), p.version) for p in lock.packages
                      if p.source.is_registry()]

            def lazy() -> None:
                files = {n: IndexFile(n, raw, SourceId.crates_io()) for n, raw in raws.items()}
                for name, version in locked:
                    files[name].summary(version)

            def full() -> None:
                for raw in raws.values():
                    for line in raw.split(b"\n"):
                        if line.strip():
                            json.loads(line)
            rows.append((f"parse: lazy scan + {len(locked)} summaries", _best(lazy, args.runs),
                         f"{size / 2**20:.1f} MiB of index data"))
            rows.append(("parse: json.loads of every line (contrast)", _best(full, args.runs), ""))

        if not args.no_cargo and not args.no_network and shutil.which("cargo"):
            proj = tmp_path / "proj"
            shutil.copytree(CORPUS / args.project, proj)
            home = tmp_path / "cargo-home"
            rows.append(("cargo generate-lockfile cold (empty CARGO_HOME)",
                         _cargo(proj, home), "includes resolution"))
            rows.append(("cargo generate-lockfile warm",
                         min(_cargo(proj, home) for _ in range(args.runs)), ""))
            rows.append(("cargo generate-lockfile --offline (warm)",
                         min(_cargo(proj, home, "--offline") for _ in range(args.runs)), ""))

    print(f"index loading for ../shared/corpus/{args.project}: {len(lock.packages)} packages, "
          f"{n_files} crates.io index files")
    width = max(len(r[0]) for r in rows)
    for label, secs, note in rows:
        print(f"  {label:<{width}}  {secs:7.3f} s  {note}")


if __name__ == "__main__":
    main()
