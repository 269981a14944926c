"""``nocargo-py init``: Cargo.nix plus ``default.nix`` and ``flake.nix`` where missing.

Fast tests check what is written and that user files are never overwritten; the nix
tier builds a member through ``default.nix`` and through the flake (nixpkgs replaced by
a flake wrapping ``nix/host-pkgs.nix``, evaluated ``--impure`` because the stand-in reads
the host), runs a member's tests through ``checks`` and enters ``nix develop``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from nocargo_py.commands.init import nix_system
from nocargo_py.errors import NocargoError

REPO = Path(__file__).resolve().parent.parent
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"
NIX_OPTS = ["--option", "sandbox", "false", "--option", "substituters", "",
            "--option", "build-users-group", ""]
FLAKES = ["nix", "--extra-experimental-features", "nix-command",
          "--extra-experimental-features", "flakes"]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "examples" / "workspace", tmp_path / "ws"))


def test_init_writes_the_three_files(example: Path) -> None:
    proc = run_cli("init", "--offline", cwd=example)
    assert proc.returncode == 0, proc.stderr
    for name in ("Cargo.nix", "default.nix", "flake.nix"):
        assert (example / name).is_file(), name
    default = (example / "default.nix").read_text()
    assert "import ./Cargo.nix args" in default and "workspaceMembers" in default
    flake = (example / "flake.nix").read_text()
    assert 'system = "x86_64-linux";' in flake
    for needle in ("packages.${system}", "checks.${system} = cargoNix.tests",
                   "devShells.${system}.default", "nixpkgs.legacyPackages.${system}"):
        assert needle in flake, needle
    assert str(example) not in flake + default
    # the generated file is what gen writes
    gen = run_cli("gen", "--offline", "--check", cwd=example)
    assert gen.returncode == 0, gen.stderr


def test_init_never_overwrites_existing_files(example: Path) -> None:
    (example / "flake.nix").write_text("# mine\n{ outputs = _: { }; }\n")
    os.utime(example / "flake.nix", (1_000_000, 1_000_000))
    proc = run_cli("init", "--offline", cwd=example)
    assert proc.returncode == 0, proc.stderr
    assert (example / "flake.nix").read_text() == "# mine\n{ outputs = _: { }; }\n"
    assert (example / "flake.nix").stat().st_mtime == 1_000_000
    assert "Skipping" in proc.stderr and "flake.nix" in proc.stderr
    assert (example / "default.nix").is_file()
    # a second init leaves what the first one wrote alone too
    (example / "default.nix").write_text("# edited by the user\n{ }\n")
    again = run_cli("init", "--offline", cwd=example)
    assert again.returncode == 0, again.stderr
    assert (example / "default.nix").read_text() == "# edited by the user\n{ }\n"


def test_nix_system_names() -> None:
    assert nix_system("x86_64-unknown-linux-gnu") == "x86_64-linux"
    assert nix_system("aarch64-unknown-linux-musl") == "aarch64-linux"
    assert nix_system("aarch64-apple-darwin") == "aarch64-darwin"
    with pytest.raises(NocargoError):
        nix_system("x86_64-pc-windows-msvc")


@pytest.mark.nix
@pytest.mark.slow
def test_default_nix_and_flake_build(example: Path, tmp_path: Path) -> None:
    assert run_cli("init", "--offline", cwd=example).returncode == 0
    pkgs = f"import {HOST_PKGS} {{ }}"
    proc = subprocess.run(["nix-build", *NIX_OPTS, str(example / "default.nix"), "--no-out-link",
                           "--arg", "pkgs", pkgs, "-A", "hello"],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    hello = Path(proc.stdout.split()[-1]) / "bin" / "hello"
    expected = subprocess.run([str(hello)], capture_output=True, check=True).stdout
    assert expected.startswith(b"HELLO, world!")

    stub = tmp_path / "stub-nixpkgs"
    stub.mkdir()
    shutil.copy(HOST_PKGS, stub / "host-pkgs.nix")
    (stub / "flake.nix").write_text(
        "{ outputs = _: { legacyPackages.x86_64-linux = import ./host-pkgs.nix { }; }; }\n")
    common = ["--impure", "--no-write-lock-file", "--override-input", "nixpkgs",
              f"path:{stub}", *NIX_OPTS]
    built = subprocess.run([*FLAKES, "build", *common, ".#hello", "-o", str(tmp_path / "res")],
                           cwd=example, capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    assert subprocess.run([str(tmp_path / "res" / "bin" / "hello")], capture_output=True,
                          check=True).stdout == expected
    check = subprocess.run([*FLAKES, "build", *common, ".#checks.x86_64-linux.greeting",
                            "-o", str(tmp_path / "chk")], cwd=example, capture_output=True,
                           text=True, timeout=1800)
    assert check.returncode == 0, check.stderr[-3000:]
    logs = [p for p in (tmp_path / "chk").iterdir() if p.name.endswith(".log")]
    assert logs and all("test result: ok" in p.read_text() for p in logs)
    shell = subprocess.run([*FLAKES, "develop", *common, "-c", "rustc", "--version"],
                           cwd=example, capture_output=True, text=True, timeout=600)
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert shell.stdout.startswith("rustc ")
