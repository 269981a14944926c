"""``lock`` on the real-world corpus (``../shared/corpus``) with the vendored index data.

* Every project: ``lock --offline`` on its up-to-date ``Cargo.lock`` changes nothing (the
  file is left byte-identical) and ``--locked`` passes.
* ripgrep and fd (whose index files are vendored whole in ``registry-cache/``): with the
  lock file deleted, our regeneration equals ``cargo generate-lockfile`` against the same
  data served on 127.0.0.1; after an edited requirement, our update equals
  ``cargo update --workspace`` from the same old lock.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS_PROJECTS, REPO_ROOT, run_cli
from nocargo_py.index.registries import Registries
from nocargo_py.lockfile import parse_lockfile
from nocargo_py.resolve.lockgen import lock_workspace, registry_loader, write_outcome
from nocargo_py.semver_req import VersionReq
from nocargo_py.shell import Shell
from nocargo_py.workspace import load_workspace
from sparse_server import serve_registry
from test_versions_support import cargo_lock, our_lock, set_registry_config

REGISTRY_CACHE = REPO_ROOT / "registry-cache"
WHOLE = ("ripgrep", "fd")  # projects whose index files are vendored whole


def _copy(corpus_dir: Path, project: str, dest: Path) -> Path:
    target = dest / project
    shutil.copytree(corpus_dir / project, target)
    return target


@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_offline_lock_of_an_up_to_date_lock_changes_nothing(project, corpus_dir, tmp_path):
    """``lock --offline`` (in process, vendored index only): nothing to change or write."""
    ws_root = _copy(corpus_dir, project, tmp_path)
    before = (ws_root / "Cargo.lock").read_bytes()
    shell = Shell(verbosity=-1)
    ws = load_workspace(ws_root / "Cargo.toml", ws_root, shell)
    registries = Registries(index_dir=REGISTRY_CACHE, cache_root=tmp_path / "cache",
                            offline=True, shell=shell)
    outcome = lock_workspace(ws, registry_loader(registries), locked=True)
    write_outcome(outcome)
    assert not outcome.changed
    assert (ws_root / "Cargo.lock").read_bytes() == before
    assert outcome.text.encode() == before


def test_frozen_lock_command_on_the_corpus(corpus_dir, tmp_path):
    """The same through the command line (``--frozen`` = ``--offline --locked``)."""
    ws = _copy(corpus_dir, "fd", tmp_path)
    before = (ws / "Cargo.lock").read_bytes()
    res = run_cli("--frozen", "--index-dir", REGISTRY_CACHE, "--manifest-path",
                  ws / "Cargo.toml", "lock", env={"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert (ws / "Cargo.lock").read_bytes() == before


def test_locked_refuses_a_needed_change_and_writes_nothing(corpus_dir, tmp_path):
    ws = _copy(corpus_dir, "ripgrep", tmp_path)
    lock = ws / "Cargo.lock"
    before = lock.read_text()
    manifest = ws / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('log = "0.4.5"', 'log = "0.4.34"', 1))
    env = {"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache")}
    res = run_cli("--offline", "--locked", "--index-dir", REGISTRY_CACHE, "--manifest-path",
                  ws / "Cargo.toml", "lock", env=env)
    assert res.returncode == 101
    assert "cannot update the lock file" in res.stderr and "--locked" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert lock.read_text() == before
    res = run_cli("--offline", "--index-dir", REGISTRY_CACHE, "--manifest-path",
                  ws / "Cargo.toml", "lock", env=env)
    assert res.returncode == 0, res.stderr
    after = parse_lockfile(lock.read_text())
    (log,) = after.find_all("log")
    assert VersionReq.parse("0.4.34").matches(log.version)
    assert "Updating log v0.4.33 -> v" in res.stderr
    # nothing else moved: every other registry package keeps its locked version
    old = {(p.name, p.version) for p in parse_lockfile(before).packages if p.name != "log"}
    new = {(p.name, p.version) for p in after.packages if p.name != "log"}
    assert old == new


@pytest.mark.slow
@pytest.mark.parametrize("project", WHOLE)
def test_regenerated_lock_equals_cargo_generate_lockfile(project, corpus_dir, tmp_path):
    ws = _copy(corpus_dir, project, tmp_path)
    (ws / "Cargo.lock").unlink()
    with serve_registry(REGISTRY_CACHE) as server:
        set_registry_config(ws, server)
        ours = our_lock(ws, tmp_path / "cache")
        theirs = cargo_lock(ws, tmp_path / "home")
    assert theirs.ok, theirs.error
    assert ours.ok, ours.error
    assert ours.lock == theirs.lock


EDITS = {
    # (member manifest, old text, new text): raise a requirement so that the lock must move
    "ripgrep": ("Cargo.toml", 'log = "0.4.5"', 'log = "0.4.34"'),
    "fd": ("Cargo.toml", 'regex = "1.12.2"', 'regex = "1.12.2"\nmemchr = "2.8.1"'),
}


@pytest.mark.slow
@pytest.mark.parametrize("project", WHOLE)
def test_update_after_an_edited_manifest_equals_cargo(project, corpus_dir, tmp_path):
    ws = _copy(corpus_dir, project, tmp_path)
    rel, old, new = EDITS[project]
    manifest = ws / rel
    text = manifest.read_text()
    assert old in text, f"corpus manifest changed: {old!r} not in {rel}"
    manifest.write_text(text.replace(old, new, 1))
    original = (ws / "Cargo.lock").read_text()
    with serve_registry(REGISTRY_CACHE) as server:
        set_registry_config(ws, server)
        ours = our_lock(ws, tmp_path / "cache")
        theirs = cargo_lock(ws, tmp_path / "home", "update", "--workspace")
    assert theirs.ok, theirs.error
    assert ours.ok, ours.error
    assert theirs.lock != original  # the edit mattered
    assert ours.lock == theirs.lock
