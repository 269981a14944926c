"""Index layout, ``dl`` templates and the lazy line scanner.

The scanner is checked against ``json.loads`` on generated lines (hypothesis), the layout
and ``dl`` expansion against the paths cargo itself requests from a loopback registry.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocargo_py.errors import NocargoError
from nocargo_py.index import (
    IndexFile,
    InvalidIndexEntry,
    MemoryIndex,
    NoSuchCrate,
    NoSuchVersion,
    RegistryConfig,
    RegistryIndex,
    dep_prefix,
    entry_to_summary,
    expand_dl,
    index_path,
)
from nocargo_py.index.lines import scan_line
from nocargo_py.source import SourceId
from nocargo_py.summary import DepKind, DepRef, DepFeatureRef, FeatureRef
from sparse_server import RegistryBuilder, serve_registry

CRATES_IO = SourceId.crates_io()


# -- layout -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, path", [
    ("a", "1/a"), ("AB", "2/ab"), ("abc", "3/a/abc"), ("Abc", "3/a/abc"),
    ("serde", "se/rd/serde"), ("MixedCase", "mi/xe/mixedcase"), ("foo-bar_baz", "fo/o-/foo-bar_baz"),
])
def test_index_path(name, path):
    assert index_path(name) == path


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", "a b", "x" * 65, "..", "é"])
def test_index_path_refuses_names_that_escape(bad):
    with pytest.raises(NocargoError):
        index_path(bad)


def test_dl_templates():
    cfg = RegistryConfig(dl="https://x/api/v1/crates")
    assert cfg.dl_url("serde", "1.0.0") == "https://x/api/v1/crates/serde/1.0.0/download"
    t = "https://x/{prefix}/{lowerprefix}/{crate}/{version}/{sha256-checksum}"
    assert expand_dl(t, "MixedCase", "1.2.3-rc.1+b", "ab" * 32) == \
        f"https://x/Mi/xe/mi/xe/MixedCase/1.2.3-rc.1+b/{'ab' * 32}"
    assert expand_dl("https://x/{crate}-{version}.crate", "Abc", "0.1.0", None) == \
        "https://x/Abc-0.1.0.crate"
    assert dep_prefix("Abc") == "3/A"
    with pytest.raises(NocargoError):
        expand_dl("https://x/{sha256-checksum}", "a", "1.0.0", None)


def test_config_json_parsing():
    cfg = RegistryConfig.parse(b'{"dl":"https://d","api":"https://a","auth-required":true}', "x")
    assert cfg == RegistryConfig("https://d", "https://a", True)
    for bad in (b"[]", b"{}", b'{"dl": 3}', b"not json", b'{"dl":"x","auth-required":"yes"}'):
        with pytest.raises(NocargoError) as info:
            RegistryConfig.parse(bad, "https://r/config.json")
        assert "https://r/config.json" in str(info.value)


# -- scanner vs json.loads ------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True)
_versions = st.from_regex(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]?)\.(0|[1-9])(-(alpha|rc)\.[1-9])?"
                          r"(\+[a-z0-9]{1,4})?", fullmatch=True)
# Feature names and values that collide with the scanned keys, with quotes and escapes.
_tricky = st.sampled_from(["vers", "v", "yanked", "cksum", "links", "rust_version", "name",
                           'a"vers":"9.9.9', "x\\", 'q"', "dep:links", "v/vers", "ü"])
_text = st.one_of(_names, _tricky)


@st.composite
def _entries(draw):
    name = draw(_names)
    deps = draw(st.lists(st.fixed_dictionaries(
        {"name": _text, "req": st.sampled_from(["^1", "*", "=0.1.2", ">= 1, < 2"]),
         "features": st.lists(_text, max_size=3), "optional": st.booleans(),
         "default_features": st.booleans(),
         "target": st.one_of(st.none(), st.just("cfg(unix)")),
         "kind": st.sampled_from(["normal", "dev", "build", None]),
         "registry": st.none(), "package": st.one_of(st.none(), _names)}), max_size=3))
    obj = {"name": name, "vers": draw(_versions), "deps": deps,
           "cksum": draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
           "features": draw(st.dictionaries(_text, st.lists(_text, max_size=3), max_size=4)),
           "yanked": draw(st.booleans())}
    for key, strat in (("links", st.one_of(st.none(), _text)),
                       ("v", st.sampled_from([1, 2, 3])),
                       ("rust_version", st.one_of(st.none(), st.just("1.60"))),
                       ("features2", st.dictionaries(_text, st.lists(_text, max_size=2),
                                                     max_size=2))):
        if draw(st.booleans()):
            obj[key] = draw(strat)
    keys = list(obj)
    order = draw(st.permutations(keys[1:]))  # `name` first (as every registry writes it) …
    if draw(st.booleans()):
        order = draw(st.permutations(keys))  # … or anywhere
        return {k: obj[k] for k in order}
    return {"name": obj["name"], **{k: obj[k] for k in order}}


@given(_entries(), st.sampled_from([(",", ":"), (", ", ": ")]), st.booleans())
def test_scan_agrees_with_json(obj, separators, ascii_):
    line = json.dumps(obj, separators=separators, ensure_ascii=ascii_).encode()
    iv = scan_line(line)
    assert iv is not None
    assert (iv.name, iv.version, iv.yanked, iv.cksum, iv.links, iv.rust_version, iv.v) == (
        obj["name"], obj["vers"], obj["yanked"], obj["cksum"], obj.get("links"),
        obj.get("rust_version"), obj.get("v", 1))


def test_scan_skips_what_cargo_skips():
    assert scan_line(b"") is None
    assert scan_line(b"   ") is None
    assert scan_line(b'{"name":"a","vers":"1.0.0","deps":[') is None  # truncated
    assert scan_line(b'{"name":"a","vers":"1.0","deps":[]}') is None  # not semver
    assert scan_line(b'{"name":"a"}') is None
    assert scan_line(b'["name","vers"]') is None


# -- IndexFile / summaries ------------------------------------------------------------------

def _file(*objs, raw: bytes = b"") -> IndexFile:
    data = b"\n".join(json.dumps(o).encode() for o in objs) + b"\n" + raw
    return IndexFile("foo", data, CRATES_IO, where="test")


def _entry(vers="1.0.0", **kw):
    return {"name": "foo", "vers": vers, "deps": [], "cksum": "00", "features": {},
            "yanked": False, **kw}


def test_versions_in_order_without_v3_lines():
    f = _file(_entry("0.1.0"), _entry("1.0.0", v=2), _entry("2.0.0", v=3), _entry("1.1.0"))
    assert [v.version for v in f.versions] == ["0.1.0", "1.0.0", "1.1.0"]
    with pytest.raises(NoSuchVersion):
        f.summary("2.0.0")


def test_summary_merges_features2_and_handles_renames():
    obj = _entry(
        deps=[
            {"name": "ser", "package": "serde", "req": "^1.0", "features": ["derive", ""],
             "optional": True, "default_features": False, "target": "cfg(unix)",
             "kind": "normal", "registry": None},
            {"name": "cc", "req": "^1", "kind": "build"},
            {"name": "other", "req": "^2", "kind": "dev",
             "registry": "sparse+https://example.com/index/"},
            {"name": "plain", "req": "=0.3.1", "optional": True},
        ],
        features={"default": ["std"], "std": []},
        features2={"serde": ["dep:ser", "ser?/std"], "std": ["plain/x"]},
        links="foo", rust_version="1.70", v=2)
    s = entry_to_summary(obj, CRATES_IO)
    ser, cc, other, plain = s.dependencies
    assert (ser.name, ser.rename, ser.name_in_toml) == ("serde", "ser", "ser")
    assert ser.features == ("derive",)  # cargo drops empty feature names
    assert (ser.optional, ser.default_features, ser.target) == (True, False, "cfg(unix)")
    assert ser.source == CRATES_IO and ser.registry is None
    assert cc.kind is DepKind.BUILD and cc.rename is None
    assert other.kind is DepKind.DEV
    assert other.source == SourceId.for_registry("sparse+https://example.com/index/")
    assert other.registry == "sparse+https://example.com/index/"
    assert s.declared_features == {"default": ("std",), "std": ("plain/x",),
                                   "serde": ("dep:ser", "ser?/std")}
    assert s.features["serde"] == (DepRef("ser"), DepFeatureRef("ser", "std", weak=True))
    # `ser` is used with dep: → no implicit feature; `plain` is not → implicit feature.
    assert "ser" not in s.features
    assert s.features["plain"] == (DepRef("plain"),)
    assert s.features["default"] == (FeatureRef("std"),)
    assert (s.links, s.rust_version, s.checksum, s.yanked) == ("foo", "1.70", "00", False)


def test_deps_of_another_registry_point_back_to_crates_io():
    src = SourceId.for_registry("sparse+https://example.com/index/")
    obj = _entry(deps=[{"name": "serde", "req": "^1",
                        "registry": "https://github.com/rust-lang/crates.io-index"},
                       {"name": "local", "req": "^1"}])
    s = entry_to_summary(obj, src)
    assert s.dependencies[0].source == CRATES_IO and s.dependencies[0].registry is None
    assert s.dependencies[1].source == src
    assert s.package_id.source == src


def test_broken_line_reported_when_asked_for():
    f = _file(_entry("1.0.0"),
              raw=b'{"name":"foo","vers":"1.1.0","deps":[{"name": 3}],"cksum":"00"}\n'
                  b'{"name":"foo","vers":"1.2.0","deps":[}],"cksum":"00"}\n')
    assert [v.version for v in f.versions] == ["1.0.0", "1.1.0", "1.2.0"]
    with pytest.raises(InvalidIndexEntry) as info:
        f.summary("1.1.0")
    assert "`foo v1.1.0`" in str(info.value)
    with pytest.raises(InvalidIndexEntry) as info:
        f.summary("1.2.0")
    assert "not valid JSON" in str(info.value)


def test_memory_index_is_a_registry_index():
    idx = MemoryIndex({"Foo": [{"vers": "1.0.0"}, {"vers": "1.0.1", "yanked": True}]})
    assert isinstance(idx, RegistryIndex)
    assert [(v.name, v.version, v.yanked) for v in idx.versions("foo")] == [
        ("Foo", "1.0.0", False), ("Foo", "1.0.1", True)]
    assert idx.summary("FOO", "1.0.1").yanked
    with pytest.raises(NoSuchCrate) as info:
        idx.versions("bar", required_by="package `x v1.0.0`")
    assert "required by package `x v1.0.0`" in str(info.value)
    assert idx.dl_url("Foo", "1.0.0") == "https://static.crates.io/crates/Foo/1.0.0/download"


# -- cargo as the oracle for paths and download URLs --------------------------------------

@pytest.mark.slow
def test_index_paths_and_dl_urls_match_cargo(tmp_path):
    """cargo fetches through our server; the index paths and .crate URLs it requests must be
    exactly the ones :func:`index_path` and :meth:`RegistryConfig.dl_url` compute."""
    reg = tmp_path / "reg"
    b = RegistryBuilder(reg)
    names = ["a", "AB", "Abc", "MixedCase", "foo-bar_baz"]
    for n in names:
        b.add(n, "1.0.0-rc.1+meta" if n == "Abc" else "1.0.0")
    template = "{url}dl2/{{prefix}}/{{lowerprefix}}/{{crate}}/{{version}}/{{sha256-checksum}}"
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "lib.rs").write_text("")
    deps = "\n".join(f'{n} = "={e["vers"]}"' for n in names for e in b.entries[n])
    (proj / "Cargo.toml").write_text(
        f'[package]\nname = "p"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\n{deps}\n')
    with serve_registry(reg) as server:
        cfg = RegistryConfig(dl=template.format(url=server.url))
        server.set_file("config.json", json.dumps({"dl": cfg.dl}).encode())
        expected = {}
        for n in names:
            e = b.entries[n][0]
            url = cfg.dl_url(n, e["vers"], e["cksum"])
            rel = url.removeprefix(server.url)
            server.set_file(rel, (b.crates_dir / f"{n}-{e['vers']}.crate").read_bytes())
            expected[rel] = n
        (proj / ".cargo").mkdir()
        (proj / ".cargo" / "config.toml").write_text(
            f'[source.crates-io]\nreplace-with = "t"\n[source.t]\nregistry = "{server.index_url}"\n'
            '[net]\nretry = 0\n')
        env = dict(os.environ, CARGO_HOME=str(tmp_path / "home"))
        r = subprocess.run(["cargo", "fetch"], cwd=proj, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        requested = {x.path for x in server.log}
        assert {p for p in requested if p.startswith("dl2/")} == set(expected)
        assert {index_path(n) for n in names} <= requested
        assert {p for p in requested if not p.startswith("dl2/")} == \
            {index_path(n) for n in names} | {"config.json"}
