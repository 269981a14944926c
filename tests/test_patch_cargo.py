"""``[patch]`` path packages through the whole pipeline (lock → graph → plan → ``Cargo.nix``)
against cargo 1.95, on a loopback sparse registry with real ``.crate`` files.

The workspace depends on a registry crate ``bar`` that depends on ``foo``; ``foo`` is
patched with a local path package (not a member). cargo writes ``Cargo.lock``; our lock must
leave it untouched, ``plan --unit-graph`` must print cargo's unit graph and ``gen`` must plan
the patched ``foo`` from its path (the registry's ``foo`` never appears).

``[patch]`` tables of ``.cargo/config.toml`` apply in addition to the manifest's (the
config's entry wins for the same name; paths are relative to the config file's root; a
manifest ``[replace]`` may coexist with them): ``lock`` must write what
``cargo generate-lockfile`` writes, run from the root or from a sub-directory.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cargo_registry import CRATES_IO_INDEX, LocalRegistries, cargo, write_package
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
        reg.publish("cio", "baz", "1.0.0")
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


# -- [patch] in .cargo/config.toml --------------------------------------------------------

#: manifest [patch]/[replace] text, config text, path packages (dir, version), cwd
CONFIG_CASES = {
    "config-only": ("", '[patch.crates-io]\nfoo = { path = "vendor/foo" }\n',
                    [("vendor/foo", "1.0.1")], ""),
    "config-wins": ('[patch.crates-io]\nfoo = { path = "m/foo" }\n',
                    '[patch.crates-io]\nfoo = { path = "c/foo" }\n',
                    [("m/foo", "1.0.2"), ("c/foo", "1.0.3")], ""),
    "both-apply": ('[patch.crates-io]\nbaz = { path = "m/baz" }\n',
                   '[patch.crates-io]\nfoo = { path = "c/foo" }\n',
                   [("m/baz", "1.0.2"), ("c/foo", "1.0.3")], ""),
    "unused": ("", '[patch.crates-io]\nfoo = { path = "c/foo" }\n', [("c/foo", "2.0.0")], ""),
    "with-replace": ('[replace]\n"foo:1.0.0" = { path = "m/foo" }\n',
                     '[patch.crates-io]\nfoo = { path = "c/foo" }\n',
                     [("m/foo", "1.0.0"), ("c/foo", "1.0.3")], ""),
    "from-subdir": ("", '[patch.crates-io]\nfoo = { path = "c/foo" }\n', [("c/foo", "1.0.3")],
                    "c"),
    "crates-io-url": ("", f'[patch."{CRATES_IO_INDEX}"]\nfoo = {{ path = "c/foo" }}\n',
                      [("c/foo", "1.0.3")], ""),
}


def _config_workspace(ws: Path, case: str) -> Path:
    manifest, config, packages, cwd = CONFIG_CASES[case]
    write_package(ws, "app", "0.1.0",
                  extra='[dependencies]\nbar = "1"\nfoo = "1"\nbaz = "1"\n' + manifest)
    for rel, version in packages:
        write_package(ws / rel, rel.rsplit("/", 1)[-1], version)
    (ws / ".cargo").mkdir()
    (ws / ".cargo" / "config.toml").write_text(config)
    return ws / cwd


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_patch_locks_like_cargo(registry, tmp_path, case):
    ws = tmp_path / "ws"
    cwd = _config_workspace(ws, case)
    ours = _ours(cwd, registry, tmp_path, "lock", "--stdout", "--from-scratch")
    assert ours.returncode == 0, ours.stderr
    theirs = cargo(cwd, registry.home, "generate-lockfile")
    assert ours.stdout == (ws / "Cargo.lock").read_text()
    if case == "unused":
        assert "[[patch.unused]]" in ours.stdout
        assert "was not used in the crate graph" in theirs.stderr
    # metadata --no-deps never reads config patches
    meta = _ours(cwd, registry, tmp_path, "metadata", "--no-deps", "--format-version", "1")
    assert json.loads(meta.stdout) == json.loads(
        cargo(cwd, registry.home, "metadata", "--no-deps", "--format-version", "1").stdout)


def test_config_patch_plans_like_cargo(registry, tmp_path, monkeypatch):
    ws = _config_workspace(tmp_path / "ws", "config-wins")
    theirs = _cargo_units(ws, registry, monkeypatch)
    run = _ours(ws, registry, tmp_path, "plan", "--unit-graph")
    assert run.returncode == 0, run.stderr
    ours = _unit_graph(run.stdout, ws, registry.home)
    assert equivalent(ours, theirs), first_difference(ours, theirs)
    assert any(u["pkg_id"].endswith("c/foo#1.0.3") for u in theirs["units"])
    gen = _ours(ws, registry, tmp_path, "gen")
    assert gen.returncode == 0, gen.stderr
    nix = (ws / "Cargo.nix").read_text()
    assert 'path = (./. + "/c/foo")' in nix and "/m/foo" not in nix and "/dl/foo/" not in nix


@pytest.mark.parametrize("config, message", [
    ('[patch.nope]\nfoo = { path = "c/foo" }\n',
     "[patch] entry `nope` should be a URL or registry name"),
    ('[patch.crates-io]\nfoo = 3\n', "invalid type: integer `3`, expected a version string"),
    ('[patch.crates-io]\nfoo = { }\n', "dependency (foo) specified without providing a local "
                                        "path, Git repository, version"),
])
def test_bad_config_patch_fails_like_cargo(registry, tmp_path, config, message):
    ws = tmp_path / "ws"
    write_package(ws, "app", "0.1.0", extra='[dependencies]\nfoo = "1"\n')
    (ws / ".cargo").mkdir()
    (ws / ".cargo" / "config.toml").write_text(config)
    theirs = cargo(ws, registry.home, "generate-lockfile", check=False)
    assert theirs.returncode == 101 and message in theirs.stderr
    ours = _ours(ws, registry, tmp_path, "lock")
    assert ours.returncode == 101 and message in ours.stderr, ours.stderr
    assert str(ws / ".cargo" / "config.toml") in ours.stderr.splitlines()[0]
    assert "Traceback" not in ours.stderr


def _warnings(stderr: str) -> list[str]:
    """The warning blocks of a run (a `warning:` line and its continuation lines)."""
    blocks: list[str] = []
    for line in stderr.splitlines():
        if line.startswith("warning:"):
            blocks.append(line)
        elif blocks and (line.startswith(" ") or line.startswith("help:")) \
                and not line.lstrip().startswith(("Locking", "Adding", "Updating")):
            blocks[-1] += "\n" + line
    return blocks


def test_unused_patches_are_warned_about_like_cargo(registry, tmp_path):
    ws = tmp_path / "ws"
    write_package(ws, "app", "0.1.0", extra=(
        '\n[dependencies]\nbar = "1"\nlocal = { path = "../local" }\n'
        '\n[patch.crates-io]\n'
        'bar = { path = "../bar2" }\n'      # a version the graph does not want
        'zzz = { path = "../zzz" }\n'       # a crate nothing depends on
        'local = { path = "../local2" }\n'  # in the graph only from a path: misspelled URL?
    ))
    write_package(tmp_path / "bar2", "bar", "2.0.0")
    write_package(tmp_path / "zzz", "zzz", "0.3.0")
    write_package(tmp_path / "local", "local", "0.1.0")
    write_package(tmp_path / "local2", "local", "0.2.0")
    theirs = cargo(ws, registry.home, "generate-lockfile")
    expected = _warnings(theirs.stderr)
    assert len(expected) == 3 and "perhaps you meant" in expected[0], theirs.stderr
    (ws / "Cargo.lock").unlink()
    ours = _ours(ws, registry, tmp_path, "lock")
    assert ours.returncode == 0, ours.stderr
    assert _warnings(ours.stderr) == expected
    assert _warnings(_ours(ws, registry, tmp_path, "lock", "-q").stderr) == []
    gen = _ours(ws, registry, tmp_path, "gen", "--offline")
    assert _warnings(gen.stderr)[:3] == expected, gen.stderr
