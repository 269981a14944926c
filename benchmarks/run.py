#!/usr/bin/env python3
"""nocargo-py's speed, side by side with cargo: the one benchmark entry point (issue 7).

    python3 benchmarks/run.py                       # every section, default sizes
    python3 benchmarks/run.py gen eval --runs 3     # some sections only
    python3 benchmarks/run.py --quick               # fewer runs/sizes, no network, no build

Sections (each prints its own table; a summary of the goals comes last):

``gen``      ``nocargo-py gen`` on every ``../shared/corpus`` project (scratch copies), warm
             (``--offline``, cache filled by the cold run) and cold (empty cache, crates.io:
             index files and ``.crate`` downloads), next to ``cargo metadata --format-version
             1`` (warm: ``--offline`` after ``cargo fetch``; cold: empty ``CARGO_HOME``).
             Median of ``--runs`` (cold: ``--cold-runs``), runs of both tools interleaved.
``lock``     ``benchmarks/lock.py``: ``nocargo-py lock`` from scratch vs ``cargo
             generate-lockfile`` against the same index data (loopback sparse registry).
``eval``     ``nix-instantiate`` of every unit of the generated file of the biggest corpus
             project, and of synthetic plans (``benchmarks/nix_eval.py``: 500, 2,000 with 300
             members as path packages, 10,000 units), next to the floor: a flat set of as many trivial
             derivations. Seconds, ratio to the floor, microseconds per unit (linear growth
             keeps it flat).
``build``    a clean release build of a real corpus project (the published ``.crate`` and its
             ``Cargo.lock``, via ``tests/realworld.py``) with our Nix (``nix-build -j2``) vs
             ``cargo build --release -j2`` (same rustc); no-op rebuild; rebuild after an edit
             of the (leaf) workspace member.
``profile``  ``gen`` of the biggest project in-process: time per phase, then cProfile's top
             functions (own time and cumulative).

Wall-clock times on a shared machine drift; ratios taken in the same run hold, and every ratio
here compares figures measured side by side. CPU seconds (user+sys of the process tree) are
shown too: they are much less sensitive to other load.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"
#: host-pkgs.nix's default ``path`` (where it finds the host's tools).
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
for p in (str(REPO), str(BENCH), str(REPO / "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

SECTIONS = ("gen", "lock", "eval", "build", "profile")
#: The biggest corpus project (most packages in its Cargo.lock).
BIGGEST = "cargo"

# The goals of issue 7.
GOAL_GEN = 1.0          # gen (warm) <= 1.0x cargo metadata
GOAL_EVAL_S = 2.0       # 2,000 units instantiate in <= 2 s ...
GOAL_EVAL_RATIO = 2.0   # ... and <= 2x the flat floor
GOAL_BUILD = 1.1        # clean build <= 1.1x cargo


# -- measuring ---------------------------------------------------------------------------------

@dataclass
class Sample:
    """Wall and CPU seconds of repeated runs of one thing."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def w(self) -> float:
        return statistics.median(self.wall) if self.wall else float("nan")

    @property
    def c(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_timed(cmd: Sequence[str], sample: Sample, *, cwd: Path | None = None,
              env: dict[str, str] | None = None, check: bool = True,
              timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ``cmd`` once, adding its wall and CPU time to ``sample``."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    sample.wall.append(time.perf_counter() - t0)
    sample.cpu.append(_children_cpu() - cpu0)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` failed ({proc.returncode}) in {cwd}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def interleaved(runs: int, *jobs: Callable[[], None]) -> None:
    """Run each job ``runs`` times, alternating between them (drift hits all alike)."""
    for _ in range(runs):
        for job in jobs:
            job()


def ratio(a: float, b: float) -> float:
    return a / b if b and b == b else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (numbers already formatted by the caller)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))) + " |"
    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def fmt(x: float, digits: int = 2) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


@contextlib.contextmanager
def reported(name: str, summary: list[list[str]]) -> Iterator[None]:
    """Run one section: a failure is printed and noted in the summary, and the other
    sections still run."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - report, go on with the others
        print(f"\n**section `{name}` failed**: {type(exc).__name__}: {exc}")
        summary.append([f"section `{name}`", "failed", "-"])


@contextlib.contextmanager
def scratch(prefix: str, keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


def copy_project(name: str, dest: Path) -> Path:
    """A writable scratch copy of a corpus project (never written inside the corpus)."""
    root = dest / name
    shutil.copytree(CORPUS / name, root)
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)
    return root.resolve()


#: Compiled bytecode for our runs, outside the checkout (set by main()).
PYCACHE: Path | None = None


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("CARGO_") or k.startswith("NOCARGO_PY_")
                   or k in {"RUSTFLAGS", "RUSTC", "RUSTC_WRAPPER", "PYTHONDONTWRITEBYTECODE"})}
    env["RUSTUP_TOOLCHAIN"] = "stable"   # helix pins 1.90; only 1.95 is installed
    env["PYTHONPATH"] = str(REPO)
    # Like an installed package (pip compiles it), our runs use compiled bytecode: with
    # PYTHONDONTWRITEBYTECODE every process would compile each module from source again.
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["CARGO_TERM_COLOR"] = "never"
    return env


OURS = [sys.executable, "-m", "nocargo_py", "-q"]


# -- gen ---------------------------------------------------------------------------------------

@dataclass
class GenRow:
    project: str
    packages: int
    mbytes: float
    cargo_warm: Sample
    ours_warm: Sample
    cargo_cold: Sample
    ours_cold: Sample
    same: bool
    ours_online: Sample  # plain `gen` (not --offline) with the warm cache: the default
    startup: Sample  # interpreter + importing what this gen imported, nothing run
    interpreter: Sample  # `python -c pass`: the interpreter and this machine's site hooks


_IMPORTS_CODE = """
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
"""


def _imported_modules(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The modules a run of ``cmd`` (``python -m …``) imports, in order (``-X importtime``)."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)
    names = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package" and name not in names:
                names.append(name)
    return names


def bench_gen(projects: Sequence[str], runs: int, cold_runs: int, network: bool,
              work: Path) -> list[GenRow]:
    rows: list[GenRow] = []
    env = base_env()
    for name in projects:
        root = copy_project(name, work)
        cache = work / f"cache-{name}"
        ours_env = {**env, "NOCARGO_PY_CACHE_DIR": str(cache)}
        cargo_warm, ours_warm = Sample(), Sample()
        cargo_cold, ours_cold = Sample(), Sample()
        warm_cmd = [*OURS, "--offline", "gen"]
        if network:
            # cold: empty caches, crates.io (index files + every .crate), one tool after the other
            for i in range(cold_runs):
                shutil.rmtree(cache, ignore_errors=True)
                (root / "Cargo.nix").unlink(missing_ok=True)
                run_timed([*OURS, "gen"], ours_cold, cwd=root, env=ours_env)
                home = work / f"cargo-home-{name}-{i}"
                run_timed(["cargo", "metadata", "--format-version", "1"], cargo_cold, cwd=root,
                          env={**env, "CARGO_HOME": str(home)})
                shutil.rmtree(home, ignore_errors=True)
            subprocess.run(["cargo", "fetch"], cwd=root, env=env, capture_output=True, check=True)
        else:
            # no network: index data and crate facts from registry-cache/ (vendored)
            warm_cmd = [*OURS, "--offline", "--index-dir", str(REPO / "registry-cache"), "gen"]
            run_timed(warm_cmd, Sample(), cwd=root, env=ours_env)
        first = (root / "Cargo.nix").read_text()
        startup, interpreter, ours_online = Sample(), Sample(), Sample()
        imports_cmd = [sys.executable, "-c", _IMPORTS_CODE,
                       *_imported_modules(warm_cmd, root, ours_env)]
        online: list[Callable[[], None]] = []
        if network:  # what a user runs; with a warm cache it must not need the network
            online.append(lambda: run_timed([*OURS, "gen"], ours_online, cwd=root,
                                            env=ours_env))
        interleaved(
            runs,
            lambda: run_timed(warm_cmd, ours_warm, cwd=root, env=ours_env),
            *online,
            lambda: run_timed(["cargo", "metadata", "--offline", "--format-version", "1"],
                              cargo_warm, cwd=root, env=env),
            lambda: run_timed(imports_cmd, startup, cwd=root, env=ours_env),
            lambda: run_timed([sys.executable, "-c", "pass"], interpreter, cwd=root,
                              env=ours_env),
        )
        text = (root / "Cargo.nix").read_text()
        lock = (root / "Cargo.lock").read_text()
        rows.append(GenRow(name, lock.count("[[package]]"), len(text.encode()) / 1e6,
                           cargo_warm, ours_warm, cargo_cold, ours_cold, text == first,
                           ours_online, startup, interpreter))
        print(f"  {name}: ours {ours_warm.w:.2f} s, cargo {cargo_warm.w:.2f} s", flush=True)
    return rows


def print_gen(rows: list[GenRow], runs: int, cold_runs: int) -> None:
    print(table(
        ["project", "pkgs", "Cargo.nix MB", "cargo warm s", "ours warm s", "ratio", "cpu ratio",
         "ours online s", "online ratio",
         "start-up s", "start-up ratio", "interpreter s", "cargo cold s", "ours cold s", "cold ratio", "same"],
        [[r.project, r.packages, fmt(r.mbytes, 1), fmt(r.cargo_warm.w), fmt(r.ours_warm.w),
          fmt(ratio(r.ours_warm.w, r.cargo_warm.w)), fmt(ratio(r.ours_warm.c, r.cargo_warm.c)),
          fmt(r.ours_online.w), fmt(ratio(r.ours_online.w, r.cargo_warm.w)),
          fmt(r.startup.w), fmt(ratio(r.startup.w, r.cargo_warm.w)), fmt(r.interpreter.w),
          fmt(r.cargo_cold.w), fmt(r.ours_cold.w), fmt(ratio(r.ours_cold.w, r.cargo_cold.w)),
          "yes" if r.same else "NO"] for r in rows]))
    print(f"\nwarm: `nocargo-py --offline gen` vs `cargo metadata --offline --format-version 1` "
          f"(median of {runs}, interleaved); cold: empty caches against crates.io (median of "
          f"{cold_runs}); ratio = ours/cargo (wall), cpu ratio = same with user+sys CPU "
          "seconds; ours online = plain `gen` (no --offline, as a user runs it) with the same "
          "warm cache, online ratio = that / cargo's warm run; "
          "same = the warm runs wrote what the first run wrote; start-up = the "
          "interpreter importing exactly the modules that warm run imported and doing nothing "
          "else (the part of `gen` no planning work can remove), start-up ratio = that / cargo; "
          "interpreter = `python -c pass` (the interpreter with this machine's site-packages "
          "hooks, before any of our code: part of start-up).")


# -- lock --------------------------------------------------------------------------------------

def bench_lock(runs: int) -> list[list[str]]:
    """Run ``benchmarks/lock.py`` and return its table rows (split into cells)."""
    proc = subprocess.run([sys.executable, str(BENCH / "lock.py"), "--runs", str(runs)],
                          capture_output=True, text=True, env=base_env(), timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmarks/lock.py failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return [ln.split() for ln in lines[1:] if not ln.startswith("(")]


def print_lock(rows: list[list[str]], runs: int) -> None:
    print(table(["project", "pkgs", "cargo gen ms", "ours gen ms", "ratio", "cargo noop ms",
                 "ours noop ms", "ratio", "ours offline ms", "ratio", "same"], rows))
    print(f"\n`nocargo-py lock --from-scratch` vs `cargo generate-lockfile`, both against "
          f"registry-cache/ served on 127.0.0.1 (warm caches); noop: an up-to-date lock "
          f"(`cargo update --workspace`); median of {runs} (benchmarks/lock.py).")


# -- eval --------------------------------------------------------------------------------------

@dataclass
class EvalRow:
    what: str
    units: int
    derivations: int
    mbytes: float
    ours: Sample
    flat: Sample
    flat_drvs: Sample


def _instantiate(args: Sequence[str], store: Path, cwd: Path, sample: Sample) -> str:
    cmd = ["nix-instantiate", "--store", str(store), "--option", "build-users-group", "",
           *args]
    return run_timed(cmd, sample, cwd=cwd).stdout


def _flat(n: int, d: Path) -> Path:
    from nix_eval import flat_nix

    path = d / f"flat-{n}.nix"
    path.write_text(flat_nix(n))
    return path


#: ``pkgs`` for evaluation: host-pkgs.nix plus stand-ins for the nixpkgs packages the
#: built-in overrides (nix/overrides.nix) name, so a plan with e.g. curl-sys instantiates.
STUB_PKGS = (
    f"(let h = import {HOST_PKGS} {{ }}; "
    "stub = n: let d = derivation { name = \"stub-${n}\"; system = builtins.currentSystem; "
    "builder = \"/bin/sh\"; args = [ \"-c\" \"mkdir $out\" ]; }; "
    "in d // { dev = d; out = d; lib = d; }; "
    "in h // builtins.listToAttrs (map (n: { name = n; value = stub n; }) [ \"openssl\" "
    "\"zlib\" \"libgit2\" \"libssh2\" \"curl\" \"sqlite\" \"pcre2\" \"oniguruma\" "
    "\"zstd\" \"systemd\" \"dbus\" \"alsa-lib\" \"bzip2\" \"xz\" \"protobuf\" "
    "\"pkg-config\" ]))"
)


def _eval_pair(what: str, cargo_nix: Path, n_units: int, runs: int, d: Path) -> EvalRow:
    store = d / "store"
    everything = (f"let c = import {cargo_nix} {{ pkgs = {STUB_PKGS}; }}; "
                  "in builtins.attrValues c.units")
    flat = _flat(n_units, d)
    # Warm-up (writes the host-pkgs and script files and every .drv once), then the timed runs:
    # instantiating again still evaluates everything and checks every .drv in the store.
    drvs = _instantiate(["-E", everything], store, d, Sample()).split()
    n_drv = _count_derivations(store, drvs)
    flat_n = _flat(n_drv, d)   # as many trivial derivations as we instantiate
    _instantiate([str(flat)], store, d, Sample())
    _instantiate([str(flat_n)], store, d, Sample())
    ours, floor, floor_n = Sample(), Sample(), Sample()
    interleaved(runs, lambda: _instantiate(["-E", everything], store, d, ours),
                lambda: _instantiate([str(flat)], store, d, floor),
                lambda: _instantiate([str(flat_n)], store, d, floor_n))
    return EvalRow(what, n_units, n_drv, cargo_nix.stat().st_size / 1e6, ours, floor, floor_n)


def _count_derivations(store: Path, drvs: list[str]) -> int:
    """Derivations instantiated for the units (their closure, without host-pkgs' own)."""
    proc = subprocess.run(["nix-store", "--store", str(store), "-q", "--requisites", *drvs],
                          capture_output=True, text=True)
    return sum(1 for p in proc.stdout.split() if p.endswith(".drv"))


def bench_eval(sizes: Sequence[int], runs: int, corpus_nix: Path | None, corpus_units: int,
               work: Path) -> list[EvalRow]:
    from nix_eval import synthetic_plan, write_members
    from nocargo_py.render import render_cargo_nix

    members_for = {500: 50, 2000: 300, 10000: 1000}
    rows: list[EvalRow] = []
    if corpus_nix is not None:
        d = work / "eval-corpus"
        d.mkdir()
        rows.append(_eval_pair(f"corpus `{BIGGEST}`", corpus_nix, corpus_units, runs, d))
        print(f"  corpus: {rows[-1].ours.w:.2f} s", flush=True)
    for n in sizes:
        d = work / f"eval-{n}"
        d.mkdir()
        plan = synthetic_plan(n, members_for.get(n, max(1, n // 10)))
        (d / "Cargo.nix").write_text(render_cargo_nix(plan))
        write_members(plan, d)
        rows.append(_eval_pair(f"synthetic {n}", d / "Cargo.nix", len(plan.units), runs, d))
        print(f"  {n}: {rows[-1].ours.w:.2f} s", flush=True)
    return rows


def print_eval(rows: list[EvalRow], runs: int) -> None:
    print(table(
        ["plan", "units", "drvs", "Cargo.nix MB", "ours s", "floor s", "ratio", "cpu ratio",
         "µs/unit", "floor µs/unit", "floor(drvs) s", "ratio(drvs)"],
        [[r.what, r.units, r.derivations, fmt(r.mbytes, 1), fmt(r.ours.w), fmt(r.flat.w),
          fmt(ratio(r.ours.w, r.flat.w)), fmt(ratio(r.ours.c, r.flat.c)),
          fmt(r.ours.w / r.units * 1e6, 0), fmt(r.flat.w / r.units * 1e6, 0),
          fmt(r.flat_drvs.w), fmt(ratio(r.ours.w, r.flat_drvs.w))] for r in rows]))
    synth = [r for r in rows if r.what.startswith("synthetic")]
    if len(synth) >= 2:
        a, b = synth[0], synth[-1]
        growth = (b.ours.w / b.units) / (a.ours.w / a.units)
        print(f"\ngrowth: per-unit time at {b.units} units is {growth:.2f}x the per-unit time "
              f"at {a.units} (1.0 = linear)")
    print(f"\n`nix-instantiate` of `builtins.attrValues (import Cargo.nix {{ pkgs = host-pkgs; }})"
          f".units` (default target, release) into a scratch store, after a warm-up run; floor: "
          f"`builtins.genList` of as many trivial `derivation`s; median of {runs}, interleaved; "
          "drvs = derivations in the units' closure (units + `.crate` fetches + nocargo-tools + "
          "host tools); "
          "floor(drvs): as many trivial derivations as that (the per-derivation cost).")


# -- build -------------------------------------------------------------------------------------

@dataclass
class BuildRow:
    project: str
    crates: int
    units: int
    cargo_clean: Sample
    nix_clean: Sample
    cargo_noop: Sample
    nix_noop: Sample
    cargo_touch: Sample
    nix_touch: Sample
    same: bool
    label: str = "per-crate derivations"


def _timed_call(sample: Sample, fn: Callable, *args, **kwargs):
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        sample.wall.append(time.perf_counter() - t0)
        sample.cpu.append(_children_cpu() - cpu0)


def _built_count(stderr: str) -> int:
    """How many derivations nix-build said it would build."""
    for line in stderr.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0] == "these" and words[2] == "derivations" and "built" in line:
            return int(words[1])
        if line.startswith("this derivation will be built"):
            return 1
    return 0


