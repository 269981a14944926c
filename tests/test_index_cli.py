"""``nocargo-py index show`` / ``index vendor`` end to end, against a loopback registry that
crates.io is replaced with through ``.cargo/config.toml`` (as cargo would see it)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from sparse_server import RegistryBuilder, cargo_config_for, index_rel_path, serve_registry


@pytest.fixture
def registry(tmp_path):
    b = RegistryBuilder(tmp_path / "reg")
    b.add("leaf", "0.1.0")
    b.add("leaf", "0.1.1", yanked=True)
    b.add("leaf", "0.2.0", features={"default": ["std"], "std": []})
    b.add("mid", "1.0.0", deps=[{"name": "leaf", "req": "^0.2"}])
    b.add("mid", "1.1.0", deps=[
        {"name": "leaf", "req": "^0.2", "features": ["std"], "default_features": False},
        {"name": "lf", "package": "leaf", "req": "^0.1", "optional": True,
         "target": "cfg(unix)"},
        {"name": "cc", "req": "^1", "kind": "build", "optional": True}],
        features={"default": [], "old": ["dep:lf"], "weak": ["lf?/std"]})
    b.add("cc", "1.0.0")
    return b


def _project(root: Path, server, deps: str = 'mid = "1"') -> Path:
    proj = root / "proj"
    (proj / "src").mkdir(parents=True, exist_ok=True)
    (proj / "src" / "lib.rs").write_text("")
    (proj / "Cargo.toml").write_text(
        f'[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'
        f'[dependencies]\n{deps}\n')
    (proj / ".cargo").mkdir(exist_ok=True)
    (proj / ".cargo" / "config.toml").write_text(cargo_config_for(server))
    return proj


def _env(tmp_path: Path) -> dict:
    return {"CARGO_HOME": str(tmp_path / "cargo-home"),
            "NOCARGO_PY_CACHE_DIR": str(tmp_path / "nc-cache")}


def _generate_lockfile(proj: Path, tmp_path: Path) -> str:
    env = {**os.environ, **_env(tmp_path)}
    r = subprocess.run(["cargo", "generate-lockfile"], cwd=proj, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return (proj / "Cargo.lock").read_text()


def test_show_lists_versions_and_one_version(tmp_path, registry):
    with serve_registry(registry.root) as server:
        proj = _project(tmp_path, server)
        r = run_cli("index", "show", "leaf", cwd=proj, env=_env(tmp_path))
        assert r.returncode == 0, r.stderr
        assert r.stdout == "leaf 0.1.0\nleaf 0.1.1 (yanked)\nleaf 0.2.0\n"
        r = run_cli("index", "show", "mid", "1.1.0", "--format", "json", cwd=proj,
                    env=_env(tmp_path))
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        entry = registry.entries["mid"][1]
        assert data["cksum"] == entry["cksum"]
        assert data["source"] == "registry+https://github.com/rust-lang/crates.io-index"
        assert data["features"] == {"default": [], "old": ["dep:lf"], "weak": ["lf?/std"]}
        assert [(d["name"], d["rename"], d["req"], d["kind"], d["optional"], d["target"])
                for d in data["dependencies"]] == [
            ("leaf", None, "^0.2", "normal", False, None),
            ("leaf", "lf", "^0.1", "normal", True, "cfg(unix)"),
            ("cc", None, "^1", "build", True, None)]
        r = run_cli("index", "show", "mid", "1.1.0", cwd=proj, env=_env(tmp_path))
        assert "  lf \"^0.1\" (package = leaf; optional; target = cfg(unix))" in r.stdout
        assert '  weak = ["lf?/std"]' in r.stdout
        # Everything came from the loopback server (crates.io replaced by config).
        assert {x.path for x in server.log} == {"config.json", index_rel_path("leaf"),
                                                index_rel_path("mid")}


def test_show_errors_are_one_line_without_traceback(tmp_path, registry):
    with serve_registry(registry.root) as server:
        proj = _project(tmp_path, server)
        r = run_cli("index", "show", "nosuch", cwd=proj, env=_env(tmp_path))
        assert r.returncode == 101
        # cargo's wording: the replacement's name in the status line, then the error.
        assert r.stderr.splitlines()[:2] == [
            "    Updating `test-registry` index",
            "error: no matching package named `nosuch` found"]
        assert "Traceback" not in r.stderr
        r = run_cli("index", "show", "leaf", "9.9.9", cwd=proj, env=_env(tmp_path))
        assert r.returncode == 101 and "`9.9.9`" in r.stderr
        r = run_cli("index", "show", "../x", cwd=proj, env=_env(tmp_path))
        assert r.returncode == 101 and "invalid crate name" in r.stderr


def test_git_protocol_registries_are_refused_clearly(tmp_path):
    (tmp_path / ".cargo").mkdir()
    (tmp_path / ".cargo" / "config.toml").write_text(
        '[registries.corp]\nindex = "https://git.example.com/index"\n')
    r = run_cli("index", "show", "--registry", "corp", "foo", cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 101
    assert "git protocol" in r.stderr and "https://git.example.com/index" in r.stderr
    r = run_cli("index", "show", "--registry", "nope", "foo", cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 101 and "`nope`" in r.stderr
    (tmp_path / ".cargo" / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "vendor"\n')
    r = run_cli("index", "show", "foo", cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 101 and "`directory` source" in r.stderr


@pytest.mark.slow
def test_vendor_whole_and_locked_only_then_read_offline(tmp_path, registry):
    with serve_registry(registry.root) as server:
        proj = _project(tmp_path, server)
        lock = _generate_lockfile(proj, tmp_path)
        assert 'name = "mid"\nversion = "1.1.0"' in lock
        whole, partial = tmp_path / "whole", tmp_path / "partial"
        r = run_cli("index", "vendor", "--out", whole, cwd=proj, env=_env(tmp_path))
        assert r.returncode == 0, r.stderr
        assert "2 index file(s) (2 whole, 0 locked-only)" in r.stderr
        # Config is found from the current directory (as cargo does), the lock from
        # --manifest-path.
        (proj / "sub").mkdir()
        r = run_cli("index", "vendor", "--locked-only", "--out", partial, "--manifest-path",
                    proj / "Cargo.toml", cwd=proj / "sub", env=_env(tmp_path))
        assert r.returncode == 0, r.stderr
        n_requests = len(server.log)
    # Whole files are byte-for-byte what the registry serves.
    for name in ("leaf", "mid"):
        assert (whole / index_rel_path(name)).read_bytes() == \
            (registry.root / index_rel_path(name)).read_bytes()
    assert json.loads((whole / "vendor.json").read_text()) == {"partial": []}
    # Locked-only: exactly the locked versions' lines.
    assert [json.loads(x)["vers"] for x in
            (partial / index_rel_path("leaf")).read_text().splitlines()] == ["0.2.0"]
    assert [json.loads(x)["vers"] for x in
            (partial / index_rel_path("mid")).read_text().splitlines()] == ["1.1.0"]
    assert json.loads((partial / "vendor.json").read_text()) == {"partial": ["leaf", "mid"]}
    # The server is gone: both directories work offline.
    env = {**_env(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    for d, expected in ((whole, "leaf 0.1.0\nleaf 0.1.1 (yanked)\nleaf 0.2.0\n"),
                        (partial, "leaf 0.2.0\n")):
        r = run_cli("--offline", "--index-dir", d, "index", "show", "leaf", cwd=tmp_path, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout == expected
    # Merging: whole files replace partial ones; the manifest follows.
    r = run_cli("--offline", "--index-dir", whole, "index", "vendor", "--out", partial,
                "--lockfile", proj / "Cargo.lock", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (partial / index_rel_path("leaf")).read_bytes() == \
        (registry.root / index_rel_path("leaf")).read_bytes()
    assert json.loads((partial / "vendor.json").read_text()) == {"partial": []}
    assert n_requests > 0


@pytest.mark.slow
def test_checksum_mismatch_is_an_error_naming_the_crate(tmp_path, registry):
    with serve_registry(registry.root) as server:
        proj = _project(tmp_path, server)
        lock = _generate_lockfile(proj, tmp_path)
        cksum = registry.entries["leaf"][2]["cksum"]
        assert cksum in lock
        (proj / "Cargo.lock").write_text(lock.replace(cksum, "f" * 64))
        r = run_cli("index", "vendor", "--out", tmp_path / "v", cwd=proj, env=_env(tmp_path))
        assert r.returncode == 101
        assert "`leaf v0.2.0`" in r.stderr and "f" * 64 in r.stderr and cksum in r.stderr
        assert not (tmp_path / "v" / index_rel_path("leaf")).exists()
        # cargo refuses the same lock file (its oracle for the same tampering).
        env = {**os.environ, **_env(tmp_path)}
        c = subprocess.run(["cargo", "fetch"], cwd=proj, env=env, capture_output=True,
                           text=True, timeout=300)
        assert c.returncode != 0 and "checksum for `leaf v0.2.0` changed" in c.stderr


def test_offline_with_an_empty_cache_lists_every_missing_crate(tmp_path):
    lock = tmp_path / "Cargo.lock"
    lock.write_text(
        "version = 4\n\n"
        '[[package]]\nname = "alpha"\nversion = "1.0.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        f'checksum = "{"0" * 64}"\n\n'
        '[[package]]\nname = "beta"\nversion = "2.0.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        f'checksum = "{"1" * 64}"\n')
    r = run_cli("--offline", "index", "vendor", "--lockfile", lock, "--out", tmp_path / "o",
                cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 101
    assert "2 crate(s)" in r.stderr and "`alpha`, `beta`" in r.stderr
    r = run_cli("--index-dir", tmp_path / "nope", "index", "show", "serde", cwd=tmp_path,
                env=_env(tmp_path))
    assert r.returncode == 101 and "does not exist" in r.stderr
