"""Differential test: ``nocargo-py plan --unit-graph`` against cargo's ``--unit-graph``.

Hypothesis generates random path-only workspaces (:mod:`wsgen`) and command lines; for
each, ``RUSTC_BOOTSTRAP=1 cargo build --offline --unit-graph -Z unstable-options`` (or
``cargo test --no-run …`` for ``--tests``) and ``nocargo-py plan --unit-graph`` must print
the same JSON — every unit (target, profile, platform, mode, features), every dependency
(index and extern name) and the roots. When cargo rejects the input, nocargo-py must
reject it too (and vice versa).

The only latitude: cargo orders units that differ in nothing but their dependencies by a
pointer hash, so such runs of units may come in another order; then the graphs are
compared structurally (each unit with the full tree below it).

Example counts: 30 workspaces in the ``dev`` profile, 200 in ``ci`` (about 4 minutes on
two cores); each workspace is planned with 1–3 command lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import wsgen
from conftest import is_ci_profile
from nocargo_py import cli
from test_units import plan

pytestmark = pytest.mark.slow

#: where cargo (and nocargo-py) read rustflags from the environment
_RUSTFLAGS_VARS = ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS")
_ENV = {**os.environ, "RUSTC_BOOTSTRAP": "1", "CARGO_TERM_COLOR": "never"}
for _name in ("CARGO_BUILD_TARGET", "CARGO_INCREMENTAL", *_RUSTFLAGS_VARS):
    _ENV.pop(_name, None)


def cargo_unit_graph(base: Path, inv: wsgen.Invocation) -> dict | str:
    """cargo's unit graph JSON, or its error text."""
    cmd = ["cargo", "test", "--no-run"] if inv.tests else ["cargo", "build"]
    cmd += ["--offline", "--unit-graph", "-Z", "unstable-options", *inv.cargo_args()]
    env = _ENV if inv.rustflags is None else {**_ENV, "RUSTFLAGS": inv.rustflags}
    proc = subprocess.run(cmd, cwd=base, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return "cargo: " + proc.stderr
    return json.loads(proc.stdout)


@contextlib.contextmanager
def _cwd(path: Path, rustflags: str | None = None):
    """In ``path``, with ``RUSTFLAGS`` set to ``rustflags`` (unset for ``None``)."""
    old, old_env = os.getcwd(), {k: os.environ.get(k) for k in _RUSTFLAGS_VARS}
    os.chdir(path)
    for name in _RUSTFLAGS_VARS:
        os.environ.pop(name, None)
    if rustflags is not None:
        os.environ["RUSTFLAGS"] = rustflags
    try:
        yield
    finally:
        os.chdir(old)
        for name, value in old_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def nocargo_unit_graph(base: Path, inv: wsgen.Invocation) -> dict | str:
    """``nocargo-py plan --unit-graph`` (in-process, through the real CLI), or its error."""
    args = ["plan", "--unit-graph", "--host", "x86_64-unknown-linux-gnu", *inv.cargo_args()]
    if inv.tests:
        args.append("--tests")
    out, err = io.StringIO(), io.StringIO()
    with _cwd(base, inv.rustflags), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(args)
        except SystemExit as exc:  # argparse
            code = exc.code
    if code != 0:
        return f"nocargo-py (exit {code}): " + err.getvalue()
    return json.loads(out.getvalue())


def _shallow(unit: dict) -> str:
    return json.dumps({k: v for k, v in unit.items() if k != "dependencies"}, sort_keys=True)


def _deep(units: list[dict]) -> list[str]:
    """Per unit, a hash of the unit and everything below it (dependency order kept)."""
    import hashlib

    memo: dict[int, str] = {}

    def sig(i: int) -> str:
        if i not in memo:
            deps = [(d["extern_crate_name"], d["public"], d["noprelude"], sig(d["index"]))
                    for d in units[i]["dependencies"]]
            memo[i] = hashlib.sha256(json.dumps([_shallow(units[i]), deps]).encode()).hexdigest()
        return memo[i]

    return [sig(i) for i in range(len(units))]


def equivalent(ours: dict, theirs: dict) -> bool:
    """Equal, or equal up to the order of units that differ only in their dependencies."""
    if ours == theirs:
        return True
    a, b = ours["units"], theirs["units"]
    if len(a) != len(b) or [_shallow(u) for u in a] != [_shallow(u) for u in b]:
        return False
    da, db = _deep(a), _deep(b)
    # within each run of identical shallow units the deep signatures must be a permutation
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and _shallow(a[j + 1]) == _shallow(a[i]):
            j += 1
        if sorted(da[i:j + 1]) != sorted(db[i:j + 1]):
            return False
        i = j + 1
    return [da[r] for r in ours["roots"]] == [db[r] for r in theirs["roots"]]


def first_difference(ours: dict, theirs: dict) -> str:
    lines = []
    a, b = ours["units"], theirs["units"]
    if len(a) != len(b):
        lines.append(f"unit count: nocargo {len(a)}, cargo {len(b)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            lines.append(f"first differing unit: #{i}")
            for key in sorted(set(x) | set(y)):
                if x.get(key) != y.get(key):
                    lines.append(f"  {key}:\n    nocargo {json.dumps(x.get(key))}\n"
                                 f"    cargo   {json.dumps(y.get(key))}")
            break
    if ours["roots"] != theirs["roots"]:
        lines.append(f"roots: nocargo {ours['roots']}, cargo {theirs['roots']}")
    return "\n".join(lines)


def _first_error(text: str, base: Path) -> str:
    """The first ``error:`` line, with the temporary directory replaced.

    Where cargo picks one of several offenders from a hash map (``dep/feat`` naming
    missing dependencies), the name is replaced too: cargo's choice is not deterministic.
    """
    import re

    for line in text.splitlines():
        line = line.split(": ", 1)[1] if line.startswith(("cargo: ", "nocargo-py (")) else line
        if line.startswith("error:"):
            line = re.sub(r"(does not have a dependency named )`[^`]*`", r"\1`…`", line)
            return line.replace(str(base), "$BASE")
    return text


def _keep(base: Path, inv: wsgen.Invocation) -> str:
    """With NOCARGO_KEEP_FAILURES=DIR, copy a failing workspace there (for debugging)."""
    keep = os.environ.get("NOCARGO_KEEP_FAILURES")
    if not keep:
        return ""
    dest = Path(keep) / base.name
    shutil.copytree(base, dest, dirs_exist_ok=True)
    (dest / "COMMAND").write_text(
        (f"RUSTFLAGS='{inv.rustflags}' " if inv.rustflags is not None else "")
        + f"{'test --no-run' if inv.tests else 'build'} {' '.join(inv.cargo_args())}\n")
    return f"\n(kept in {dest})"


def check(base: Path, inv: wsgen.Invocation) -> None:
    theirs = cargo_unit_graph(base, inv)
    ours = nocargo_unit_graph(base, inv)
    note(f"command: RUSTFLAGS={inv.rustflags!r} {'test --no-run' if inv.tests else 'build'} "
         f"{' '.join(inv.cargo_args())}")
    if isinstance(theirs, str) and "panicked at" in theirs:
        # cargo's own bug (seen: "did not find features for … within activated_features",
        # features.rs): no oracle here. Ours must still answer or fail cleanly.
        assert isinstance(ours, dict) or not any(
            bad in ours for bad in ("Traceback", "internal error")), ours
        event("cargo panicked")
        return
    if isinstance(theirs, str) or isinstance(ours, str):
        if isinstance(theirs, str) and isinstance(ours, str):
            # both reject the input: with the same message
            assert _first_error(ours, base) == _first_error(theirs, base), (
                f"different errors:\n{ours}\n{theirs}" + _keep(base, inv))
            return
        raise AssertionError(
            "only one tool failed:\n" + (theirs if isinstance(theirs, str) else ours)
            + _keep(base, inv))
    if not equivalent(ours, theirs):
        # cargo's own answer can vary from run to run: which of two library units that
        # differ only in a deferred/resolved `strip` a dependent links (its second pass
        # walks a HashMap; seen live, 3 of 6 runs each way). Ours must be one of cargo's.
        for _ in range(6):
            again = cargo_unit_graph(base, inv)
            if not isinstance(again, str) and equivalent(ours, again):
                event("cargo's unit graph varied between runs; ours is one of its answers")
                return
        raise AssertionError(first_difference(ours, theirs) + _keep(base, inv))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          deadline=None, max_examples=200 if is_ci_profile() else 30)
@given(st.data())
def test_unit_graph_matches_cargo(data):
    ws = data.draw(wsgen.workspaces(), label="workspace")
    invs = data.draw(st.lists(wsgen.invocations(ws, rustflags=wsgen.RUSTFLAGS), min_size=1,
                              max_size=3), label="commands")
    with tempfile.TemporaryDirectory(prefix="nocargo-ug-") as tmp:
        base = Path(tmp).resolve()
        ws.write(base)
        for inv in invs:
            check(base, inv)


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _fixture_matches_cargo(tmp_path: Path, monkeypatch, env: dict[str, str],
                           args: list[str], mode: str = "build") -> None:
    """``plan --unit-graph`` of the ``cfgflags`` fixture equals cargo's under ``env``."""
    shutil.copytree(FIXTURES / "planner" / "cfgflags", tmp_path / "fixture")
    root = (tmp_path / "fixture" / "ws").resolve()
    cmd = ["cargo", "test", "--no-run"] if mode == "test" else ["cargo", "build"]
    proc = subprocess.run([*cmd, "--offline", "--unit-graph", "-Z", "unstable-options", *args],
                          cwd=root, env={**_ENV, **env}, capture_output=True, text=True,
                          check=True)
    theirs = json.loads(proc.stdout.replace(str(root), "$ROOT"))
    for name in _RUSTFLAGS_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ours = plan(root, mode, args)
    assert "error" not in ours, ours.get("error")
    assert equivalent(ours, theirs), first_difference(ours, theirs)


@pytest.mark.parametrize("target", [None, "x86_64-unknown-linux-gnu"])
@pytest.mark.parametrize("rustflags", [None, "--cfg from_flags",
                                       "-C target-feature=+crt-static --cfg from_flags"])
def test_rustflags_decide_platform_tables(tmp_path: Path, monkeypatch, rustflags: str | None,
                                          target: str | None) -> None:
    """``[target.'cfg(..)']`` tables are evaluated per compile kind with that kind's
    rustflags, as cargo does (the fixture's comment says how); ``plan --unit-graph``
    used the cfg sets without rustflags before."""
    _fixture_matches_cargo(tmp_path, monkeypatch, {"RUSTFLAGS": rustflags} if rustflags else {},
                           ["--target", target] if target else [])


@pytest.mark.parametrize("env, args", [
    ({"CARGO_PROFILE_RELEASE_OPT_LEVEL": "1", "CARGO_PROFILE_RELEASE_LTO": "thin",
      "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "4", "CARGO_PROFILE_RELEASE_STRIP": "false"},
     ["--release"]),
    ({"CARGO_PROFILE_DEV_DEBUG": "line-tables-only", "CARGO_PROFILE_DEV_OPT_LEVEL": "s",
      "CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL": "2",
      "CARGO_PROFILE_DEV_BUILD_OVERRIDE_DEBUG": "true"}, []),
    # a profile defined by variables alone, and `package` tables (not reachable by a
    # variable on stable cargo: ignored)
    ({"CARGO_PROFILE_FAST_INHERITS": "release", "CARGO_PROFILE_FAST_PANIC": "abort",
      "CARGO_PROFILE_FAST_PACKAGE_APP_OPT_LEVEL": "0"}, ["--profile", "fast"]),
    ({"CARGO_PROFILE_TEST_OVERFLOW_CHECKS": "false", "CARGO_PROFILE_DEV_INCREMENTAL": "false"},
     ["test"]),
])
def test_profile_variables_match_cargo(tmp_path: Path, monkeypatch, env: dict[str, str],
                                       args: list[str]) -> None:
    """``CARGO_PROFILE_<NAME>_<KEY>`` set profile keys as the config files do (they were
    ignored)."""
    mode = "test" if args == ["test"] else "build"
    _fixture_matches_cargo(tmp_path, monkeypatch, env, [] if mode == "test" else args, mode)
