"""The real pipeline end to end: ``nocargo-py gen`` then ``nix-build`` (with
``nix/host-pkgs.nix`` standing in for nixpkgs), compared with cargo building the same
workspace. Covers the planner fixture (features, renames, platform tables, build/dev
dependencies, ``links`` metadata, lints, profile overrides, release LTO + ``panic =
"abort"``, cdylib/staticlib, ``.cargo/config.toml`` rustflags and ``[env]``, an
out-of-workspace path dependency), its tests through ``tests.<member>``, and
incrementality: what a rebuild builds after an edit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = [pytest.mark.nix, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "planner"
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"
NIX_OPTS = ["--option", "sandbox", "false", "--option", "substituters", "",
            "--option", "build-users-group", ""]


def nix_build(nix_file: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["nix-build", *NIX_OPTS, str(nix_file), "--no-out-link",
           "--arg", "pkgs", f"import {HOST_PKGS} {{ }}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        pytest.fail(f"nix-build {' '.join(args)} failed:\n{proc.stderr[-6000:]}")
    return proc


def outputs(proc: subprocess.CompletedProcess) -> list[Path]:
    return [Path(line) for line in proc.stdout.split()]


def to_build(nix_file: Path, *args: str) -> list[str]:
    """Names of the derivations ``nix-build`` would build (``--dry-run``)."""
    proc = nix_build(nix_file, "--dry-run", *args)
    names: list[str] = []
    collecting = False
    for line in proc.stderr.splitlines():
        if re.match(r"these \d+ derivations? will be built:", line.strip()) or \
                line.strip() == "this derivation will be built:":
            collecting = True
            continue
        if collecting:
            m = re.match(r"\s+/nix/store/[a-z0-9]{32}-(.+)\.drv$", line)
            if not m:
                collecting = False
                continue
            names.append(m.group(1))
    return names


def run(exe: Path, *args: str) -> bytes:
    proc = subprocess.run([str(exe), *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="session")
def planner(tmp_path_factory) -> Path:
    """A copy of the planner fixture with its generated Cargo.nix."""
    base = tmp_path_factory.mktemp("gen-nix")
    shutil.copytree(FIXTURES, base, dirs_exist_ok=True)
    ws = base / "ws"
    proc = run_cli("gen", "--offline", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    return ws


@pytest.fixture(scope="session")
def cargo_builds(planner: Path, tmp_path_factory) -> dict[str, Path]:
    target = tmp_path_factory.mktemp("gen-nix-cargo")
    out = {}
    for profile, flags in (("release", ["--release"]), ("debug", [])):
        proc = subprocess.run(["cargo", "build", "--workspace", "--offline", *flags,
                               "--target-dir", str(target)], cwd=planner,
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stderr
        out[profile] = target / profile
    return out


@pytest.fixture(scope="session")
def release_members(planner: Path) -> Path:
    proc = nix_build(planner / "Cargo.nix", "-A", "allWorkspaceMembers")
    return outputs(proc)[0]


def test_release_outputs_match_cargo(planner: Path, cargo_builds, release_members: Path) -> None:
    cli = outputs(nix_build(planner / "Cargo.nix", "-A", "workspaceMembers.cli"))[0]
    ours = run(cli / "bin" / "my-cli")
    assert ours == run(cargo_builds["release"] / "my-cli")
    text = ours.decode()
    for needle in ("features=[\"std\"] util=dflt", "build-util=dflt+extra+build-only",
                   "linux_flag=true", "rustflags=\"--cfg\\u{1f}linux_flag\"",
                   "config env=set in .cargo/config.toml table=forced", "outside=42",
                   "dep-root=/virtual/root dep-version=3", "file=cli/src/main.rs",
                   "pre=rc.1", "debug_assertions=false"):
        assert needle in text, needle
    # the bin with unmet required-features is not built, as with cargo
    assert sorted(p.name for p in (cli / "bin").iterdir()) == ["my-cli"]
    assert not (cargo_builds["release"] / "needs-extras").exists()
    # crate types of ffi: the cdylib and the staticlib under their plain names
    ffi = outputs(nix_build(planner / "Cargo.nix", "-A", "workspaceMembers.ffi"))[0] / "lib"
    for name in ("libffi.so", "libffi.a"):
        assert (ffi / name).is_file() and (cargo_builds["release"] / name).is_file()
    syms = subprocess.run(["nm", "-D", "--defined-only", str(ffi / "libffi.so")],
                          capture_output=True, text=True, check=True).stdout
    assert " T ffi_double" in syms


def test_dev_outputs_match_cargo(planner: Path, cargo_builds) -> None:
    cli = outputs(nix_build(planner / "Cargo.nix", "--arg", "release", "false",
                            "-A", "workspaceMembers.cli"))[0]
    ours = run(cli / "bin" / "my-cli")
    assert ours == run(cargo_builds["debug"] / "my-cli")
    assert b"debug_assertions=true" in ours and b"debug=true opt=0" in ours


def test_features_flag_enables_the_optional_bin(planner: Path, tmp_path: Path) -> None:
    ws = tmp_path / "planner"
    shutil.copytree(planner.parent, ws)
    proc = run_cli("gen", "--offline", "--features", "cli/extras", cwd=ws / "ws")
    assert proc.returncode == 0, proc.stderr
    cli = outputs(nix_build(ws / "ws" / "Cargo.nix", "-A", "workspaceMembers.cli"))[0]
    assert run(cli / "bin" / "needs-extras") == b"extras on\n"
    assert b"fancy" in run(cli / "bin" / "my-cli")


def test_member_tests_run_through_tests_attribute(planner: Path) -> None:
    for member, needles in (("cli", ["test runs_the_cli ... ok",
                                     "test dev_dependency_features ... ok"]),
                            ("core-lib", ["test tests::features_in_unit_tests ... ok"])):
        out = outputs(nix_build(planner / "Cargo.nix", "-A", f"tests.{member}"))[0]
        logs = "\n".join(p.read_text() for p in out.iterdir() if p.name.endswith(".log"))
        for needle in needles:
            assert needle in logs, (member, needle)


def test_incremental_rebuilds(planner: Path, release_members: Path, tmp_path: Path) -> None:
    """Another checkout of the same sources needs no build; a README edit rebuilds
    nothing; editing one crate rebuilds it and its dependents only."""
    copy = tmp_path / "checkout"
    shutil.copytree(planner.parent, copy, ignore=shutil.ignore_patterns("target"))
    ws = copy / "ws"
    assert run_cli("gen", "--offline", cwd=ws).returncode == 0
    nix_file = ws / "Cargo.nix"
    assert to_build(nix_file, "-A", "allWorkspaceMembers") == []
    (ws / "README.md").write_text("# the workspace\nedited\n")
    (ws / ".cargo" / "notes.txt").write_text("not part of any crate\n")
    assert to_build(nix_file, "-A", "allWorkspaceMembers") == []
    lib = ws / "util" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n// an edit\n")
    rebuilt = to_build(nix_file, "-A", "allWorkspaceMembers")
    pkgs = sorted({re.sub(r"-[0-9a-f]{16}$", "", n) for n in rebuilt})
    # util itself, the crates that depend on it (core-lib normally and through its build
    # script, the proc-macro, cli), the collections of those members (util is a member
    # too: a path dependency inside the workspace root); nothing else
    assert pkgs == sorted([
        "all-workspace-members", "cli", "core-lib", "fixture-macros", "util",
        "cli-0.9.0-rc.1-bin-my-cli", "core-lib-1.2.3-build-script",
        "core-lib-1.2.3-build-script-run", "core-lib-1.2.3-lib",
        "fixture-macros-0.1.0-lib", "util-0.5.0-lib",
    ]), pkgs
    assert not any(n.startswith(("fixture-sys", "ffi", "optdep", "outside", "unixonly"))
                   for n in rebuilt)


def test_git_dependency_in_a_workspace_subdirectory(tmp_path: Path) -> None:
    """A git dependency living in a sub-directory of a git workspace (inheriting from the
    repository's `[workspace.package]`, with a path dependency of its own) is fetched at
    the locked commit with `builtins.fetchGit`, and the binary prints what cargo's does."""
    repo = tmp_path / "repo"
    for rel, text in {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n[workspace.package]\n'
                      'version = "0.4.0"\nedition = "2021"\n',
        "crates/gitlib/Cargo.toml": '[package]\nname = "gitlib"\nversion.workspace = true\n'
                                    'edition.workspace = true\ndescription = "in a sub-directory"\n'
                                    '[dependencies]\ngitdep = { path = "../gitdep" }\n',
        "crates/gitlib/src/lib.rs": 'pub fn hello() -> String { format!("gitlib {} {} + {}", '
                                    'env!("CARGO_PKG_VERSION"), env!("CARGO_PKG_DESCRIPTION"), '
                                    'gitdep::NAME) }\n',
        "crates/gitdep/Cargo.toml": '[package]\nname = "gitdep"\nversion = "0.1.0"\nedition = "2021"\n',
        "crates/gitdep/src/lib.rs": 'pub const NAME: &str = "gitdep";\n',
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "Cargo.toml").write_text(
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\n'
        f'gitlib = {{ git = "file://{repo}", branch = "main" }}\n')
    (app / "src" / "main.rs").write_text('fn main() { println!("{}", gitlib::hello()); }\n')
    cargo = subprocess.run(["cargo", "run", "-q", "--target-dir", str(tmp_path / "target")],
                           cwd=app, capture_output=True, timeout=900)
    assert cargo.returncode == 0, cargo.stderr
    proc = run_cli("gen", cwd=app)  # git sources are fetched into the cache
    assert proc.returncode == 0, proc.stderr
    text = (app / "Cargo.nix").read_text()
    # the package is `[ name version root data source ]` (docs/plan-format.md)
    assert '= [ "gitlib" "0.4.0" "crates/gitlib" ' in text and 'kind = "git";' in text
    out = outputs(nix_build(app / "Cargo.nix", "-A", "rootCrate"))[0]
    assert run(out / "bin" / "app") == cargo.stdout == b"gitlib 0.4.0 in a sub-directory + gitdep\n"