def bench_build(project_name: str, runs: int, work: Path) -> BuildRow:
    import realworld as rw

    projects = {**rw.PROJECTS, **getattr(rw, "EXTRA_PROJECTS", {})}
    project = projects[project_name]
    attr = "rootCrate"
    root = rw.fetch_project(project, work / "src")
    crates = rw.fetch_dependencies(root)
    cargo_nix = rw.generate(project, root)
    rw.add_to_store(list(crates.values()))
    missing = rw.invalid_paths(rw.crate_fetches(cargo_nix, attr, project, True))
    if missing:
        raise RuntimeError(f"the Nix build would download: {missing[:3]}…")
    vendor = rw.vendor_directory(crates, rw.lockfile(root), work / "vendor")

    def nix_cmd(salt: str) -> list[str]:
        """The build with host tools made distinct by ``salt`` (a directory that does not
        exist, appended to the host PATH they are found on): every derivation is new, so
        the build is cold whatever else is in the shared store, and no rustc input changes."""
        args = rw.nix_args(project, True)
        i = args.index("pkgs")
        args[i + 1] = f"import {HOST_PKGS} {{ path = {json.dumps(HOST_PATH + ':' + salt)}; }}"
        return ["nix-build", *rw.NIX_OPTS, "-j", str(rw.JOBS), str(cargo_nix), "-A", attr,
                "--no-out-link", *args]

    def host_tools(salt: str) -> None:  # outside the timings
        rw.run(["nix-build", *rw.NIX_OPTS, "--no-out-link", "--arg", "path",
                json.dumps(HOST_PATH + ":" + salt), str(HOST_PKGS)])
    cargo_home = work / "cargo-home"
    target = work / "target"

    def cargo() -> Path:
        return rw.cargo_build(project, root, vendor, target, release=True, cargo_home=cargo_home)

    row = BuildRow(project.key, len(crates), 0, *(Sample() for _ in range(6)), same=False)
    out = None
    salt = ""
    for i in range(runs):
        salt = f"/nocargo-bench-{os.getpid()}-{time.time_ns()}-{i}"
        host_tools(salt)
        shutil.rmtree(target, ignore_errors=True)
        _timed_call(row.cargo_clean, cargo)
        proc = run_timed(nix_cmd(salt), row.nix_clean, cwd=root)
        row.units = max(row.units, _built_count(proc.stderr))
        out = Path(proc.stdout.split()[-1])
    assert out is not None
    # (the binaries differ in embedded source paths: cargo's are the vendor directory's)
    versions = [subprocess.run([str(exe), "--version"], capture_output=True).stdout
                for exe in (out / "bin" / project.bin, target / "release" / project.bin)]
    row.same = versions[0] == versions[1] and bool(versions[0])
    interleaved(runs, lambda: _timed_call(row.cargo_noop, cargo),
                lambda: run_timed(nix_cmd(salt), row.nix_noop, cwd=root))
    main_rs = _member_source(root)
    original = main_rs.read_text()
    try:
        for i in range(runs):
            main_rs.write_text(original + f"\n// benchmark edit {time.time_ns()} {i}\n")
            _timed_call(row.cargo_touch, cargo)
            run_timed(nix_cmd(salt), row.nix_touch, cwd=root)
    finally:
        main_rs.write_text(original)
    return row


