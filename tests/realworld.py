"""Real projects from crates.io, built end to end with our Nix and with cargo.

Used by ``tests/test_corpus_build.py`` (and reusable by benchmarks: run this file,
``python3 tests/realworld.py ripgrep [--release]``, for build times of both toolchains).

The corpus (``../shared/corpus``) has placeholder sources only and GitHub is unreachable,
so the real sources come from crates.io, where the corpus projects are published:

1. :func:`fetch_project` downloads the project's own ``.crate`` (checksum from the index)
   into the download cache (``$NOCARGO_PY_CACHE_DIR`` or the user cache, the same cache
   ``nocargo-py`` uses) and unpacks it; a published binary crate ships its ``Cargo.lock``.
2. :func:`generate` runs ``nocargo-py gen --locked`` on it.
3. :func:`fetch_dependencies` downloads every locked ``.crate`` once into that cache
   (:func:`nocargo_py.sources.download_crates`), :func:`add_to_store` adds them with
   ``nix-store --add-fixed sha256`` (the fetches in ``Cargo.nix`` are named
   ``<name>-<version>.crate``, so that is exactly the store path they expect) and
   :func:`crate_fetches` + :func:`invalid_paths` prove the build needs no download.
4. :func:`nix_build` builds with ``nix/host-pkgs.nix`` standing in for nixpkgs;
   :func:`cargo_build` builds the same with cargo, offline, from a directory source made
   of the same cached ``.crate`` files (:func:`vendor_directory`).

Builds run one after the other with two jobs each (``nix-build -j2``, ``cargo -j2``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"
NIX_OPTS = ("--option", "sandbox", "false", "--option", "substituters", "",
            "--option", "build-users-group", "")
JOBS = 2

if str(REPO) not in sys.path:  # pragma: no cover - when run as a script
    sys.path.insert(0, str(REPO))

from nocargo_py.index.cache import default_cache_root  # noqa: E402
from nocargo_py.index.registries import Registries, find_version  # noqa: E402
from nocargo_py.lockfile import Lockfile, parse_lockfile  # noqa: E402
from nocargo_py.source import PackageId, SourceId  # noqa: E402
from nocargo_py.sources.download import (  # noqa: E402
    CrateDownloader, CrateRequest, download_crates,
)

__all__ = [
    "EXTRA_PROJECTS", "PROJECTS", "BuildError", "Built", "Project", "add_to_store",
    "build_both", "cargo", "cargo_build", "crate_fetches", "fetch_dependencies",
    "fetch_project", "forget_build", "generate", "invalid_paths", "nix_build",
    "run_tests_both", "vendor_directory",
]


class BuildError(RuntimeError):
    """A step failed; the message carries the tail of its output."""


@dataclass(frozen=True)
class Project:
    """A corpus project as published on crates.io, and how both toolchains build it.

    ``env`` is set for both builds (for Nix through ``crateOverrides`` env of
    ``env_crates``); ``crate_overrides`` is extra Nix for the ``crateOverrides`` argument.
    """

    crate: str
    version: str
    corpus: str
    bin: str
    features: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    env_crates: tuple[str, ...] = ()
    clear_native_inputs: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.crate}-{self.version}"

    def feature_args(self) -> list[str]:
        return [f"--features={','.join(self.features)}"] if self.features else []

    def crate_overrides(self) -> str:
        """The ``crateOverrides`` Nix expression: ``env`` for ``env_crates``; crates in
        ``clear_native_inputs`` drop the built-in override's nixpkgs inputs and env (there
        is no nixpkgs here: their build scripts build the bundled C sources instead)."""
        parts = []
        for name in sorted(set(self.env_crates) | set(self.clear_native_inputs)):
            env = " ".join(f"{k} = {json.dumps(v)};" for k, v in sorted(self.env.items())
                           if name in self.env_crates)
            if name in self.clear_native_inputs:  # also the built-in's env (…_SYSTEM_LIB…)
                body = f"buildInputs = [ ]; nativeBuildInputs = [ ]; env = {{ {env} }};"
            else:
                body = f"env = attrs.env // {{ {env} }};"
            parts.append(f"{json.dumps(name)} = attrs: {{ {body} }};")
        return "{ " + " ".join(parts) + " }"


#: Corpus projects whose published version fits rustc 1.95 (``rust-version`` ≤ 1.95).
PROJECTS: dict[str, Project] = {
    # C code from a build script: pcre2-sys compiles the bundled PCRE2 with the cc crate
    # (PCRE2_SYS_STATIC=1 on both sides: never a system library found by pkg-config).
    "ripgrep": Project("ripgrep", "15.2.0", "ripgrep", "rg", features=("pcre2",),
                       env={"PCRE2_SYS_STATIC": "1"}, env_crates=("pcre2-sys",),
                       clear_native_inputs=("pcre2-sys",)),
    # Default features, as users get it: jemalloc as the allocator (tikv-jemalloc-sys's
    # build script runs the bundled jemalloc's configure and make; the built-in override
    # in nix/overrides.nix puts make, sed, awk, grep and cmp on its PATH).
    "fd": Project("fd-find", "10.4.2", "fd", "fd"),
    "hyperfine": Project("hyperfine", "1.20.0", "hyperfine", "hyperfine"),
}

#: Also built by hand (``python3 tests/realworld.py just``), not in the test suite's budget.
EXTRA_PROJECTS: dict[str, Project] = {
    "just": Project("just", "1.58.0", "just", "just"),
    # onig_sys and libgit2-sys (+ libz-sys) compile their bundled C sources with cc.
    "bat": Project("bat", "0.26.1", "bat", "bat", clear_native_inputs=(
        "onig_sys", "libgit2-sys", "libz-sys")),
}


def run(cmd: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run a command; :class:`BuildError` with the output's tail when it fails."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise BuildError(f"`{' '.join(cmd[:4])} …` failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-8000:]}")
    return proc


def _registries() -> Registries:
    return Registries(cache_root=default_cache_root())


def fetch_project(project: Project, dest: Path) -> Path:
    """Download (once, into the cache) and unpack the project's ``.crate`` under ``dest``."""
    registries = _registries()
    try:
        source = SourceId.crates_io()
        index = registries.get(source)
        entry = find_version(index, project.crate, project.version)
        if entry is None:
            raise BuildError(f"{project.crate} {project.version} is not on crates.io")
        pid = PackageId(project.crate, project.version, source)
        request = CrateRequest(pid, entry.cksum, index.dl_url(pid.name, pid.version, entry.cksum))
        crate = CrateDownloader(registries.cache_root).fetch(request)
    finally:
        registries.close()
    unpack(crate, dest)
    root = dest / project.key
    if not (root / "Cargo.lock").is_file():
        raise BuildError(f"{project.key}.crate ships no Cargo.lock")
    return root


