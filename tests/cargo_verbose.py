"""Compare the planner's units with what ``cargo build -vv`` runs (the oracle).

``cargo -vv`` prints every rustc call and every build-script run as
``Running `ENV=... program args...``` (the environment cargo sets, shell-quoted). Both
sides are normalised to the same shape and compared as multisets:

* rustc calls: the argument list without what the Nix builder supplies as store paths or
  what a Nix build does not need — the crate root (kept separately, relative to the
  package), ``--error-format``/``--json``/``--diagnostic-width``, ``--out-dir``,
  ``-C incremental=`` (by design: no incremental builds), ``-L dependency=``, the paths
  of ``--extern NAME=PATH`` (the names are kept, in order), and the trailing flags that
  come from build-script output (``-L``/``-l``/``-C link-arg``/``--cfg``/
  ``--check-cfg`` printed by a script; the builder adds those at build time). Hash values
  of ``-C metadata``/``-C extra-filename`` are ours (the flags must be there or absent
  together with cargo's). The environment without cargo's own path variables
  (``CARGO``, ``CARGO_MANIFEST_DIR/PATH``, ``LD_LIBRARY_PATH``, ``CARGO_TARGET_TMPDIR``,
  jobserver), ``OUT_DIR`` and ``CARGO_BIN_EXE_*`` present with any value, ``rustc-env``
  pairs from scripts left out (added at build time).
* build-script runs: the environment, minus the same path variables and ``RUSTC``/
  ``RUSTDOC``/``OUT_DIR``; ``NUM_JOBS`` present with any value (the plan fixes it to
  1 for reproducibility); ``DEP_<LINKS>_<KEY>`` reduced to the ``DEP_<LINKS>_`` prefixes.
* ``CARGO_ENCODED_RUSTFLAGS`` loses its ``\x1f`` separators in cargo's display; the
  plan's value is compared joined without them.
* ``--cap-lints warn``, which cargo passes to non-local packages only under ``-vv``, is
  read as the ``--cap-lints allow`` of a normal build.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["CargoRun", "cargo_side", "cargo_vv", "compare", "plan_side", "script_outputs"]

_RUNNING = re.compile(r"^\s+Running `(.*)$")
_ENV_WORD = re.compile(r"^[A-Za-z_][^=/\s]*=")
_DROP_RUSTC_ENV = {"CARGO", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "LD_LIBRARY_PATH",
                   "CARGO_MAKEFLAGS", "CARGO_RUSTC_CURRENT_DIR",
                   "DYLD_FALLBACK_LIBRARY_PATH"}
_DROP_RUN_ENV = _DROP_RUSTC_ENV | {"OUT_DIR", "RUSTC", "RUSTDOC", "RUSTC_WRAPPER",
                                   "RUSTC_WORKSPACE_WRAPPER"}


class CargoRun:
    """The parsed ``Running`` lines of one cargo invocation, and its failure text."""

    def __init__(self, calls: list[tuple[dict[str, str], str, list[str]]], error: str | None,
                 cwd: Path, target_dir: Path) -> None:
        self.calls = calls
        self.error = error
        self.cwd = cwd
        self.target_dir = target_dir


def cargo_vv(cwd: Path, args: list[str], target_dir: Path, env: Mapping[str, str] | None = None,
             timeout: float = 900) -> CargoRun:
    """Run ``cargo <args> -vv --offline`` in ``cwd`` with a fresh ``target_dir``."""
    full = {k: v for k, v in os.environ.items()
            if not k.startswith("CARGO_") and k not in ("RUSTFLAGS", "RUSTC_WRAPPER")}
    full["CARGO_TERM_COLOR"] = "never"
    full["CARGO_TARGET_DIR"] = str(target_dir)
    full["CARGO_INCREMENTAL"] = "0"
    if env:
        full.update(env)
    proc = subprocess.run(["cargo", *args, "-vv", "--offline"], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)
    calls = []
    for command in _running_commands(proc.stderr.split("\n")):
        words = command
        env_words: dict[str, str] = {}
        i = 0
        while i < len(words) and _ENV_WORD.match(words[i]):
            k, _, v = words[i].partition("=")
            env_words[k] = v
            i += 1
        calls.append((env_words, words[i], words[i + 1:]))
    error = None if proc.returncode == 0 else proc.stderr
    return CargoRun(calls, error, cwd, target_dir)


def _running_commands(lines: list[str]) -> list[list[str]]:
    """The shell words of every ``Running `...``` line (values may span lines and contain
    backticks: a command ends at the first closing backtick after which it parses)."""
    out = []
    i = 0
    while i < len(lines):
        m = _RUNNING.match(lines[i])
        i += 1
        if not m:
            continue
        buf = m.group(1)
        while True:
            if buf.endswith("`"):
                try:
                    out.append(shlex.split(buf[:-1]))
                    break
                except ValueError:
                    pass
            if i >= len(lines):
                raise ValueError("unterminated `Running` line in cargo's output")
            buf += "\n" + lines[i]
            i += 1
    return out


# -- build-script outputs ------------------------------------------------------------------

def script_outputs(target_dir: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """(flag pairs cargo appends from build-script output, ``rustc-env`` names)."""
    pairs: set[tuple[str, str]] = set()
    env_names: set[str] = set()
    for out in target_dir.glob("**/build/*/output"):
        for line in out.read_text(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("cargo::"):
                rest = line[len("cargo::"):]
            elif line.startswith("cargo:"):
                rest = line[len("cargo:"):]
            else:
                continue
            key, _, value = rest.partition("=")
            if key == "rustc-link-search":
                pairs.add(("-L", value))
            elif key == "rustc-link-lib":
                pairs.add(("-l", value))
            elif key == "rustc-flags":
                words = value.split()
                j = 0
                while j < len(words):
                    w = words[j]
                    if w in ("-l", "-L") and j + 1 < len(words):
                        pairs.add((w, words[j + 1]))
                        j += 2
                        continue
                    pairs.add((w[:2], w[2:]))
                    j += 1
            elif key in ("rustc-link-arg", "rustc-link-arg-bins", "rustc-link-arg-tests",
                         "rustc-link-arg-benches", "rustc-link-arg-examples",
                         "rustc-cdylib-link-arg", "rustc-link-arg-cdylib"):
                pairs.add(("-C", f"link-arg={value}"))
            elif key == "rustc-link-arg-bin":
                pairs.add(("-C", f"link-arg={value.partition('=')[2]}"))
            elif key == "rustc-cfg":
                pairs.add(("--cfg", value))
            elif key == "rustc-check-cfg":
                pairs.add(("--check-cfg", value))
            elif key == "rustc-env":
                env_names.add(value.partition("=")[0])
    return pairs, env_names


# -- normalisation -------------------------------------------------------------------------

def _norm_hash_flag(args: list[str], i: int) -> str | None:
    value = args[i + 1] if i + 1 < len(args) else ""
    if value.startswith("metadata="):
        return "metadata=*"
    if value.startswith("extra-filename="):
        return "extra-filename=*"
    return None


def _cargo_rustc(env: dict[str, str], args: list[str], cwd: Path,
                 script_pairs: set[tuple[str, str]], script_env: set[str]) -> dict:
    out: list[str] = []
    externs: list[str] = []
    src = None
    i = 0
    takes_value = {"--crate-name", "--crate-type", "-C", "--cfg", "--check-cfg", "-L", "-l",
                   "--extern", "--cap-lints", "--target", "--out-dir", "-Z", "-A", "-W",
                   "-D", "-F"}
    while i < len(args):
        a = args[i]
        if a.startswith(("--error-format", "--json=", "--diagnostic-width")):
            i += 1
            continue
        if a == "--out-dir":
            i += 2
            continue
        if a == "-C" and args[i + 1].startswith("incremental="):
            i += 2
            continue
        if a == "-L" and args[i + 1].startswith("dependency="):
            i += 2
            continue
        if a == "--extern" and "=" in args[i + 1]:
            externs.append(args[i + 1].partition("=")[0])
            i += 2
            continue
        if a == "-C":
            h = _norm_hash_flag(args, i)
            if h is not None:
                out += ["-C", h]
                i += 2
                continue
        if a == "--cap-lints" and args[i + 1] == "warn":
            out += ["--cap-lints", "allow"]
            i += 2
            continue
        if src is None and not a.startswith("-") and a.endswith(".rs") and \
                (i == 0 or args[i - 1] not in takes_value):
            src = a
            i += 1
            continue
        out.append(a)
        i += 1
    # the tail cargo adds from build-script output
    while len(out) >= 2 and (out[-2], out[-1]) in script_pairs:
        out = out[:-2]
    manifest_dir = Path(env.get("CARGO_MANIFEST_DIR", str(cwd)))
    src_abs = Path(src) if src and os.path.isabs(src) else cwd / (src or "")
    rel = os.path.relpath(src_abs, manifest_dir)
    norm_env = {}
    for k, v in env.items():
        if k in _DROP_RUSTC_ENV or k in script_env:
            continue
        if k in ("OUT_DIR", "CARGO_TARGET_TMPDIR") or k.startswith("CARGO_BIN_EXE_"):
            v = "*"
        norm_env[k] = v
    return {"kind": "rustc", "args": out, "externs": externs, "src": Path(rel).as_posix(),
            "env": dict(sorted(norm_env.items()))}


def _dep_prefixes(env: dict[str, str], known: Iterable[str]) -> list[str]:
    known = sorted(set(known), key=len, reverse=True)
    found = set()
    for k in env:
        if not k.startswith("DEP_"):
            continue
        prefix = next((p for p in known if k.startswith(p)), k)
        found.add(prefix)
    return sorted(found)


def _cargo_run(env: dict[str, str], program: str, known_prefixes: Iterable[str]) -> dict:
    norm = {}
    for k, v in env.items():
        if k in _DROP_RUN_ENV or k.startswith("DEP_"):
            continue
        norm[k] = "*" if k == "NUM_JOBS" else v
    return {"kind": "run", "script": Path(program).name,
            "env": dict(sorted(norm.items())),
            "dep_prefixes": _dep_prefixes(env, known_prefixes)}


def cargo_side(run: CargoRun, known_prefixes: Iterable[str], *,
               skip_examples: bool = True, env_paths: Iterable[str] = ()) -> list[dict]:
    """Normalised units of a cargo invocation (``Running`` lines). ``env_paths``: the
    names of ``[env]`` entries with ``relative = true``, whose absolute values are made
    relative to the workspace (as the plan's ``env_paths`` are)."""
    pairs, script_env = script_outputs(run.target_dir)
    out = []
    for env, program, args in run.calls:
        env = {k: Path(os.path.relpath(v, run.cwd)).as_posix() if k in env_paths else v
               for k, v in env.items()}
        if Path(program).name in ("rustc",) or program.endswith("/rustc"):
            unit = _cargo_rustc(env, args, run.cwd, pairs, script_env)
            if skip_examples and unit["src"].startswith("examples/") and "--test" not in unit["args"]:
                continue
            out.append(unit)
        elif Path(program).name.startswith("build-script-"):
            out.append(_cargo_run(env, program, known_prefixes))
    return out


def plan_side(trace: dict, invocation: tuple[str, str, str],
              env_paths: Mapping[str, Any] = {}) -> list[dict]:
    """Normalised planned units of one invocation (same shape as :func:`cargo_side`);
    ``trace`` is what :func:`nocargo_py.planner.plan_workspace` filled in; ``env_paths``
    the plan's (every unit sees them, under its own env)."""
    units, packages = trace["units"], trace["packages"]
    out = []
    for uid in trace["invocations"][invocation]:
        u = units[uid]
        pkg = packages[u.package]
        env = {**{k: s.path or "." for k, s in env_paths.items()}, **pkg.env, **u.env}
        if u.kind.value == "build-script-run":
            env = {k: v for k, v in env.items()}
            # cargo's -vv display drops the \x1f separators (the fixture's build script
            # prints the real value, which the nix-build tests compare with cargo's)
            env["CARGO_ENCODED_RUSTFLAGS"] = "".join(u.rustflags)
            env["NUM_JOBS"] = "*"
            script = units[u.build_script].executable.rsplit("/", 1)[-1]
            out.append({"kind": "run", "script": script, "env": dict(sorted(env.items())),
                        "dep_prefixes": sorted(ld.env_prefix for ld in u.links_deps)})
            continue
        args = []
        i = 0
        while i < len(u.args):
            a = u.args[i]
            if a == "-C" and i + 1 < len(u.args):
                h = _norm_hash_flag(list(u.args), i)
                if h is not None:
                    args += ["-C", h]
                    i += 2
                    continue
            args.append(a)
            i += 1
        if u.build_script_run is not None:
            env["OUT_DIR"] = "*"
        for b in u.bin_exes:
            env[f"CARGO_BIN_EXE_{b.name}"] = "*"
        env = {k: "*" if k.startswith("CARGO_BIN_EXE_") or k == "CARGO_TARGET_TMPDIR" else v
               for k, v in env.items()}
        out.append({"kind": "rustc", "args": args, "externs": [d.extern_name for d in u.deps],
                    "src": u.src_path, "env": dict(sorted(env.items()))})
    return out


def compare(ours: list[dict], theirs: list[dict]) -> str | None:
    """``None`` when both multisets are equal, else a readable description of the difference."""
    a = Counter(json.dumps(x, sort_keys=True) for x in ours)
    b = Counter(json.dumps(x, sort_keys=True) for x in theirs)
    if a == b:
        return None
    only_ours = list((a - b).elements())
    only_cargo = list((b - a).elements())
    lines = [f"{len(ours)} planned units vs {len(theirs)} cargo invocations"]
    for text in only_ours[:4]:
        mine = json.loads(text)
        lines.append("only in plan:  " + text)
        best = _closest(mine, [json.loads(t) for t in only_cargo])
        if best is not None:
            lines.append("closest cargo: " + json.dumps(best, sort_keys=True))
    for text in only_cargo[:4]:
        lines.append("only in cargo: " + text)
    return "\n".join(lines)


def _closest(unit: dict, pool: list[dict]) -> dict | None:
    def score(other: dict) -> int:
        s = 0
        for k in unit:
            if other.get(k) == unit[k]:
                s += 3
        if unit.get("env", {}).get("CARGO_PKG_NAME") == other.get("env", {}).get("CARGO_PKG_NAME"):
            s += 5
        return s
    return max(pool, key=score) if pool else None