def _member_source(root: Path) -> Path:
    for rel in ("crates/core/main.rs", "src/main.rs", "src/lib.rs"):
        if (root / rel).is_file():
            return root / rel
    raise RuntimeError(f"no main.rs/lib.rs to edit in {root}")


def print_build(rows: list[BuildRow], runs: int) -> None:
    print(table(
        ["project", "mode", "crates", "drvs built", "cargo clean s", "nix clean s", "ratio",
         "cpu ratio", "cargo no-op s", "nix no-op s", "cargo edit s", "nix edit s",
         "same --version"],
        [[r.project, r.label, r.crates, r.units, fmt(r.cargo_clean.w, 1), fmt(r.nix_clean.w, 1),
          fmt(ratio(r.nix_clean.w, r.cargo_clean.w)), fmt(ratio(r.nix_clean.c, r.cargo_clean.c)),
          fmt(r.cargo_noop.w), fmt(r.nix_noop.w), fmt(r.cargo_touch.w, 1),
          fmt(r.nix_touch.w, 1), "yes" if r.same else "no"]
         for r in rows]))
    print(f"\nclean: `nix-build -j2 -A rootCrate` (release, .crate files already in the store, "
          f"every other derivation new: host tools salted) vs `cargo build --release -j2` "
          f"(empty target dir, vendored sources), one after the other; cpu ratio: user+sys "
          f"seconds of all processes (rustc of both; bash, unpacking and nix for ours); no-op: "
          f"the same again; edit: after appending a comment to the member's main source (the "
          f"only workspace member of the published crate); median of {runs}.")


