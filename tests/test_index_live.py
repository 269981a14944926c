"""A handful of real crates from https://index.crates.io/ (network tier)."""

from __future__ import annotations

import hashlib

import pytest
import requests

from conftest import CORPUS_DIR
from nocargo_py.index import HttpClient, NoSuchCrate, Registries
from nocargo_py.lockfile import parse_lockfile
from nocargo_py.source import SourceId

pytestmark = pytest.mark.network
CRATES_IO = SourceId.crates_io()


def test_live_crates_io(tmp_path):
    lock_path = CORPUS_DIR / "ripgrep" / "Cargo.lock"
    lock = parse_lockfile(lock_path.read_text(), lock_path)
    names = ["serde", "cc", "log", "cfg-if", "memchr", "Inflector"]
    regs = Registries(cache_root=tmp_path, client=HttpClient(retries=3))
    index = regs.get(CRATES_IO)
    index.prefetch(names)
    for name in names:
        versions = index.versions(name)
        assert len(versions) > 5, name
        assert all(v.cksum and len(v.cksum) == 64 for v in versions)
    assert index.versions("inflector")[0].name == "Inflector"  # original case kept
    # The lock's checksums are what the live index says.
    for pkg in lock.packages:
        if pkg.name in ("serde", "memchr", "cfg-if", "log", "cc"):
            assert regs.summary(pkg.id).checksum == pkg.checksum, pkg.name
    serde = next(p for p in lock.packages if p.name == "serde")
    summary = regs.summary(serde.id)
    assert "std" in summary.declared_features
    # Download one small .crate through the registry's own dl template: checksum matches.
    cfg_if = next(v for v in index.versions("cfg-if") if v.version == "1.0.0")
    url = index.dl_url("cfg-if", "1.0.0", cfg_if.cksum)
    body = requests.get(url, timeout=60).content
    assert hashlib.sha256(body).hexdigest() == cfg_if.cksum
    with pytest.raises(NoSuchCrate):
        index.versions("this-crate-does-not-exist-nocargo-py-test")
    # A second run works from the cache (revalidated), and offline from the cache alone.
    again = Registries(cache_root=tmp_path, client=HttpClient(retries=3))
    again.get(CRATES_IO).prefetch(names)
    offline = Registries(cache_root=tmp_path, offline=True)
    assert [v.version for v in offline.versions("serde", CRATES_IO)] == \
        [v.version for v in index.versions("serde")]
