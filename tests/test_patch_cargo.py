"""``[patch]`` path packages through the whole pipeline (lock → graph → plan → ``Cargo.nix``)
against cargo 1.95, on a loopback sparse registry with real ``.crate`` files.

The workspace depends on a registry crate ``bar`` that depends on ``foo``; ``foo`` is
patched with a local path package (not a member). cargo writes ``Cargo.lock``; our lock must
leave it untouched, ``plan --unit-graph`` must print cargo's unit graph and ``gen`` must plan
the patched ``foo`` from its path (the registry's ``foo`` never appears).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cargo_registry import LocalRegistries, cargo, write_package
from conftest import run_cli
from test_unit_graph_vs_cargo import equivalent, first_difference

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")]

_REGISTRY_SRC = re.compile(r"/registry/src/[^/]+/")


@pytest.fixture
def registry(tmp_path):
    with LocalRegistries(tmp_path / "registries") as reg:
        reg.publish("cio", "foo", "1.0.0")
        reg.publish("cio", "bar", "1.0.0", [("foo", "1")])
        yield reg


def _ours(ws: Path, reg: LocalRegistries, tmp: Path, *args: str):
    env = {"CARGO_HOME": str(reg.home), "NOCARGO_PY_CACHE_DIR": str(tmp / "nocargo-cache")}
    return run_cli(*args, cwd=ws, env=env)


def _unit_graph(text: str, ws: Path, home: Path) -> dict:
    # registry crates: cargo unpacks a replaced source under its own directory name
    text = text.replace(str(ws), "$ROOT").replace(str(home), "$HOME")
    return json.loads(_REGISTRY_SRC.sub("/registry/src/REG/", text))


def _cargo_units(ws: Path, reg: LocalRegistries, monkeypatch, *args: str) -> dict:
    with monkeypatch.context() as m:
        m.setenv("RUSTC_BOOTSTRAP", "1")
        proc = cargo(ws, reg.home, "build", "--unit-graph", "-Z", "unstable-options", *args)
    return _unit_graph(proc.stdout, ws, reg.home)


def _patched_workspace(ws: Path) -> None:
    write_package(ws, "app", "0.1.0", extra='[dependencies]\nbar = "1"\nfoo = "1"\n\n'
                                            '[patch.crates-io]\nfoo = { path = "vendor/foo" }\n')
    write_package(ws / "vendor" / "foo", "foo", "1.0.1",
                  extra='[features]\nextra = []\n')


@pytest.mark.parametrize("args", [[], ["--features", "foo/extra", "--release"]])
def test_manifest_patch_path_package_plans_like_cargo(registry, tmp_path, monkeypatch, args):
    ws = tmp_path / "ws"
    _patched_workspace(ws)
    cargo(ws, registry.home, "generate-lockfile")
    lock = (ws / "Cargo.lock").read_text()
    assert lock.endswith('[[package]]\nname = "foo"\nversion = "1.0.1"\n')  # no source: path

    locked = _ours(ws, registry, tmp_path, "lock", "--locked")
    assert locked.returncode == 0, locked.stderr

    theirs = _cargo_units(ws, registry, monkeypatch, *args)
    run = _ours(ws, registry, tmp_path, "plan", "--unit-graph", *args)
    assert run.returncode == 0, run.stderr
    ours = _unit_graph(run.stdout, ws, registry.home)
    assert equivalent(ours, theirs), first_difference(ours, theirs)
    assert any(u["pkg_id"].endswith("vendor/foo#1.0.1") for u in theirs["units"])

    gen = _ours(ws, registry, tmp_path, "gen", *args[:2])
    assert gen.returncode == 0, gen.stderr
    nix = (ws / "Cargo.nix").read_text()
    assert "/dl/bar/1.0.0" in nix and "/dl/foo/" not in nix
    assert (ws / "Cargo.lock").read_text() == lock
    check = _ours(ws, registry, tmp_path, "gen", "--check", *args[:2])
    assert check.returncode == 0, check.stderr