# -- profile -----------------------------------------------------------------------------------

def bench_profile(project: str, work: Path, top: int) -> str:
    """Phase timings and a cProfile summary of ``gen`` (in-process, warm, offline)."""
    from nocargo_py.cli import Context, GlobalOptions
    from nocargo_py.shell import Shell

    root = copy_project(project, work)
    # index data and crate facts from registry-cache/ (vendored), nothing from the network
    options = GlobalOptions(manifest_path=None, offline=True, locked=False, frozen=False,
                            verbosity=-1, color="never", index_dir=REPO / "registry-cache",
                            cache_dir=work / "cache")
    ctx = Context(options=options, shell=Shell(verbosity=-1))
    old = os.getcwd()
    os.chdir(root)
    try:
        phases = _phases(ctx)            # warm-up of lazy caches is part of the timing
        profiler = cProfile.Profile()
        profiler.enable()
        _phases(ctx)
        profiler.disable()
    finally:
        os.chdir(old)
    out = io.StringIO()
    total = sum(phases.values())
    print(table(["phase", "seconds", "share"],
                [[k, fmt(v, 3), f"{v / total:.0%}"] for k, v in phases.items()]
                + [["total (in-process, no start-up)", fmt(total, 3), "100%"]]))
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        out.write(f"\n### top {top} functions by {title} (cProfile, second run)\n\n")
        stats.sort_stats(key).print_stats(top)
    keep = [line for line in out.getvalue().splitlines()
            if line.strip() and not line.strip().startswith(("Ordered by", "List reduced"))
            and "function calls" not in line]
    return "\n".join(line if not line.startswith("###") else f"\n{line}\n" for line in keep)


