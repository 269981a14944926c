"""Real nix-build tests of the Nix library against cargo (the oracle).

Plans come from the real pipeline: ``nocargo-py gen`` in a copy of the fixture workspace
(the registry/git source test plans in-process with :func:`nocargo_py.planner.plan_workspace`
and then swaps two path sources for a ``.crate`` and a git repository). Each build uses
``nix/host-pkgs.nix`` (the host's toolchain) instead of nixpkgs. Program outputs are
compared byte for byte with the same fixture built by ``cargo build`` in the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from nocargo_py.render import render_cargo_nix

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "nixbuild"
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"

pytestmark = [pytest.mark.nix, pytest.mark.slow]

NIX_OPTS = ["--option", "sandbox", "false", "--option", "substituters", "",
            "--option", "build-users-group", ""]


def nix_build(nix_file: Path, attr: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["nix-build", *NIX_OPTS, str(nix_file), "--no-out-link",
           "--arg", "pkgs", f"import {HOST_PKGS} {{ }}", "-A", attr, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        pytest.fail(f"nix-build -A {attr} failed:\n{proc.stderr[-6000:]}")
    return proc


def build_log(nix_file: Path, unit_prefix: str) -> str:
    """The stored build log of the (built) unit whose id starts with ``unit_prefix``."""
    pkgs = f"import {HOST_PKGS} {{ }}"
    names = subprocess.run(["nix-instantiate", "--eval", "--json", "-E",
                            f"builtins.attrNames (import {nix_file} {{ pkgs = {pkgs}; }}).units"],
                           capture_output=True, text=True, check=True)
    uid = next(n for n in json.loads(names.stdout) if n.startswith(unit_prefix))
    drv = subprocess.run(["nix-instantiate", str(nix_file), "--arg", "pkgs", pkgs, "-A", f'units."{uid}"'],
                         capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run(["nix-store", "--read-log", drv], capture_output=True, text=True,
                          check=True).stdout


def out_path(proc: subprocess.CompletedProcess) -> Path:
    return Path(proc.stdout.strip().splitlines()[-1])


def generate(src: Path, dest: Path) -> Path:
    """Copy a fixture workspace to ``dest`` and write its Cargo.nix at the root."""
    shutil.copytree(src, dest)
    proc = run_cli("gen", "--offline", cwd=dest)
    assert proc.returncode == 0, proc.stderr
    return dest / "Cargo.nix"


def real_plan(ws_dir: Path):
    """The plan ``gen`` writes for a path-only workspace, computed in-process."""
    from nocargo_py.cfg import host_triple
    from nocargo_py.planner import plan_workspace
    from nocargo_py.resolve.graph import graph_from_path_workspace
    from nocargo_py.shell import Shell
    from nocargo_py.workspace import load_workspace

    ws = load_workspace(ws_dir / "Cargo.toml", ws_dir, Shell(verbosity=-1))
    return plan_workspace(ws, graph_from_path_workspace(ws), nix_file=ws_dir / "Cargo.nix",
                          host=host_triple())


def cargo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["cargo", *args, "--offline"], cwd=cwd, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="session")
def ws(tmp_path_factory) -> Path:
    return generate(FIXTURES / "ws", tmp_path_factory.mktemp("nix") / "ws")


@pytest.fixture(scope="session")
def cargo_release(ws: Path, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("cargo-release")
    proc = cargo("build", "--release", "--workspace", "--target-dir", str(target), cwd=ws.parent)
    assert proc.returncode == 0, proc.stderr
    return target / "release"


def run(exe: Path, *args: str) -> bytes:
    proc = subprocess.run([str(exe), *args], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_release_binaries_match_cargo(ws: Path, cargo_release: Path) -> None:
    proc = nix_build(ws, "workspaceMembers.app")
    out = out_path(proc)
    assert sorted(p.name for p in (out / "bin").iterdir()) == ["app-cli", "second"]
    assert any(p.name.endswith(".rlib") for p in (out / "lib").iterdir())
    for name in ("app-cli", "second"):
        assert run(out / "bin" / name) == run(cargo_release / name)
    text = run(out / "bin" / "app-cli").decode()
    # The comparison above covers these; spell out what the fixture exercises.
    for needle in ("shared v1: shared 1.0.0", "shared v2: shared 2.0.0", "macro: 42",
                   "build script saw DEP_NATIVE_*: false", "link args: bins=7 cli=11",
                   "version=4.2-legacy dashed=dashed", "has_native=true static=true",
                   "native: 19 hello",
                   "lib sees APP_BUILD_ENV=", "bin sees APP_BUILD_ENV=", "app_cfg: true",
                   "source file: app/src/main.rs"):
        assert needle in text
    # cargo::warning is shown in the build log (read back: the unit may have been cached).
    assert "warning: native@0.2.0: native: this warning must be shown" in build_log(ws, "native-0.2.0-build-script-run-")


def test_dev_profile_matches_cargo(ws: Path, tmp_path: Path) -> None:
    proc = cargo("build", "-p", "app", "--target-dir", str(tmp_path), cwd=ws.parent)
    assert proc.returncode == 0, proc.stderr
    out = out_path(nix_build(ws, "workspaceMembers.app", "--arg", "release", "false"))
    ours = run(out / "bin" / "app-cli")
    assert ours == run(tmp_path / "debug" / "app-cli")
    assert b"debug_assertions: true" in ours and b"profile: debug:0:true" in ours


def test_root_crate_absent_for_virtual_workspace_and_all_members(ws: Path) -> None:
    proc = subprocess.run(["nix-instantiate", "--eval", "--json", "-E",
                           f"builtins.attrNames (import {ws} {{ pkgs = import {HOST_PKGS} {{ }}; }})"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '["allWorkspaceMembers","devShell","tests","units","workspaceMembers"]'


def test_library_crate_types_match_cargo(ws: Path, cargo_release: Path, tmp_path: Path) -> None:
    clib = out_path(nix_build(ws, "workspaceMembers.clib")) / "lib"
    dynlib = out_path(nix_build(ws, "workspaceMembers.dynlib")) / "lib"
    for name in ("libclib.so", "libclib.a"):
        assert (clib / name).is_file() and (cargo_release / name).is_file()
    assert (dynlib / "libdynlib.so").is_file() and (cargo_release / "libdynlib.so").is_file()
    # The cdylib exports the symbol, as cargo's does.
    for so in (clib / "libclib.so", cargo_release / "libclib.so"):
        syms = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True,
                              text=True, check=True).stdout
        assert " T clib_triple" in syms
    # rustc-cdylib-link-arg reached the cdylib link in both.
    for so in (clib / "libclib.so", cargo_release / "libclib.so"):
        dyn = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True,
                             check=True).stdout
        assert "Library soname: [libclib-custom.so.1]" in dyn
    # A C program linked against each staticlib prints the same.
    main_c = tmp_path / "main.c"
    main_c.write_text('#include <stdio.h>\nint clib_triple(int);\n'
                      'int main(void){printf("%d\\n", clib_triple(14));return 0;}\n')
    outputs = []
    for i, lib in enumerate((clib / "libclib.a", cargo_release / "libclib.a")):
        exe = tmp_path / f"c{i}"
        subprocess.run(["cc", "-o", str(exe), str(main_c), str(lib), "-lpthread", "-ldl", "-lm"],
                       check=True)
        outputs.append(run(exe))
    assert outputs[0] == outputs[1] == b"42\n"
    # Both are Rust dylibs: they carry the crate's metadata symbol.
    for so in (dynlib / "libdynlib.so", cargo_release / "libdynlib.so"):
        syms = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True,
                              text=True, check=True).stdout
        assert " N rust_metadata_dynlib_" in syms


def test_tests_attribute_runs_lib_bin_and_integration_tests(ws: Path) -> None:
    proc = nix_build(ws, "tests.app")
    out = out_path(proc)
    logs = {p.name: p.read_text() for p in out.iterdir() if p.name.endswith(".log")}
    assert len(logs) == 4, logs.keys()  # lib, two bins, tests/integration.rs
    joined = "\n".join(logs.values())
    assert "test tests::lib_unit_test ... ok" in joined
    assert "test runs_the_binary ... ok" in joined
    assert "test dev_dependency_and_link_arg_tests ... ok" in joined
    assert "test binary_next_to_the_test_directory ... ok" in joined  # cargo's layout
    assert "test target_tmpdir_is_writable ... ok" in joined


def test_same_drv_paths_from_two_checkouts(ws: Path, tmp_path: Path) -> None:
    other = generate(FIXTURES / "ws", tmp_path / "elsewhere" / "copy")
    drvs = []
    for f in (ws, other):
        proc = subprocess.run(["nix-instantiate", str(f), "--arg", "pkgs", f"import {HOST_PKGS} {{ }}",
                               "-A", "allWorkspaceMembers", "-A", "tests.app"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        drvs.append(proc.stdout.split())
    assert drvs[0] == drvs[1]
    assert ws.read_bytes() == other.read_bytes()


@pytest.fixture(scope="session")
def failing(tmp_path_factory) -> Path:
    return generate(FIXTURES / "failing", tmp_path_factory.mktemp("nix") / "failing")


def test_cargo_error_directive_fails_the_build_like_cargo(failing: Path) -> None:
    proc = cargo("build", "-p", "errscript", "--target-dir", str(failing.parent / "t"), cwd=failing.parent)
    assert proc.returncode != 0
    assert "error: errscript@0.1.0: errscript: boom from cargo::error" in proc.stderr
    nix = nix_build(failing, "workspaceMembers.errscript", check=False)
    assert nix.returncode != 0
    assert "error: errscript@0.1.0: errscript: boom from cargo::error" in nix.stderr
    assert "warning: errscript@0.1.0: about to fail" in nix.stderr
    # The legacy `cargo:error=` form is metadata, not an error (cargo reports only one).
    assert "legacy form" not in nix.stderr and "legacy form" not in proc.stderr


def test_failing_test_fails_the_tests_derivation(failing: Path) -> None:
    proc = cargo("test", "-p", "failtest", "--target-dir", str(failing.parent / "t"), cwd=failing.parent)
    assert proc.returncode != 0 and "1 passed; 1 failed" in proc.stdout
    nix = nix_build(failing, "tests.failtest", check=False)
    assert nix.returncode != 0
    assert "1 passed; 1 failed" in nix.stderr
    assert "this test must fail" in nix.stderr


def test_crate_overrides_and_dev_shell(ws: Path, tmp_path: Path) -> None:
    """A user override adds a native input (a tool on PATH) and env for one crate."""
    expr = f"""
      let
        pkgs = import {HOST_PKGS} {{ }};
        tool = derivation {{
          name = "greeting-tool"; system = builtins.currentSystem; builder = "/bin/sh";
          args = [ "-c" "/bin/mkdir -p $out/bin; echo '#!/bin/sh' > $out/bin/greeting-tool; echo 'echo from-tool' >> $out/bin/greeting-tool; /bin/chmod +x $out/bin/greeting-tool" ];
        }};
        cargoNix = import {ws} {{
          inherit pkgs;
          crateOverrides = {{
            native = attrs: {{ nativeBuildInputs = attrs.nativeBuildInputs ++ [ tool ]; env = {{ NOCARGO_TEST_ENV = "x y"; }}; }};
            "native@0.2.0" = attrs: {{ env = attrs.env // {{ SECOND = "2"; }}; }};
          }};
        }};
        run = builtins.head (builtins.filter (n: builtins.match "native-0.2.0-build-script-run-.*" n != null) (builtins.attrNames cargoNix.units));
      in {{ env = cargoNix.units.${{run}}.overrideEnv; path = cargoNix.units.${{run}}.toolPath; shell = cargoNix.devShell.PATH; outputs = cargoNix.devShell.outputs; }}
    """
    proc = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E", expr],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["env"]["NOCARGO_TEST_ENV"] == "x y" and data["env"]["SECOND"] == "2"
    assert "greeting-tool/bin" in data["path"] and "greeting-tool/bin" in data["shell"]
    assert "host-rustc/bin" in data["shell"]
    assert data["outputs"] == ["out"]  # what `nix develop` needs


def test_registry_and_git_sources(ws: Path, cargo_release: Path, tmp_path: Path) -> None:
    """shared 2.0.0 from a .crate tarball (fixed-output fetch), shared 1.0.0 from git."""
    import dataclasses
    import hashlib
    import tarfile

    from nocargo_py.plan import GitSource, RegistrySource

    crate = tmp_path / "shared-2.0.0.crate"
    with tarfile.open(crate, "w:gz") as tar:
        tar.add(ws.parent / "shared2", arcname="shared-2.0.0")
    repo = tmp_path / "gitrepo"
    shutil.copytree(ws.parent / "shared1", repo / "crates" / "shared1")
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "shared1"], check=True)
    rev = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()

    work = tmp_path / "ws"
    shutil.copytree(ws.parent, work)
    plan = real_plan(work)
    pkgs = dict(plan.packages)
    pkgs["shared-2.0.0"] = dataclasses.replace(
        pkgs["shared-2.0.0"], root="shared-2.0.0",
        source=RegistrySource(crate.as_uri(), hashlib.sha256(crate.read_bytes()).hexdigest()))
    pkgs["shared-1.0.0"] = dataclasses.replace(
        pkgs["shared-1.0.0"], root="crates/shared1", source=GitSource(str(repo), rev))
    (work / "Cargo.nix").write_text(render_cargo_nix(dataclasses.replace(plan, packages=pkgs)))
    out = out_path(nix_build(work / "Cargo.nix", "workspaceMembers.app"))
    assert run(out / "bin" / "app-cli") == run(cargo_release / "app-cli")


def test_registry_fetch_is_the_added_cache_file(ws: Path, tmp_path: Path) -> None:
    """The .crate fetch is named `<name>-<version>.crate` whatever the plan key (here one
    with a collision suffix), so `nix-store --add-fixed sha256` of the cached file is the
    store path the build uses: the unreachable URL is never asked."""
    import dataclasses
    import hashlib
    import tarfile

    from nocargo_py.plan import RegistrySource

    crate = tmp_path / "cache" / "shared-2.0.0.crate"
    crate.parent.mkdir()
    with tarfile.open(crate, "w:gz") as tar:
        tar.add(ws.parent / "shared2", arcname="shared-2.0.0")
    work = tmp_path / "ws"
    shutil.copytree(ws.parent, work)
    plan = real_plan(work)
    old, new = "shared-2.0.0", "shared-2.0.0-0123abcd"
    pkgs = {(new if k == old else k): v for k, v in plan.packages.items()}
    pkgs[new] = dataclasses.replace(pkgs[new], root="shared-2.0.0", source=RegistrySource(
        "http://127.0.0.1:9/unreachable.crate", hashlib.sha256(crate.read_bytes()).hexdigest()))
    units = {i: (dataclasses.replace(u, package=new) if u.package == old else u)
             for i, u in plan.units.items()}
    (work / "Cargo.nix").write_text(render_cargo_nix(dataclasses.replace(plan, packages=pkgs,
                                                                         units=units)))
    added = subprocess.run(["nix-store", "--add-fixed", "sha256", str(crate)],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert added.endswith("-shared-2.0.0.crate")
    out = out_path(nix_build(work / "Cargo.nix", "workspaceMembers.app"))
    assert b"shared v2: shared 2.0.0" in run(out / "bin" / "app-cli")


def test_host_pkgs_tools_are_real_programs() -> None:
    """Every tool host-pkgs links resolves to a program (shell builtins such as `echo`,
    `test`, `[` were once linked to their bare name: links to themselves)."""
    expr = (f"with import {HOST_PKGS} {{ }}; [ coreutils bash stdenv.cc gnutar gzip "
            "gnumake gnused gawk gnugrep diffutils ]")
    proc = subprocess.run(["nix-build", *NIX_OPTS, "--no-out-link", "-E", expr],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    tools = [t for out in proc.stdout.split() for t in (Path(out) / "bin").iterdir()]
    assert {"echo", "test", "[", "printf", "pwd", "false", "true"} <= {t.name for t in tools}
    for tool in tools:
        target = Path(os.readlink(tool))
        assert target.is_absolute() and tool.resolve().is_file(), (tool, target)
    echo = next(t for t in tools if t.name == "echo")
    assert subprocess.run([str(echo), "hi"], capture_output=True).stdout == b"hi\n"
