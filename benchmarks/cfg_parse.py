#!/usr/bin/env python3
"""Time platform-key parsing and matching on real data, next to cargo.

    python3 benchmarks/cfg_parse.py [--runs 5] [--no-cargo]

Keys: every ``target`` of every dependency line in ``registry-cache/`` (the vendored index
data; thousands, with repeats) plus the corpus manifests' ``[target.KEY]`` keys.

What is timed (best of ``--runs``, seconds):

* ``parse cold``   ``Platform.parse`` of every distinct key with an empty cache (the Lark
                   LALR parser, grammar already loaded; the cross-run store of parses
                   bypassed);
* ``parse memo``   the same, each parse read back from that store (``cfg._memo``: what a
                   run pays for a key some earlier run parsed);
* ``parse cached`` ``Platform.parse`` of every key occurrence (the lru_cache path an index
                   loader sees);
* ``match``        every distinct key against every built-in target (``matches``);
* ``grammar``      building the Lark parser from ``grammar/cfg.lark`` once (process start);
* ``deep``         parse + evaluate ``not(`` x 10,000.

cargo, for comparison (``--no-cargo`` skips it): ``cargo metadata --no-deps --offline`` on a
manifest holding one ``[target.KEY]`` table per distinct key (parsing plus everything else
cargo does for a manifest), and the same with a single table (its fixed cost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nocargo_py.cfg import Platform, evaluate, list_targets, parse_cfg, target_info  # noqa: E402
from nocargo_py.cfg import _grammar, _memo  # noqa: E402
from nocargo_py.cfg.platform import _parse_platform  # noqa: E402


def collect_keys() -> list[str]:
    keys: list[str] = []
    cache = REPO / "registry-cache"
    for path in sorted(cache.rglob("*")):
        rel = path.relative_to(cache)
        if not path.is_file() or rel.parts[0] == "crate-info" or len(rel.parts) == 1:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                keys += [d["target"] for d in json.loads(line).get("deps", []) if d.get("target")]
    corpus = REPO.parent / "shared" / "corpus"
    for manifest in sorted(corpus.rglob("Cargo.toml")):
        keys += list(tomllib.loads(manifest.read_text(encoding="utf-8")).get("target", {}))
    return keys


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cargo_time(keys: list[str], runs: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="cfg-bench-"))
    try:
        for name in ("dep", "top"):
            (tmp / name / "src").mkdir(parents=True)
            (tmp / name / "src" / "lib.rs").write_text("")
        (tmp / "dep" / "Cargo.toml").write_text('[package]\nname = "dep"\nversion = "0.1.0"\n')
        tables = "".join(f"\n[target.{json.dumps(k)}.dependencies]\ndep = {{ path = \"../dep\" }}\n"
                         for k in keys)
        (tmp / "top" / "Cargo.toml").write_text('[package]\nname = "top"\nversion = "0.1.0"\n' + tables)
        cmd = ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"]
        return best(runs, lambda: subprocess.run(cmd, cwd=tmp / "top", capture_output=True, check=True))
    finally:
        shutil.rmtree(tmp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-cargo", action="store_true")
    args = parser.parse_args()

    keys = collect_keys()
    distinct = sorted(set(keys))
    print(f"keys: {len(keys)} occurrences, {len(distinct)} distinct")

    start = time.perf_counter()
    _grammar.cfg_parser.cache_clear()
    _grammar.cfg_parser()
    print(f"grammar       {time.perf_counter() - start:8.4f} s  (build the LALR parser once)")

    def cold() -> None:
        _parse_platform.cache_clear()
        for key in distinct:
            Platform.parse(key)

    lookup, remember = _memo.lookup, _memo.remember
    _memo.lookup, _memo.remember = (lambda start, text: None), (lambda start, text, expr: None)
    try:
        t_cold = best(args.runs, cold)
    finally:
        _memo.lookup, _memo.remember = lookup, remember
    print(f"parse cold    {t_cold:8.4f} s  ({t_cold / len(distinct) * 1e6:.1f} µs per distinct key)")
    cold()  # fills the store of parses (in memory; written at exit)

    def memo() -> None:
        _memo._store().decoded.clear()  # decode each entry again, as a new process does
        cold()

    t_memo = best(args.runs, memo)
    print(f"parse memo    {t_memo:8.4f} s  ({t_memo / len(distinct) * 1e6:.1f} µs per distinct key)")
    t_cached = best(args.runs, lambda: [Platform.parse(k) for k in keys])
    print(f"parse cached  {t_cached:8.4f} s  ({t_cached / len(keys) * 1e6:.2f} µs per occurrence)")

    targets = [target_info(t) for t in list_targets()]
    platforms = [Platform.parse(k) for k in distinct]
    t_match = best(args.runs, lambda: [p.matches(t) for p in platforms for t in targets])
    pairs = len(platforms) * len(targets)
    print(f"match         {t_match:8.4f} s  ({pairs} pairs, {t_match / pairs * 1e6:.2f} µs each)")

    deep = "not(" * 10_000 + "unix" + ")" * 10_000
    host = target_info("x86_64-unknown-linux-gnu")
    t_deep = best(max(1, args.runs // 2), lambda: evaluate(parse_cfg(deep), host.cfg_set))
    print(f"deep          {t_deep:8.4f} s  (not( x 10,000: parse + evaluate)")

    if not args.no_cargo and shutil.which("cargo"):
        t_cargo = cargo_time(distinct, args.runs)
        t_cargo1 = cargo_time(distinct[:1], args.runs)
        print(f"cargo         {t_cargo:8.4f} s  (metadata, {len(distinct)} tables; "
              f"{t_cargo1:.4f} s with 1 table)")
        per_key_cargo = max(t_cargo - t_cargo1, 0.0) / len(distinct)
        print(f"ratio         ours {t_cold / len(distinct) * 1e6:.1f} µs vs cargo ~{per_key_cargo * 1e6:.1f} µs "
              "per distinct key (cargo's includes TOML and dependency handling)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
