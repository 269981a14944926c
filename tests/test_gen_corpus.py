"""``gen`` on every corpus project, offline from the vendored ``registry-cache`` (index
files and ``crate-info/``) with an empty cache: it succeeds, leaves ``Cargo.lock`` as it
is, writes no machine path, is deterministic; and (nix tier) the generated files evaluate
to derivations (``nix-instantiate``; nixpkgs' libraries for the built-in ``-sys``
overrides are stubbed, nothing is built).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CORPUS_PROJECTS, run_cli

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"

_STUB_LIBS = ["openssl", "zlib", "libgit2", "libssh2", "curl", "sqlite", "pcre2", "oniguruma",
              "zstd", "systemd", "dbus", "alsa-lib", "bzip2", "xz", "protobuf", "pkg-config"]


def _stub_pkgs() -> str:
    stub = "{ dev = \"/stub\"; out = \"/stub\"; lib = \"/stub\"; outPath = \"/stub\"; }"
    extra = " ".join(f'"{name}" = {stub};' for name in _STUB_LIBS)
    return f"import {HOST_PKGS} {{ }} // {{ {extra} }}"


@pytest.fixture(scope="module")
def generated(corpus_dir: Path, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpus-gen")
    out = {}
    for name in CORPUS_PROJECTS:
        ws = Path(shutil.copytree(corpus_dir / name, base / name))
        proc = run_cli("gen", "--offline", "--index-dir", REPO / "registry-cache",
                       "--cache-dir", base / "empty-cache", cwd=ws)
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        out[name] = ws
    return out


@pytest.mark.parametrize("name", CORPUS_PROJECTS)
def test_gen_on_corpus_project(name: str, generated: dict[str, Path], corpus_dir: Path) -> None:
    ws = generated[name]
    assert (ws / "Cargo.lock").read_bytes() == (corpus_dir / name / "Cargo.lock").read_bytes()
    text = (ws / "Cargo.nix").read_text()
    assert str(ws) not in text and str(REPO) not in text and "/root/" not in text
    # registry sources are `[ url sha256 ]` (docs/plan-format.md)
    assert re.search(r'\[ "https://static\.crates\.io/crates/[^"]+" "[0-9a-f]{64}" \]', text)
    check = run_cli("gen", "--offline", "--check", "--index-dir", REPO / "registry-cache",
                    "--cache-dir", ws.parent / "empty-cache", cwd=ws)
    assert check.returncode == 0, check.stderr


@pytest.mark.nix
@pytest.mark.parametrize("name", ["ripgrep", "bat", "helix"])
def test_corpus_cargo_nix_evaluates(name: str, generated: dict[str, Path]) -> None:
    if name not in generated:
        pytest.skip(f"{name} is not in the corpus")
    for release in ("true", "false"):
        proc = subprocess.run(["nix-instantiate", str(generated[name] / "Cargo.nix"),
                               "--arg", "pkgs", _stub_pkgs(), "--arg", "release", release,
                               "-A", "allWorkspaceMembers"],
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout.strip().endswith(".drv")
