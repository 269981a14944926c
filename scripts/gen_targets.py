#!/usr/bin/env python3
"""Regenerate the built-in target database and the Unicode table used by cfg/platform code.

Writes, from the ``rustc`` on PATH (or ``--rustc``):

* ``nocargo_py/data/targets.json`` — for every target of ``rustc --print target-list``
  the cfg lines cargo sees: rustc's answer to cargo's own query
  (``nocargo_py.cfg.targets.CARGO_CFG_QUERY``: ``--print=cfg --target T`` with every crate
  type, which turns ``crt-static`` off on musl/wasip1-like targets) without profile flags
  and without the ``proc_macro`` name cargo drops, plus the ``rustc -vV`` it came from,
  and the targets where ``-C target-feature=+crt-static`` adds ``target_feature="crt-static"``
  to that answer (rustc ignores it on the others; it never changes anything else);
* ``nocargo_py/data/rust_alphanumeric.json`` — the non-ASCII ranges of Rust's
  ``char::is_alphanumeric`` (cargo uses it to validate ``[target.NAME]`` keys), computed
  by compiling and running a tiny Rust program with the same toolchain.

Run ``python3 scripts/gen_targets.py`` after a toolchain update and commit the result;
``--check`` exits 1 if the committed files differ from what this rustc would produce.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "nocargo_py" / "data"
sys.path.insert(0, str(REPO))

from nocargo_py.cfg.targets import CARGO_CFG_QUERY  # noqa: E402

_ALNUM_PROGRAM = r"""
fn main() {
    let mut start: Option<u32> = None;
    let mut prev: u32 = 0;
    for cp in 0x80u32..=0x10FFFF {
        let ok = char::from_u32(cp).map_or(false, |c| c.is_alphanumeric());
        match (ok, start) {
            (true, None) => start = Some(cp),
            (false, Some(s)) => { println!("{} {}", s, prev); start = None; }
            _ => {}
        }
        prev = cp;
    }
    if let Some(s) = start { println!("{} {}", s, prev); }
}
"""


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        sys.exit(f"`{' '.join(cmd)}` failed:\n{proc.stderr}")
    return proc.stdout


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("RUSTFLAGS", "RUSTC_BOOTSTRAP", "RUSTC_LOG", "CARGO_ENCODED_RUSTFLAGS"):
        env.pop(key, None)
    return env


def rustc_version(rustc: str) -> dict[str, str]:
    """``rustc -vV`` as a dict (``release``, ``commit-hash``, ``host``, ...) plus ``version``."""
    text = _run([rustc, "-vV"], env=_clean_env())
    lines = text.splitlines()
    info = {"version": lines[0]}
    for line in lines[1:]:
        key, sep, value = line.partition(": ")
        if sep:
            info[key] = value
    return info


def target_cfgs(rustc: str, jobs: int = 4) -> tuple[dict[str, list[str]], list[str]]:
    """``{triple: [cfg line, ...]}`` for every built-in target, in rustc's orders, and the
    targets where ``+crt-static`` takes effect (rustc's order)."""
    env = _clean_env()
    targets = _run([rustc, "--print", "target-list"], env=env).split()
    static = 'target_feature="crt-static"'

    def one(target: str) -> tuple[list[str], bool]:
        lines = _run([rustc, *CARGO_CFG_QUERY, "--target", target], env=env).splitlines()
        plus = _run([rustc, *CARGO_CFG_QUERY, "--target", target,
                     "-C", "target-feature=+crt-static"], env=env).splitlines()
        if set(plus) - {static} != set(lines) or static in lines:
            sys.exit(f"{target}: +crt-static changes more than crt-static; the database "
                     "cannot describe it")
        return [line for line in lines if line != "proc_macro"], static in plus

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, targets))
    cfgs = {t: lines for t, (lines, _) in zip(targets, results)}
    return cfgs, [t for t, (_, static_ok) in zip(targets, results) if static_ok]


def alnum_ranges(rustc: str) -> list[list[int]]:
    """Inclusive non-ASCII code point ranges where Rust's ``char::is_alphanumeric`` holds."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "alnum.rs"
        exe = Path(tmp) / "alnum"
        src.write_text(_ALNUM_PROGRAM)
        _run([rustc, "-O", "-o", str(exe), str(src)], env=_clean_env())
        out = _run([str(exe)])
    return [[int(a), int(b)] for a, b in (line.split() for line in out.splitlines())]


def render_targets(version: dict[str, str], targets: dict[str, list[str]],
                   crt_static: list[str]) -> str:
    """The JSON text of ``targets.json``: one target per line, in rustc's order."""
    head = {
        "generated_by": "scripts/gen_targets.py",
        "rustc": version["version"],
        "rustc_release": version.get("release", ""),
        "rustc_commit": version.get("commit-hash", ""),
    }
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "crt_static_targets": [')
    lines.extend(f"    {json.dumps(t)}{',' if i < len(crt_static) - 1 else ''}"
                 for i, t in enumerate(crt_static))
    lines.append("  ],")
    lines.append('  "targets": {')
    items = list(targets.items())
    for index, (triple, cfgs) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"    {json.dumps(triple)}: {json.dumps(cfgs, ensure_ascii=False)}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_alnum(version: dict[str, str], ranges: list[list[int]]) -> str:
    """The JSON text of ``rust_alphanumeric.json``."""
    head = {
        "generated_by": "scripts/gen_targets.py",
        "what": "non-ASCII inclusive code point ranges of Rust's char::is_alphanumeric",
        "rustc": version["version"],
    }
    body = ",\n    ".join(json.dumps(r) for r in ranges)
    fields = "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in head.items())
    return "{\n" + fields + '  "ranges": [\n    ' + body + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rustc", default="rustc", help="the rustc to ask (default: rustc on PATH)")
    parser.add_argument("--out-dir", type=Path, default=DATA, help="where to write (default: nocargo_py/data)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on difference")
    parser.add_argument("--only", choices=("targets", "alphanumeric"),
                        help="handle only one of the two files")
    parser.add_argument("-j", "--jobs", type=int, default=4)
    args = parser.parse_args(argv)

    version = rustc_version(args.rustc)
    files = {}
    if args.only in (None, "targets"):
        files["targets.json"] = render_targets(version, *target_cfgs(args.rustc, args.jobs))
    if args.only in (None, "alphanumeric"):
        files["rust_alphanumeric.json"] = render_alnum(version, alnum_ranges(args.rustc))
    status = 0
    for name, text in files.items():
        path = args.out_dir / name
        if args.check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                print(f"{path} differs from what {version['version']} produces", file=sys.stderr)
                status = 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
