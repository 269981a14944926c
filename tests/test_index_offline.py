"""The vendored ``registry-cache/`` serves every ``../shared/corpus`` lock file offline.

No network: sockets are disabled for the in-process checks, and the CLI run gets dead
proxies. Every locked registry package must be listed with the locked checksum and decode
into a summary; ripgrep and fd are vendored whole (for version resolution), the others
locked-only.
"""

from __future__ import annotations

import socket

import pytest

from conftest import CORPUS_DIR, CORPUS_PROJECTS, REPO_ROOT, run_cli
from nocargo_py.index import DirectoryIndex, Registries, verify_lock_checksums
from nocargo_py.lockfile import parse_lockfile
from nocargo_py.source import SourceId

REGISTRY_CACHE = REPO_ROOT / "registry-cache"
WHOLE = {"ripgrep", "fd"}


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("project", CORPUS_PROJECTS)
def test_corpus_lock_is_served_offline(project, no_network, tmp_path):
    lock_path = CORPUS_DIR / project / "Cargo.lock"
    lock = parse_lockfile(lock_path.read_text(), lock_path)
    regs = Registries(index_dir=REGISTRY_CACHE, offline=True, cache_root=tmp_path)
    verify_lock_checksums(lock, regs, lock_path=str(lock_path))
    index = regs.get(SourceId.crates_io())
    assert isinstance(index, DirectoryIndex)
    registry_pkgs = [p for p in lock.packages if p.source.is_registry()]
    assert registry_pkgs
    for pkg in registry_pkgs:
        summary = regs.summary(pkg.id)
        assert summary.checksum == pkg.checksum
        assert summary.package_id.name == pkg.name
        if project in WHOLE:
            assert index.is_complete(pkg.name), pkg.name
    # A fake dependency that is not vendored is reported, not fetched.
    from nocargo_py.index import OfflineMissing
    from nocargo_py.source import PackageId
    with pytest.raises(OfflineMissing) as info:
        regs.prefetch_packages([*(p.id for p in registry_pkgs),
                                PackageId("surely-not-vendored-x", "1.0.0", SourceId.crates_io()),
                                PackageId("nor-this-one-y", "1.0.0", SourceId.crates_io())])
    assert info.value.names == ("nor-this-one-y", "surely-not-vendored-x")


def test_registry_cache_stays_lean():
    total = sum(f.stat().st_size for f in REGISTRY_CACHE.rglob("*") if f.is_file())
    assert total < 20 * 1024 * 1024, f"registry-cache/ grew to {total / 2**20:.1f} MiB"


def test_cli_reads_the_vendored_index_offline(tmp_path):
    lock = (CORPUS_DIR / "ripgrep" / "Cargo.lock").read_text()
    version = lock.split('name = "memchr"\nversion = "', 1)[1].split('"', 1)[0]
    env = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "NOCARGO_PY_CACHE_DIR": str(tmp_path / "cache")}
    r = run_cli("--offline", "--index-dir", REGISTRY_CACHE, "index", "show", "memchr", version,
                cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"memchr {version}\nchecksum: ")
    r = run_cli("--frozen", "--index-dir", REGISTRY_CACHE, "index", "show", "memchr",
                cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert f"memchr {version}\n" in r.stdout and r.stdout.count("\n") > 20
