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


def _meta_dep(d: dict) -> tuple:
    return (d["name"], d["rename"], d["kind"] or "normal", d["target"], d["optional"],
            d["uses_default_features"], tuple(d["features"]), d["req"], d["registry"])


def _our_dep(d) -> tuple:
    # `target` is kept as written in the index; cargo metadata prints the parsed platform.
    from nocargo_py.cfg import Platform
    target = str(Platform.parse(d.target)) if d.target is not None else None
    return (d.name, d.rename, d.kind.value, target, d.optional, d.default_features,
            tuple(d.features), d.req, d.registry)


@pytest.mark.slow
@pytest.mark.parametrize("project", ["ripgrep", "fd"])
def test_index_summaries_match_cargo_metadata(project, tmp_path):
    """cargo's view of every locked registry package (``cargo metadata``, which downloads the
    crates) against our summaries from the vendored index: dependencies (renames, kinds,
    targets, optional, default-features, features, req) and the effective feature map
    (implicit optional-dependency features included, value order kept), links, rust-version.
    """
    import json
    import os
    import shutil
    import subprocess

    from conftest import REPO_ROOT

    proj = tmp_path / project
    shutil.copytree(CORPUS_DIR / project, proj)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_")}
    env.update({"CARGO_HOME": str(tmp_path / "home"), "RUSTUP_TOOLCHAIN": "stable"})
    r = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"], cwd=proj,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout)
    regs = Registries(index_dir=REPO_ROOT / "registry-cache", offline=True,
                      cache_root=tmp_path / "cache")
    checked = 0
    for pkg in meta["packages"]:
        if not (pkg["source"] or "").startswith("registry+"):
            continue
        from nocargo_py.source import PackageId
        s = regs.summary(PackageId(pkg["name"], pkg["version"], CRATES_IO))
        assert sorted(map(_our_dep, s.dependencies), key=repr) == \
            sorted(map(_meta_dep, pkg["dependencies"]), key=repr), pkg["name"]
        assert {k: [str(v) for v in vs] for k, vs in s.features.items()} == pkg["features"], \
            pkg["name"]
        assert s.links == pkg["links"], pkg["name"]
        assert s.rust_version == pkg["rust_version"], pkg["name"]
        checked += 1
    assert checked > 40
