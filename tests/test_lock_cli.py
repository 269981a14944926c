"""``nocargo-py lock`` as a command: files written or left alone, flags, and errors a person
can act on (exit 101, one ``error:`` line plus the explanation, never a traceback).

The registry is a loopback sparse server (``tests/sparse_server.py``); that cargo reports
the same situations is checked in ``test_lock_sources_cargo.py`` (slow tier).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from conftest import run_cli
from sparse_server import (
    RegistryBuilder, cargo_config_for, index_rel_path, serve_registry, top_leaf_world,
)

ROOT = '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'


@pytest.fixture
def world(tmp_path):
    """(registry builder, workspace dir, run) — ``run(*args)`` runs the CLI in the workspace."""
    reg = RegistryBuilder(tmp_path / "index")
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "lib.rs").write_text("")
    servers = []

    def publish(name, version, deps=(), **kw):
        cksum = hashlib.sha256(f"{name}{version}".encode()).hexdigest()
        reg.add(name, version, deps=[{"name": n, "req": r} for n, r in deps], crate=False,
                extra={"cksum": cksum}, **kw)

    def run(*args):
        if not servers:
            server = serve_registry(tmp_path / "index")
            servers.append(server)
            srv = server.__enter__()
            (ws / ".cargo").mkdir(exist_ok=True)
            (ws / ".cargo" / "config.toml").write_text(cargo_config_for(srv))
        return run_cli(*args, cwd=ws, env={"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache"),
                                          "CARGO_HOME": str(tmp_path / "home")})

    yield publish, ws, run
    for server in servers:
        server.__exit__(None, None, None)


def _no_traceback(res) -> None:
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr


def _error(res) -> str:
    """stderr from the ``error:`` line on (status lines such as ``Updating`` come first)."""
    at = res.stderr.find("error: ")
    assert at >= 0, res.stderr
    return res.stderr[at:]


def test_lock_creates_the_file_then_leaves_it_alone(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    publish("a", "1.1.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    res = run("lock")
    assert res.returncode == 0, res.stderr
    assert "Locking 1 package to latest compatible version" in res.stderr
    lock = ws / "Cargo.lock"
    text = lock.read_text()
    assert 'name = "a"\nversion = "1.1.0"' in text
    stamp = lock.stat().st_mtime_ns
    os.utime(lock, ns=(stamp - 10**9, stamp - 10**9))
    res = run("lock")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert lock.read_text() == text
    assert lock.stat().st_mtime_ns == stamp - 10**9  # not rewritten


def test_checking_a_lock_fetches_missing_index_files_together_and_no_cached_one(tmp_path):
    """With a lock file, an index file the cache has (listing the locked version) is not
    fetched again (cargo's lazy update); the ones missing are fetched concurrently before
    the resolve, not one round trip after another as the resolver meets them."""
    reg = RegistryBuilder(tmp_path / "index")
    leaves = [f"leaf{i}" for i in range(5)]
    for name in leaves:
        reg.add(name, "1.0.0", crate=False)
    reg.add("top", "1.0.0", deps=[{"name": n, "req": "^1"} for n in leaves], crate=False)
    ws, other = tmp_path / "ws", tmp_path / "other"
    for d, deps in ((ws, 'top = "1"\n'), (other, 'leaf0 = "1"\n')):
        (d / "src").mkdir(parents=True)
        (d / "src" / "lib.rs").write_text("")
        (d / "Cargo.toml").write_text(ROOT + deps)
    env = {"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache"), "CARGO_HOME": str(tmp_path / "home")}
    with serve_registry(tmp_path / "index") as server:
        for d in (ws, other):
            (d / ".cargo").mkdir()
            (d / ".cargo" / "config.toml").write_text(cargo_config_for(server))
        assert run_cli("lock", cwd=ws, env=env).returncode == 0
        text = (ws / "Cargo.lock").read_text()
        cold = {**env, "NOCARGO_PY_CACHE_DIR": str(tmp_path / "cold")}
        assert run_cli("lock", cwd=other, env=cold).returncode == 0  # caches leaf0 only
        server.clear_log()
        server.slow_delay = 0.5
        for name in ["top", *leaves]:
            server.inject(index_rel_path(name), "slow")
        res = run_cli("lock", cwd=ws, env=cold)
        assert res.returncode == 0, res.stderr
        assert res.stderr.strip() == "Updating `test-registry` index", res.stderr
        assert (ws / "Cargo.lock").read_text() == text
        fetched = sorted(r.path for r in server.log if r.path != "config.json")
        assert fetched == sorted(index_rel_path(n) for n in ["top", *leaves[1:]])
        assert server.max_slow_in_flight > 1


def test_gen_with_an_up_to_date_lock_and_a_warm_cache_sends_no_request(tmp_path):
    """As `cargo metadata` with every locked version in its cache ("using local … as user
    did not request update"): the second `gen` sends nothing, config.json included, and
    says nothing; the plan is the one the network gave. Once the lock needs a version the
    cache lacks, the registry is asked again (config.json first) and says `Updating`."""
    reg, ws = top_leaf_world(tmp_path)
    env = {"NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache"), "CARGO_HOME": str(tmp_path / "home")}
    with serve_registry(tmp_path / "index") as server:
        (ws / ".cargo").mkdir()
        (ws / ".cargo" / "config.toml").write_text(cargo_config_for(server))
        first = run_cli("gen", cwd=ws, env=env)
        assert first.returncode == 0, first.stderr
        assert "Updating `test-registry` index" in first.stderr
        assert {r.path for r in server.log} >= {"config.json", index_rel_path("top"),
                                                  index_rel_path("leaf")}
        plan = (ws / "Cargo.nix").read_text()
        (ws / "Cargo.nix").unlink()
        server.clear_log()
        again = run_cli("gen", cwd=ws, env=env)
        assert again.returncode == 0, again.stderr
        assert server.log == [] and "Updating" not in again.stderr, again.stderr
        assert (ws / "Cargo.nix").read_text() == plan
        # a newer leaf, required by the manifest: not in the cache, so asked for
        reg.add("leaf", "1.1.0")
        with open(ws / "Cargo.toml", "a") as manifest:
            manifest.write('leaf = "1.1"\n')
        newer = run_cli("gen", cwd=ws, env=env)
        assert newer.returncode == 0, newer.stderr
        assert "Updating `test-registry` index" in newer.stderr
        paths = [r.path for r in server.log]
        assert paths[0] == "config.json" and index_rel_path("leaf") in paths
        assert 'version = "1.1.0"' in (ws / "Cargo.lock").read_text()


def test_update_reports_what_changes(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    publish("b", "0.1.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    assert run("lock").returncode == 0
    publish("a", "1.2.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1.2"\nb = "0.1"\n')
    res = run("lock")
    assert res.returncode == 0, res.stderr
    assert "Updating a v1.0.0 -> v1.2.0" in res.stderr
    assert "Adding b v0.1.0" in res.stderr


def test_dry_run_and_stdout_write_nothing(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    res = run("lock", "--dry-run")
    assert res.returncode == 0 and "not updating lockfile due to dry run" in res.stderr
    assert not (ws / "Cargo.lock").exists()
    res = run("lock", "--stdout")
    assert res.returncode == 0 and res.stdout.startswith("# This file is automatically @generated")
    assert not (ws / "Cargo.lock").exists()


def test_locked_without_a_lock_file(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    res = run("--locked", "lock")
    assert res.returncode == 101
    assert _error(res).startswith("error: cannot create the lock file ")
    assert "because --locked was passed to prevent this" in res.stderr
    _no_traceback(res)
    assert not (ws / "Cargo.lock").exists()


def test_conflicting_exact_requirements_are_explained(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    publish("a", "1.1.0")
    publish("b", "1.0.0", [("a", "=1.1.0")])
    (ws / "Cargo.toml").write_text(ROOT + 'a = "=1.0.0"\nb = "1"\n')
    res = run("lock")
    assert res.returncode == 101
    _no_traceback(res)
    err = _error(res)
    assert err.startswith("error: failed to select a version for `a`.")
    assert "required by package `b v1.0.0`" in err
    assert "versions that meet the requirements `=1.1.0` are: 1.1.0" in err
    assert "previously selected package `a v1.0.0`" in err
    assert 'which satisfies dependency `a = "=1.0.0"` of package `root v0.1.0' in err
    assert not (ws / "Cargo.lock").exists()


def test_missing_crate_names_who_wants_it(world):
    publish, ws, run = world
    publish("a", "1.0.0", [("nope", "1")])
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    res = run("lock")
    assert res.returncode == 101
    _no_traceback(res)
    assert _error(res).startswith("error: no matching package named `nope` found")
    assert "required by package `a v1.0.0`" in res.stderr


def test_no_version_matches(world):
    publish, ws, run = world
    publish("a", "1.0.0")
    publish("a", "2.0.0-rc.1")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "2"\n')
    res = run("lock")
    assert res.returncode == 101
    _no_traceback(res)
    assert _error(res).startswith('error: failed to select a version for the requirement `a = "^2"`')
    assert "candidate versions found which didn't match: 2.0.0-rc.1, 1.0.0" in res.stderr
    assert 'a = { version = "2.0.0-rc.1" }' in res.stderr


def test_links_clash_is_explained(world):
    publish, ws, run = world
    publish("x-sys", "1.0.0", links="x")
    publish("y-sys", "1.0.0", links="x")
    (ws / "Cargo.toml").write_text(ROOT + 'x-sys = "1"\ny-sys = "1"\n')
    res = run("lock")
    assert res.returncode == 101
    _no_traceback(res)
    assert "links to the native library `x`" in res.stderr
    assert "only one package in the dependency graph may specify the same links value" in res.stderr


def test_offline_without_cached_index_data(world, tmp_path):
    publish, ws, run = world
    publish("a", "1.0.0")
    (ws / "Cargo.toml").write_text(ROOT + 'a = "1"\n')
    res = run("--offline", "lock")
    assert res.returncode == 101
    _no_traceback(res)
    assert "no matching package named `a` found" in res.stderr
    assert "index data was not available for `a`" in res.stderr
    # online once fills the cache; offline then works
    assert run("lock").returncode == 0
    (ws / "Cargo.lock").unlink()
    res = run("--offline", "lock")
    assert res.returncode == 0, res.stderr
    assert (ws / "Cargo.lock").exists()