def unpack(crate: Path, dest: Path) -> None:
    """Unpack a ``.crate`` (gzip'd tar of ``<name>-<version>/``) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(crate) as tar:
        tar.extractall(dest, filter="data")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m nocargo_py ARGS`` from this checkout."""
    env = {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return run([sys.executable, "-m", "nocargo_py", *args], cwd=cwd, env=env)


def generate(project: Project, root: Path) -> Path:
    """``nocargo-py gen --locked`` with the project's features; returns ``Cargo.nix``."""
    cli("gen", "--locked", *project.feature_args(), cwd=root)
    return root / "Cargo.nix"


def lockfile(root: Path) -> Lockfile:
    path = root / "Cargo.lock"
    return parse_lockfile(path.read_text(encoding="utf-8"), path)


def fetch_dependencies(root: Path) -> dict[PackageId, Path]:
    """Every registry ``.crate`` of the project's lock file, from the cache or crates.io."""
    registries = _registries()
    try:
        return download_crates(lockfile(root), registries)
    finally:
        registries.close()


def add_to_store(files: Sequence[Path]) -> list[str]:
    """``nix-store --add-fixed sha256`` every file (flat hash, store name = file name)."""
    paths: list[str] = []
    files = sorted(files)
    for start in range(0, len(files), 200):
        chunk = [str(f) for f in files[start:start + 200]]
        paths += run(["nix-store", "--add-fixed", "sha256", *chunk]).stdout.split()
    return paths


def nix_args(project: Project, release: bool) -> list[str]:
    return ["--arg", "pkgs", f"import {HOST_PKGS} {{ }}",
            "--arg", "release", "true" if release else "false",
            "--arg", "crateOverrides", project.crate_overrides()]


def crate_fetches(cargo_nix: Path, attr: str, project: Project, release: bool) -> list[str]:
    """Output paths of the ``.crate`` fetches among the requisites of ``attr``'s build."""
    drv = run(["nix-instantiate", *NIX_OPTS, str(cargo_nix), "-A", attr,
               *nix_args(project, release)]).stdout.split()[-1]
    needed = [d for d in run(["nix-store", "-q", "--requisites", drv]).stdout.split()
              if d.endswith(".crate.drv")]
    if not needed:
        return []
    return sorted(run(["nix-store", "-q", "--outputs", *needed]).stdout.split())


def invalid_paths(paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that are not valid in the Nix store (would be built/fetched)."""
    if not paths:
        return []
    proc = subprocess.run(["nix-store", "--check-validity", "--print-invalid", *paths],
                          capture_output=True, text=True)
    return proc.stdout.split()


def forget_build(cargo_nix: Path, attr: str, project: Project, release: bool) -> int:
    """Delete the built outputs of ``attr``'s units and sources from the Nix store (not the
    host tools, not the ``.crate`` files), so the next build is cold; returns how many
    were deleted. For benchmarks only: remove GC roots (``result`` links) first."""
    drv = run(["nix-instantiate", *NIX_OPTS, str(cargo_nix), "-A", attr,
               *nix_args(project, release)]).stdout.split()[-1]
    drvs = [d for d in run(["nix-store", "-q", "--requisites", drv]).stdout.split()
            if d.endswith(".drv") and not d.endswith(".crate.drv")
            and "-host-" not in d]
    outs = run(["nix-store", "-q", "--outputs", *drvs]).stdout.split()
    present = sorted(set(outs) - set(invalid_paths(outs)))
    if present:
        subprocess.run(["nix-store", "--delete", *present], capture_output=True, text=True)
    return len(invalid_paths(present))


def nix_build(cargo_nix: Path, attr: str, project: Project, *, release: bool,
              out_link: Path | None = None) -> Path:
    """Build ``attr`` of ``cargo_nix`` (``JOBS`` derivations at a time); its output path."""
    link = ["-o", str(out_link)] if out_link is not None else ["--no-out-link"]
    proc = run(["nix-build", *NIX_OPTS, "-j", str(JOBS), str(cargo_nix), "-A", attr, *link,
                *nix_args(project, release)])
    return Path(proc.stdout.split()[-1])


def vendor_directory(crates: Mapping[PackageId, Path], lock: Lockfile, dest: Path) -> Path:
    """A cargo directory source (``cargo vendor`` layout) made of the cached ``.crate``
    files: ``<name>-<version>/`` + ``.cargo-checksum.json`` with the lock's checksum."""
    dest.mkdir(parents=True, exist_ok=True)
    for pkg in lock.packages:
        if pkg.id not in crates:
            continue
        # tar(1): several times faster than tarfile on the big crates (windows-sys…).
        run(["tar", "-xzf", str(crates[pkg.id]), "-C", str(dest), "--no-same-owner"])
        checksum = {"files": {}, "package": pkg.checksum}
        (dest / f"{pkg.name}-{pkg.version}" / ".cargo-checksum.json").write_text(
            json.dumps(checksum), encoding="utf-8")
    return dest


def cargo(command: str, project: Project, root: Path, vendor: Path, target_dir: Path, *,
          release: bool, cargo_home: Path, args: Sequence[str] = ()) -> str:
    """``cargo COMMAND --locked --offline -j2`` with the project's features against
    ``vendor`` (crates.io replaced by the directory source), in a clean environment with
    its own ``CARGO_HOME``; returns stdout."""
    cmd = ["cargo", command, "--locked", "--offline", "-j", str(JOBS), *project.feature_args(),
           "--target-dir", str(target_dir),
           "--config", 'source.crates-io.replace-with="nocargo-vendored"',
           "--config", f"source.nocargo-vendored.directory={json.dumps(str(vendor))}"]
    if release:
        cmd.append("--release")
    cargo_home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("CARGO_") or k.startswith("RUSTFLAGS")
                   or k in {"RUSTC", "RUSTC_WRAPPER", "RUSTDOCFLAGS"})}
    env.update(project.env)
    env["CARGO_HOME"] = str(cargo_home)
    proc = subprocess.run([*cmd, *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        raise BuildError(f"cargo {command} of {project.key} failed:\n{proc.stdout[-4000:]}\n"
                         f"{proc.stderr[-8000:]}")
    return proc.stdout


def cargo_build(project: Project, root: Path, vendor: Path, target_dir: Path, *,
                release: bool, cargo_home: Path) -> Path:
    """``cargo build`` of the project's bin (see :func:`cargo`); returns the binary."""
    cargo("build", project, root, vendor, target_dir, release=release, cargo_home=cargo_home,
          args=["--bin", project.bin])
    return target_dir / ("release" if release else "debug") / project.bin


@dataclass(frozen=True)
class Built:
    """Everything :func:`build_both` made for one project."""

    project: Project
    release: bool
    work: Path                    # vendor/, target/, cargo-home/ of the cargo build
    root: Path                    # the unpacked project (Cargo.lock, Cargo.nix)
    crates: int                   # registry crates in Cargo.lock
    added: tuple[str, ...]        # store paths of the cached .crate files we added
    fetches: tuple[str, ...]      # .crate fetch outputs the Nix build needs
    nix_out: Path
    cargo_exe: Path
    seconds: Mapping[str, float]  # wall-clock seconds per step

    @property
    def nix_exe(self) -> Path:
        return self.nix_out / "bin" / self.project.bin

    def to_json(self) -> dict:
        return {"project": self.project.crate, "release": self.release, "work": str(self.work),
                "root": str(self.root),
                "crates": self.crates, "added": list(self.added), "fetches": list(self.fetches),
                "nix_out": str(self.nix_out),
                "cargo_exe": str(self.cargo_exe), "seconds": dict(self.seconds)}


def build_both(name: str, work: Path, *, release: bool = False, cold: bool = False) -> Built:
    """Fetch, generate, build with Nix, then with cargo, in ``work`` (created).

    Safe to call from several processes with the same ``work``: the first builds under a
    file lock, the others wait and read its record (``built.json``). ``cold``: delete
    earlier Nix outputs of the project first (:func:`forget_build`, for benchmarks).
    """
    import filelock

    project = PROJECTS[name] if name in PROJECTS else EXTRA_PROJECTS[name]
    work.mkdir(parents=True, exist_ok=True)
    record = work / "built.json"
    with filelock.FileLock(str(work / ".lock")):
        if record.is_file() and not cold:
            data = json.loads(record.read_text(encoding="utf-8"))
            if (data["release"] == release and Path(data["nix_out"]).exists()
                    and Path(data["cargo_exe"]).exists()):
                return Built(project, release, work, Path(data["root"]), data["crates"],
                             tuple(data["added"]), tuple(data["fetches"]),
                             Path(data["nix_out"]),
                             Path(data["cargo_exe"]), data["seconds"])
        t = Timings()
        src = work / "src"
        if src.exists():
            shutil.rmtree(src)
        root = t.measure("fetch project", fetch_project, project, src)
        crates = t.measure("fetch crates", fetch_dependencies, root)
        cargo_nix = t.measure("gen", generate, project, root)
        added = t.measure("add to store", add_to_store, list(crates.values()))
        fetches = crate_fetches(cargo_nix, "rootCrate", project, release)
        missing = invalid_paths(fetches)
        if missing:  # would be downloaded: fail before building anything
            raise BuildError(f"the Nix build would fetch {len(missing)} .crate file(s) that "
                             f"are not in the store: {missing[:5]}")
        if cold:
            (work / "result").unlink(missing_ok=True)
            forget_build(cargo_nix, "rootCrate", project, release)
        nix_out = t.measure("nix build", nix_build, cargo_nix, "rootCrate", project,
                            release=release, out_link=work / "result")
        vendor = work / "vendor"
        for stale in (vendor, work / "target"):
            if stale.exists():
                shutil.rmtree(stale)
        t.measure("vendor", vendor_directory, crates, lockfile(root), vendor)
        cargo_exe = t.measure("cargo build", cargo_build, project, root, vendor,
                              work / "target", release=release, cargo_home=work / "cargo-home")
        built = Built(project, release, work, root, len(crates), tuple(added), tuple(fetches),
                      nix_out, cargo_exe, dict(t.steps))
        record.write_text(json.dumps(built.to_json(), indent=1), encoding="utf-8")
        return built


def run_tests_both(built: Built) -> tuple[str, str]:
    """Run the project's tests: ``tests.<package>`` with Nix (after its build), then
    ``cargo test`` in the work dir of :func:`build_both`; returns (Nix logs, cargo stdout).
    Takes the same lock as :func:`build_both`."""
    import filelock

    project, work = built.project, built.work
    with filelock.FileLock(str(work / ".lock")):
        cargo_nix = built.root / "Cargo.nix"
        out = nix_build(cargo_nix, f'tests."{project.crate}"', project, release=built.release)
        logs = "".join(p.read_text(encoding="utf-8", errors="replace")
                       for p in sorted(out.iterdir()) if p.name.endswith(".log"))
        stdout = cargo("test", project, built.root, work / "vendor", work / "target",
                       release=built.release, cargo_home=work / "cargo-home")
    return logs, stdout


@dataclass
class Timings:
    """Wall-clock seconds per step, and CPU seconds (user + system) of the child processes
    a step ran (e.g. every rustc under nix-build or cargo), for reports and benchmarks."""

    steps: dict[str, float] = field(default_factory=dict)

    def measure(self, name: str, fn, *args, **kwargs):
        import resource

        def cpu() -> float:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime

        start, start_cpu = time.monotonic(), cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            self.steps[name] = round(time.monotonic() - start, 1)
            used = cpu() - start_cpu
            if used >= 1.0:
                self.steps[f"{name} (cpu)"] = round(used, 1)


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - benchmark entry
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="build a corpus project with Nix and cargo")
    parser.add_argument("project", choices=sorted(PROJECTS) + sorted(EXTRA_PROJECTS))
    parser.add_argument("--release", action="store_true")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--cold", action="store_true",
                        help="delete the project's earlier Nix outputs first (a cold build)")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix=f"realworld-{args.project}-"))
    built = build_both(args.project, work, release=args.release, cold=args.cold)
    print(json.dumps({"project": built.project.key, "crates": built.crates,
                      "release": args.release, "seconds": built.seconds}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
