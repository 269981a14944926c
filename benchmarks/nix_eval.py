#!/usr/bin/env python3
"""Benchmark: evaluating/instantiating a rendered Cargo.nix vs a flat set of derivations.

Synthetic plans of 500, 2,000 (300 members) and 10,000 units are rendered (the members
are path packages, written next to the file) and every unit is instantiated
(`nix-instantiate` to .drv files, in a temporary store via `--store`); the baseline is a
flat attribute set of the same number of trivial `derivation`s. Prints seconds and ratios. The promise (issue 7): 2,000 units <= 2 s and <= 2x flat.

    python3 benchmarks/nix_eval.py [--sizes 500,2000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nocargo_py.plan import (  # noqa: E402
    DepEdge, Graph, PackagePlan, PathSource, Plan, RegistrySource, TargetPlan, Unit, UnitKind,
    Uplift,
)
from nocargo_py.render import render_cargo_nix  # noqa: E402

HOST = "x86_64-unknown-linux-gnu"
# What a real build-script run gets from `rustc --print cfg` (x86_64 Linux, 1.95).
CFG_ENV = {
    "CARGO_CFG_PANIC": "unwind", "CARGO_CFG_TARGET_ABI": "", "CARGO_CFG_TARGET_ARCH": "x86_64",
    "CARGO_CFG_TARGET_ENDIAN": "little", "CARGO_CFG_TARGET_ENV": "gnu",
    "CARGO_CFG_TARGET_FAMILY": "unix", "CARGO_CFG_TARGET_FEATURE": "fxsr,sse,sse2,x87",
    "CARGO_CFG_TARGET_HAS_ATOMIC": "16,32,64,8,ptr", "CARGO_CFG_TARGET_OS": "linux",
    "CARGO_CFG_TARGET_POINTER_WIDTH": "64", "CARGO_CFG_TARGET_VENDOR": "unknown",
    "CARGO_CFG_UNIX": "", "CARGO_CFG_FEATURE": "default,std",
    "CARGO_FEATURE_DEFAULT": "1", "CARGO_FEATURE_STD": "1",
}


def synthetic_plan(n_units: int, n_members: int, seed: int = 1) -> Plan:
    """Libraries with 0-6 deps on earlier ones (biased towards the first, low-level crates,
    which keeps closures at realistic sizes), every 8th with a build script, plus workspace
    members: path packages under ``members/`` (:func:`write_members` creates them), a bin
    with 8 deps each."""
    rng = random.Random(seed)
    units: dict[str, Unit] = {}
    packages: dict[str, PackagePlan] = {}
    libs: list[str] = []
    closures: dict[str, tuple[str, ...]] = {}
    runs: dict[str, str] = {}
    n_libs = n_units - n_members
    i = 0
    while len(units) < n_libs:
        name = f"crate{i}"
        key = f"{name}-1.{i % 7}.0"
        sha = hashlib.sha256(key.encode()).hexdigest()
        version = f"1.{i % 7}.0"
        pkg_env = {"CARGO_PKG_NAME": name, "CARGO_PKG_VERSION": version, "CARGO_PKG_VERSION_MAJOR": "1",
                   "CARGO_PKG_VERSION_MINOR": str(i % 7), "CARGO_PKG_VERSION_PATCH": "0",
                   "CARGO_PKG_VERSION_PRE": "", "CARGO_PKG_AUTHORS": "Some One <one@example.com>",
                   "CARGO_PKG_DESCRIPTION": "A synthetic crate for the benchmark",
                   "CARGO_PKG_HOMEPAGE": "", "CARGO_PKG_REPOSITORY": f"https://example.com/{name}",
                   "CARGO_PKG_LICENSE": "MIT OR Apache-2.0", "CARGO_PKG_LICENSE_FILE": "",
                   "CARGO_PKG_RUST_VERSION": "1.70", "CARGO_PKG_README": "README.md"}
        env = {"CARGO_CRATE_NAME": name}
        packages[key] = PackagePlan(name, version,
                                    RegistrySource(f"https://static.crates.io/crates/{name}/{key}.crate", sha),
                                    root=key, env=pkg_env)
        bsr = None
        if i % 8 == 0 and len(units) + 3 <= n_libs:
            bs, bsr = f"{key}-bs", f"{key}-run"
            units[bs] = Unit(id=bs, package=key, kind=UnitKind.BUILD_SCRIPT_COMPILE,
                             crate_name="build_script_build", target_name="build-script-build",
                             src_path="build.rs", host=True,
                             args=("--crate-name", "build_script_build", "--edition=2021"),
                             env=env, uplift=(Uplift("bs", "bin/build-script-build"),),
                             executable="bin/build-script-build")
            units[bsr] = Unit(id=bsr, package=key, kind=UnitKind.BUILD_SCRIPT_RUN,
                              crate_name="build_script_build", target_name="build-script-build",
                              build_script=bs, env={**CFG_ENV, "TARGET": HOST, "HOST": HOST,
                                                     "OPT_LEVEL": "3", "DEBUG": "false",
                                                     "PROFILE": "release", "NUM_JOBS": "1"})
            runs[key] = bsr
        # Popular low-level crates (early, small closures) are picked far more often.
        deps = sorted({libs[int(len(libs) * rng.random() ** 4)] for _ in range(rng.randint(0, 6))} if libs else set())
        closure = set(deps)
        for d in deps:
            closure.update(closures[d])
        uid = f"{key}-lib"
        units[uid] = Unit(
            id=uid, package=key, kind=UnitKind.LIB, crate_name=name, target_name=name,
            src_path="src/lib.rs", crate_types=("lib",),
            args=("--crate-name", name, "--edition=2021", "--crate-type", "lib",
                  "--emit=dep-info,metadata,link", "-C", "opt-level=3", "-C", f"metadata={sha[:16]}",
                  "-C", f"extra-filename=-{sha[16:32]}", "--cap-lints", "allow"),
            env=env, deps=tuple(DepEdge(d, units[d].crate_name) for d in deps),
            dependency_closure=tuple(sorted(closure)), build_script_run=bsr,
            link_search_from=(bsr,) if bsr else (), link_libs=True,
            extern_file=f"lib{name}-{sha[16:32]}.rlib")
        closures[uid] = tuple(sorted(closure))
        libs.append(uid)
        i += 1
    members = {}
    for m in range(n_members):
        name = f"member{m}"
        key = f"{name}-0.1.0"
        packages[key] = PackagePlan(name, "0.1.0", PathSource(f"members/{name}"), root="")
        deps = sorted({libs[int(len(libs) * rng.random() ** 2)] for _ in range(8)})
        closure = set(deps)
        for d in deps:
            closure.update(closures[d])
        uid = f"{name}-bin"
        units[uid] = Unit(id=uid, package=key, kind=UnitKind.BIN, crate_name=name, target_name=name,
                          src_path="src/main.rs", args=("--crate-name", name, "--crate-type", "bin"),
                          env={"CARGO_CRATE_NAME": name, "CARGO_BIN_NAME": name},
                          deps=tuple(DepEdge(d, units[d].crate_name) for d in deps),
                          dependency_closure=tuple(sorted(closure)),
                          uplift=(Uplift(name, f"bin/{name}"),), executable=f"bin/{name}")
        members[name] = (uid,)
    graph = Graph(units=tuple(sorted(units)), members=members, root=None)
    return Plan(host=HOST, targets=(TargetPlan(HOST, graph, graph),), packages=packages, units=units)


def write_members(plan: Plan, directory: Path) -> None:
    """Create the path packages of ``plan`` (its workspace members) under ``directory``,
    next to its ``Cargo.nix``: a manifest and a ``src/main.rs`` each."""
    for pkg in plan.packages.values():
        if isinstance(pkg.source, PathSource):
            src = directory / pkg.source.path / "src"
            src.mkdir(parents=True, exist_ok=True)
            (src.parent / "Cargo.toml").write_text(
                f'[package]\nname = "{pkg.name}"\nversion = "{pkg.version}"\nedition = "2021"\n')
            (src / "main.rs").write_text("fn main() {}\n")


def flat_nix(n: int) -> str:
    return ("let mk = i: derivation { name = \"flat-${toString i}\"; system = builtins.currentSystem; "
            "builder = \"/bin/sh\"; args = [ \"-c\" \"echo ${toString i} > $out\" ]; }; in "
            f"builtins.genList mk {n}\n")


def instantiate(expr_file: Path, store: Path, expr: str | None = None) -> float:
    cmd = ["nix-instantiate", "--store", str(store), "--option", "build-users-group", ""]
    cmd += ["-E", expr] if expr else [str(expr_file)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=expr_file.parent)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"nix-instantiate failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,2000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    members_for = {500: 50, 2000: 300, 10000: 1000}
    print(f"{'units':>6} {'closure':>7} {'render s':>9} {'Cargo.nix MB':>12} {'plan s':>8} "
          f"{'flat s':>8} {'ratio':>6}")
    for n in (int(s) for s in args.sizes.split(",")):
        plan = synthetic_plan(n, members_for.get(n, max(1, n // 10)))
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            t0 = time.perf_counter()
            text = render_cargo_nix(plan)
            render_s = time.perf_counter() - t0
            (d / "Cargo.nix").write_text(text)
            write_members(plan, d)
            (d / "flat.nix").write_text(flat_nix(len(plan.units)))
            store = d / "store"
            everything = (f"let c = import {d}/Cargo.nix {{ pkgs = import {REPO}/nix/host-pkgs.nix {{ }}; }}; "
                          "in builtins.attrValues c.units")
            # Warm-up writes the host-pkgs and script .drvs/files once; then take the best of N.
            instantiate(d / "Cargo.nix", store, everything)
            plan_s = min(instantiate(d / "Cargo.nix", store, everything) for _ in range(args.repeat))
            instantiate(d / "flat.nix", store)
            flat_s = min(instantiate(d / "flat.nix", store) for _ in range(args.repeat))
            mean = sum(len(u.dependency_closure) for u in plan.units.values()) / len(plan.units)
            print(f"{len(plan.units):>6} {mean:>7.0f} {render_s:>9.2f} {len(text) / 1e6:>12.1f} {plan_s:>8.2f} "
                  f"{flat_s:>8.2f} {plan_s / flat_s:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
