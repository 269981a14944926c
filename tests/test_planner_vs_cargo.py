"""Differential test of the planner against ``cargo build -vv`` / ``cargo test --no-run -vv``.

For fixture workspaces (the planner fixture: features, renames, platform tables, build and
dev dependencies, ``links`` metadata, lints, profiles with overrides/LTO/panic, crate
types, ``.cargo/config.toml`` rustflags and ``[env]``, ``RUSTFLAGS``; the Nix fixture;
the bundled example) and for hypothesis-generated path workspaces (``tests/wsgen.py``),
cargo really builds, and every rustc call and build-script run it makes is compared with
the planned unit: argument list in cargo's order, ``--extern`` names in order, crate root,
environment (see ``tests/cargo_verbose.py`` for what is normalised and why). The units of
one invocation are those the planner derived from that invocation's unit graph
(``trace``); cargo's ``test --no-run`` is run with ``--tests`` (no doctests/examples,
which the plan does not build).

Only the host can be compiled here, so generated command lines use no ``--target`` or
``--target x86_64-unknown-linux-gnu``; other targets are covered against cargo's unit
graph (``test_gen.py``) since the planner maps units one by one.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

import wsgen
from cargo_verbose import cargo_side, cargo_vv, compare, plan_side
from conftest import is_ci_profile
from nocargo_py.config import load_config
from nocargo_py.errors import NocargoError
from nocargo_py.planner import PlanOptions, plan_workspace
from nocargo_py.resolve.features import PackageSelection
from nocargo_py.resolve.graph import graph_from_path_workspace
from nocargo_py.shell import Shell
from nocargo_py.workspace import load_workspace

pytestmark = pytest.mark.slow


def event(text: str) -> None:
    """Hypothesis statistics (``--hypothesis-show-statistics``) when inside a given test."""
    if currently_in_test_context():
        _event(text)

REPO = Path(__file__).resolve().parent.parent
HOST = "x86_64-unknown-linux-gnu"


def our_plan(ws_dir: Path, *, features=(), packages=(), target: str | None = None,
             env: dict | None = None, all_features: bool = False,
             no_default_features: bool = False, trace: dict | None = None):
    ws = load_workspace(ws_dir / "Cargo.toml", ws_dir, Shell(verbosity=-1))
    graph = graph_from_path_workspace(ws)
    selection = (PackageSelection(packages=tuple(packages)) if packages
                 else PackageSelection(workspace=True))
    full_env = {k: v for k, v in os.environ.items() if k not in ("RUSTFLAGS",)
                and not k.startswith("CARGO_")}
    full_env.update(env or {})
    return plan_workspace(
        ws, graph, nix_file=ws_dir / "Cargo.nix", host=HOST,
        options=PlanOptions(selection=selection, features=tuple(features),
                            all_features=all_features, no_default_features=no_default_features,
                            targets=(target,)),
        config=load_config(ws_dir, env=full_env), env=full_env, trace=trace)


def check(ws_dir: Path, tmp: Path, *, test: bool, release: bool, features=(), packages=(),
          target: str | None = None, env: dict | None = None, all_features: bool = False,
          no_default_features: bool = False) -> None:
    args = ["test", "--no-run", "--tests"] if test else ["build"]
    if release:
        args.append("--release")
    if packages:
        for p in packages:
            args += ["-p", p]
    else:
        args.append("--workspace")
    if features:
        args += ["--features", " ".join(features)]
    if all_features:
        args.append("--all-features")
    if no_default_features:
        args.append("--no-default-features")
    if target:
        args += ["--target", target]
    run = cargo_vv(ws_dir, args, tmp / "target", env=env)
    for attempt in range(2):
        # cargo's own race, not ours to judge: two units of one cdylib/staticlib package (the
        # fixture's `ffi`, with and without LTO in a release test build) write the same
        # un-hashed `libffi.rlib` at once ("output filename collision", rust-lang/cargo#6313),
        # and now and then a binary links against the other one ("undefined symbol").
        # Built again from scratch, cargo's plan is the same; ours is compared with that.
        if run.error is None or "output filename collision" not in run.error \
                or "could not compile" not in run.error:
            break
        run = cargo_vv(ws_dir, args, tmp / f"target-again-{attempt}", env=env)
    trace: dict = {}
    try:
        plan = our_plan(ws_dir, features=features, packages=packages, target=target, env=env,
                        all_features=all_features, no_default_features=no_default_features,
                        trace=trace)
    except NocargoError as err:
        assert run.error is not None, f"we failed ({err}) where cargo succeeded"
        event("both rejected: " + re.sub(r"^\S*Cargo.toml:\d+:\d+, ", "", str(err).split("\n")[0])[:70])
        return
    if run.error is not None:
        if "panicked at" in run.error:
            # cargo's own bug (seen: `-p` of a path package outside the workspace that is
            # only a build-dependency panics in its feature resolver): no oracle here
            event("cargo panicked")
            return
        if "could not compile" in run.error or "failed to run custom build" in run.error:
            pytest.fail(f"fixture does not compile:\n{run.error[-3000:]}")
        pytest.fail(f"cargo failed where we planned:\n{run.error[-3000:]}")
    invocation = (plan.targets[0].triple, "release" if release else "dev",
                  "test" if test else "build")
    known = {ld.env_prefix for u in trace["units"].values() for ld in u.links_deps}
    ours = plan_side(trace, invocation, plan.env_paths)
    diff = compare(ours, cargo_side(run, known, env_paths=plan.env_paths))
    assert diff is None, f"cargo {' '.join(args)}:\n{diff}"
    event("compared")
    return len(ours)


@pytest.fixture(scope="module")
def planner_ws(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("planner-fixture")
    shutil.copytree(REPO / "tests" / "fixtures" / "planner", base, dirs_exist_ok=True)
    return base / "ws"


@pytest.mark.parametrize("test,release", [(False, False), (True, False), (False, True),
                                          (True, True)])
def test_planner_fixture_matches_cargo(planner_ws: Path, tmp_path: Path, test: bool,
                                       release: bool) -> None:
    check(planner_ws, tmp_path, test=test, release=release)


def test_planner_fixture_features_target_and_rustflags(planner_ws: Path, tmp_path: Path) -> None:
    # explicit --target: host units lose the rustflags, target units get --target
    check(planner_ws, tmp_path / "a", test=False, release=False, target=HOST,
          features=["cli/extras"])
    # RUSTFLAGS wins over the config's target/build rustflags (build scripts see it too)
    check(planner_ws, tmp_path / "b", test=True, release=False,
          env={"RUSTFLAGS": "--cfg from_env -C debug-assertions=off"}, packages=["core-lib"])
    # a configured linker: `-C linker=` for every unit, RUSTC_LINKER for build scripts
    check(planner_ws, tmp_path / "c", test=False, release=False,
          env={"CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "cc"}, packages=["ffi"])


def test_nix_fixture_matches_cargo(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "tests" / "fixtures" / "nixbuild" / "ws", ws)
    check(ws, tmp_path / "d", test=False, release=False)
    check(ws, tmp_path / "r", test=True, release=True)


def test_example_workspace_matches_cargo(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "examples" / "workspace", ws)
    check(ws, tmp_path / "t", test=True, release=False)


# -- generated workspaces -------------------------------------------------------------------

_PROBE_SCRIPT = 'fn main() { println!("cargo:probe=1"); }\n'


def _prepare(ws: wsgen.GenWorkspace, base: Path) -> Path:
    ws.write(base)
    root = base / "ws"
    # every build script prints one metadata line, so `links` routing is observable
    for crate in ws.crates:
        if getattr(crate, "lib_flags", {}).get("harness") is False and crate.lib:
            # a lib test without harness is a program: give it a main so it compiles
            lib_rs = base / crate.dir / "src" / "lib.rs"
            lib_rs.write_text(lib_rs.read_text() + "#[cfg(test)] fn main() {}\n")
        if crate.build_script:
            (base / crate.dir / getattr(crate, "build_path", "build.rs")).write_text(_PROBE_SCRIPT)
    return root


@settings(max_examples=60 if is_ci_profile() else 15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_workspaces_match_cargo(data, tmp_path_factory) -> None:
    gen = data.draw(wsgen.workspaces(max_crates=8))
    # `--cfg` only: with `+crt-static` and no --target, cargo cannot build proc-macros either
    inv = data.draw(wsgen.invocations(gen, rustflags=("--cfg nocargo_flag",)))
    base = tmp_path_factory.mktemp("gen")
    root = _prepare(gen, base)
    target = data.draw(st.sampled_from([None, None, HOST]))
    # unknown features are the unit-graph test's business; here we want builds
    features = [f for f in inv.features if not f.endswith("nonexistent")]
    check(root, base / "out", test=inv.tests, release=inv.profile == "release",
          features=features, packages=inv.packages, target=target,
          all_features=inv.all_features, no_default_features=inv.no_default_features,
          env={"RUSTFLAGS": inv.rustflags} if inv.rustflags is not None else None)


@pytest.mark.parametrize("target", [None, HOST])
def test_target_cfg_rustflags_reach_a_fixed_point(tmp_path: Path, target: str | None) -> None:
    # `target.'cfg(stage_one)'.rustflags` only matches once `target.<host>.rustflags` has
    # given `--cfg stage_one`: cargo asks rustc again with the flags found so far until
    # they settle, so `--cfg from_flags` is passed and `cfg(from_flags)` tables count,
    # the linker's too (matched against the final cfg set).
    shutil.copytree(REPO / "tests" / "fixtures" / "planner" / "cfgflags", tmp_path / "fixture")
    ws = tmp_path / "fixture" / "ws"
    (ws / ".cargo").mkdir()
    (ws / ".cargo" / "config.toml").write_text(
        f'[target.{HOST}]\nrustflags = ["--cfg", "stage_one"]\n'
        '[target.\'cfg(stage_one)\']\nrustflags = ["--cfg", "from_flags"]\n'
        '[target.\'cfg(from_flags)\']\nlinker = "cc"\n')
    assert check(ws, tmp_path / "out", test=False, release=False, target=target) > 0
    plan = our_plan(ws, target=target)
    names = {plan.packages[u.package].name for u in plan.units.values()}
    assert "flag-dep" in names and ("flag-build-dep" in names) == (target is None)
    assert all("linker=cc" in u.args for u in plan.units.values()
               if u.kind.value == "lib" and plan.packages[u.package].name == "flag-dep")