def _phases(ctx) -> dict[str, float]:
    """The steps of ``nocargo-py gen`` (commands/gen.py), timed one by one."""
    from nocargo_py.cfg import host_triple
    from nocargo_py.index.registries import Registries
    from nocargo_py.planner import plan_workspace
    from nocargo_py.planner.inputs import load_resolved_graph
    from nocargo_py.render import render_cargo_nix
    from nocargo_py.workspace import load_workspace

    phases: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        phases[name] = now - t
        t = now

    ws = load_workspace(None, Path.cwd(), ctx.shell)
    lap("load workspace (manifests)")
    registries = Registries.from_options(ctx.options, ctx.shell, cwd=Path.cwd())
    graph, provider = load_resolved_graph(ws, registries, ctx.options, ctx.shell,
                                          write_lock=False)
    lap("lock check + resolved graph + crate facts")
    plan = plan_workspace(ws, graph, nix_file=ws.root / "Cargo.nix", host=host_triple(),
                          config=registries.config, provider=provider, shell=ctx.shell)
    lap("features + unit graphs + plan")
    registries.close()
    render_cargo_nix(plan)
    lap("render Cargo.nix")
    return phases


# -- main --------------------------------------------------------------------------------------

def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.split("\n")[0]
        except OSError:
            return "-"
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, load {load:.1f}; "
            f"Python {sys.version.split()[0]}; {version(['cargo', '--version'])}; "
            f"{version(['rustc', '--version'])}; {version(['nix-instantiate', '--version'])}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", default=[], metavar="SECTION",
                    help=f"sections to run (default: all of {', '.join(SECTIONS)})")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    ap.add_argument("--cold-runs", type=int, default=1, help="cold gen runs (network)")
    ap.add_argument("--build-runs", type=int, default=1, help="runs of each build figure")
    ap.add_argument("--projects", nargs="*", default=None, help="corpus projects for gen")
    ap.add_argument("--sizes", default="500,2000,10000", help="synthetic plan sizes (units)")
    ap.add_argument("--build-project", default="ripgrep",
                    help="project for the build section (tests/realworld.py PROJECTS)")
    ap.add_argument("--no-network", action="store_true",
                    help="no cold gen; warm gen reads the vendored registry-cache/")
    ap.add_argument("--quick", action="store_true",
                    help="--runs 2, sizes 500,2000, no network, no build section")
    ap.add_argument("--top", type=int, default=15, help="functions listed by the profile")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args(argv)
    for s in args.sections:
        if s not in SECTIONS:
            ap.error(f"unknown section `{s}` (choose from {', '.join(SECTIONS)})")
    if args.quick:
        args.runs, args.sizes, args.no_network = 2, "500,2000", True
    sections = args.sections or [s for s in SECTIONS if not (args.quick and s == "build")]
    projects = args.projects or sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    sizes = [int(s) for s in args.sizes.split(",") if s]

    print("# nocargo-py benchmarks\n")
    print(f"machine: {machine()}")
    summary: list[list[str]] = []
    with scratch("nocargo-bench-", args.keep) as work:
        global PYCACHE
        PYCACHE = work / "pycache"
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "nocargo_py")],
                       env=base_env(), check=True, capture_output=True)
        gen_rows: list[GenRow] = []
        if "gen" in sections:
            with reported("gen", summary):
                section("gen vs cargo metadata")
                gen_rows = bench_gen(projects, args.runs, args.cold_runs, not args.no_network,
                                     work / "gen")
                print()
                print_gen(gen_rows, args.runs, args.cold_runs)
                worst = max(gen_rows, key=lambda r: ratio(r.ours_warm.w, r.cargo_warm.w))
                r = ratio(worst.ours_warm.w, worst.cargo_warm.w)
                summary.append(["gen warm ≤ 1.0× cargo metadata",
                                f"worst {fmt(r)}× ({worst.project}); median "
                                f"{fmt(statistics.median(ratio(x.ours_warm.w, x.cargo_warm.w) for x in gen_rows))}×; "
                                f"start-up alone {fmt(ratio(worst.startup.w, worst.cargo_warm.w))}× "
                                f"there, up to {fmt(max(ratio(x.startup.w, x.cargo_warm.w) for x in gen_rows))}×",
                                "met" if r <= GOAL_GEN else "not met"])

        if "lock" in sections:
            with reported("lock", summary):
                section("lock vs cargo generate-lockfile")
                rows = bench_lock(args.runs)
                print_lock(rows, args.runs)
                summary.append(["lock from scratch (no goal set)",
                                ", ".join(f"{r[0]} {r[4]}×" for r in rows), "-"])

        if "eval" in sections:
            with reported("eval", summary):
                section("Nix evaluation (nix-instantiate)")
                corpus_nix, corpus_units = None, 0
                big = next((r for r in gen_rows if r.project == BIGGEST), None)
                if big is not None:
                    corpus_nix = work / "gen" / BIGGEST / "Cargo.nix"
                else:
                    root = copy_project(BIGGEST, work / "eval-src")
                    run_timed([*OURS, "--offline", "--index-dir", str(REPO / "registry-cache"),
                               "gen"], Sample(), cwd=root, env=base_env())
                    corpus_nix = root / "Cargo.nix"
                corpus_units = int(subprocess.run(
                    ["nix-instantiate", "--eval", "-E",
                     f"builtins.length (builtins.attrNames (import {corpus_nix} "
                     f"{{ pkgs = import {HOST_PKGS} {{ }}; }}).units)"],
                    capture_output=True, text=True, check=True).stdout)
                rows = bench_eval(sizes, args.runs, corpus_nix, corpus_units, work)
                print()
                print_eval(rows, args.runs)
                two = next((r for r in rows if r.what == "synthetic 2000"), None)
                if two is not None:
                    rr = ratio(two.ours.w, two.flat.w)
                    met = two.ours.w <= GOAL_EVAL_S and rr <= GOAL_EVAL_RATIO
                    summary.append(["eval 2,000 units ≤ 2 s and ≤ 2× floor",
                                    f"{fmt(two.ours.w)} s, {fmt(rr)}× (cpu {fmt(ratio(two.ours.c, two.flat.c))}×)",
                                    "met" if met else "not met"])

        if "build" in sections:
            with reported("build", summary):
                section("build (clean release, no-op, after an edit)")
                row = bench_build(args.build_project, args.build_runs, work / "build")
                print_build([row], args.build_runs)
                rr = ratio(row.nix_clean.w, row.cargo_clean.w)
                summary.append(["clean build ≤ 1.1× cargo",
                                f"{fmt(rr)}× wall, {fmt(ratio(row.nix_clean.c, row.cargo_clean.c))}× "
                                f"cpu ({row.project})",
                                "met" if rr <= GOAL_BUILD else "not met"])

        if "profile" in sections:
            with reported("profile", summary):
                section(f"profile of gen on `{BIGGEST}` (in-process, warm, offline)")
                print(bench_profile(BIGGEST, work / "profile", args.top))

    if summary:
        section("goals (issue 7)")
        print(table(["goal", "figure", "status"], summary))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
