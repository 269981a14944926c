"""`parse_manifest`: the typed model of one Cargo.toml, and `toml_util`'s located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.manifest import (
    INHERIT,
    RustVersion,
    parse_edition,
    parse_manifest,
    parse_manifest_text,
    validate_feature_name,
    validate_package_name,
)
from nocargo_py.semver_req import Version
from nocargo_py.toml_util import describe_value, load_toml, parse_toml
from nocargo_py.targets import normalize_path

HEAD = '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n'


def parse(text: str, path: str = "/x/Cargo.toml"):
    return parse_manifest_text(text, path)


def test_package_fields_and_inherit_markers():
    m = parse('[package]\nname = "a"\nversion.workspace = true\nedition = { workspace = true }\n'
              'rust-version = "1.70"\nauthors = ["x"]\npublish = false\nreadme = false\n'
              'build = "b.rs"\nlinks = "z"\nautobins = false\nresolver = "2"\n'
              '[package.metadata.x]\ny = [1, 2]\n')
    p = m.package
    assert p.name == "a" and p.version is INHERIT and p.edition is INHERIT
    assert p.rust_version == RustVersion(1, 70) and str(p.rust_version) == "1.70"
    assert p.authors == ("x",) and p.publish is False and p.readme is False
    assert p.build == "b.rs" and p.links == "z" and p.autobins is False and p.resolver == "2"
    assert p.metadata == {"x": {"y": [1, 2]}}
    assert not m.is_virtual and m.workspace is None


def test_version_is_parsed_strictly():
    m = parse(HEAD)
    assert m.package.version == Version(0, 1, 0)


def test_dependency_tables_in_cargo_order():
    m = parse(HEAD + '[dependencies]\nzeta = "1"\nalpha = { version = "2", optional = true }\n'
              '[dev-dependencies]\nd = "1"\n[build-dependencies]\nb = "1"\n'
              "[target.'cfg(unix)'.dependencies]\nu = \"1\"\n"
              "[target.'cfg(unix)'.dev-dependencies]\nud = \"1\"\n"
              "[target.'cfg(unix)'.build-dependencies]\nub = \"1\"\n"
              '[target.aarch64-apple-darwin.dependencies]\nmac = "1"\n')
    order = [(kind, plat, spec.name_in_toml) for kind, plat, spec in m.all_dependency_specs()]
    assert order == [
        ("normal", None, "alpha"), ("normal", None, "zeta"), ("dev", None, "d"),
        ("build", None, "b"), ("normal", "aarch64-apple-darwin", "mac"),
        ("normal", "cfg(unix)", "u"), ("build", "cfg(unix)", "ub"), ("dev", "cfg(unix)", "ud"),
    ]
    alpha = m.dependencies[0]
    assert alpha.optional is True and alpha.version == "2" and alpha.key == ("dependencies", "alpha")


def test_dependency_forms():
    m = parse(HEAD + '[dependencies]\n'
              'a = { workspace = true, features = ["x"], optional = true, default-features = false }\n'
              'b = { git = "https://e.com/r", rev = "abc", package = "bb" }\n'
              'c = { path = "../c", default_features = false }\n')
    a, b, c = m.dependencies
    assert a.inherit and a.features == ("x",) and a.optional and a.default_features is False
    assert b.git == "https://e.com/r" and b.rev == "abc" and b.package == "bb"
    assert c.path == "../c" and c.effective_default_features is False


def test_workspace_section():
    m = parse('[workspace]\nmembers = ["a/*"]\nexclude = ["x"]\ndefault-members = ["a/b"]\n'
              'resolver = "3"\n[workspace.package]\nversion = "1.0.0"\nedition = "2024"\n'
              '[workspace.dependencies]\nserde = { version = "1", features = ["derive"] }\n'
              '[workspace.metadata]\nk = "v"\n')
    assert m.is_virtual
    ws = m.workspace
    assert ws.members == ("a/*",) and ws.exclude == ("x",) and ws.default_members == ("a/b",)
    assert ws.resolver == "3" and ws.package["version"] == Version(1, 0, 0)
    assert ws.dependencies["serde"].features == ("derive",)
    assert ws.metadata == {"k": "v"}


def test_targets_and_features():
    m = parse(HEAD + '[lib]\nproc-macro = true\n[[bin]]\nname = "x"\nrequired-features = ["f"]\n'
              '[[example]]\nname = "e"\ncrate-type = ["cdylib"]\n[features]\nf = []\ndefault = ["f"]\n')
    assert m.lib.is_proc_macro and m.bins[0].name == "x" and m.bins[0].required_features == ("f",)
    assert m.examples[0].crate_types == ("cdylib",)
    assert m.features == {"default": ("f",), "f": ()}


def test_profiles():
    m = parse(HEAD + '[profile.dev]\nopt-level = "s"\ndebug = "line-tables-only"\n'
              '[profile.dev.package.foo]\nopt-level = 3\n[profile.dev.build-override]\n'
              'debug = false\n[profile.fast]\ninherits = "release"\nlto = true\n')
    dev = m.profiles["dev"]
    assert dev.opt_level == "s" and dev.debug == "line-tables-only"
    assert dev.package[0][0] == "foo" and dev.package[0][1].opt_level == 3
    assert dev.build_override.debug is False
    assert m.profiles["fast"].inherits == "release" and m.profiles["fast"].lto is True


def test_unused_keys_are_warnings():
    m = parse(HEAD + 'colour = "x"\n[dependencies]\nfoo = { version = "1", frobnicate = 1 }\n'
              '[nonsense]\n')
    assert "unused manifest key: package.colour" in m.warnings
    assert "unused manifest key: dependencies.foo.frobnicate" in m.warnings
    assert "unused manifest key: nonsense" in m.warnings


def test_type_errors_point_at_the_value():
    with pytest.raises(NocargoError) as info:
        parse(HEAD + "[dependencies]\nfoo = { version = 1 }\n")
    err = info.value
    assert err.message == "invalid type: integer `1`, expected a string"
    assert err.location.key == "dependencies.foo.version"
    assert (err.location.line, err.location.column) == (6, 19)


@pytest.mark.parametrize("name", ["a", "a-b", "a_b", "_x", "été", "x1"])
def test_valid_package_names(name):
    validate_package_name(name)


@pytest.mark.parametrize("name,message", [
    ("", "package name cannot be empty"),
    ("1a", "the name cannot start with a digit"),
    ("-a", "the first character must be a Unicode XID start character"),
    ("a b", "characters must be Unicode XID characters"),
    ("a.b", "invalid character `.`"),
])
def test_invalid_package_names(name, message):
    with pytest.raises(NocargoError, match=message.replace("(", r"\(")):
        validate_package_name(name)


@pytest.mark.parametrize("name,ok", [("c++20", True), ("128bit", True), ("_foo", True),
                                     ("foo.bar", True), ("a b", False), ("", False), ("-x", False)])
def test_feature_names(name, ok):
    if ok:
        validate_feature_name(name)
    else:
        with pytest.raises(NocargoError):
            validate_feature_name(name)


@pytest.mark.parametrize("text,ok", [("2015", True), ("2024", True), ("2027", False), ("x", False)])
def test_editions(text, ok):
    if ok:
        assert parse_edition(text) == text
    else:
        with pytest.raises(NocargoError):
            parse_edition(text)


@pytest.mark.parametrize("text,expected", [("1", "1"), ("1.70", "1.70"), ("1.70.1", "1.70.1")])
def test_rust_version(text, expected):
    assert str(RustVersion.parse(text)) == expected


@pytest.mark.parametrize("text,message", [
    ("1.2.3-beta", "unexpected prerelease field"), ("1.2+b", "unexpected build field"),
    ("^1.2", "unexpected version requirement"), ("1.x", 'expected a version like "1.32"'),
])
def test_rust_version_errors(text, message):
    with pytest.raises(NocargoError, match=message):
        RustVersion.parse(text)


def test_load_toml_reports_line_and_column(tmp_path):
    path = tmp_path / "Cargo.toml"
    path.write_text('[package]\nname = "a"\nname = "b"\n')
    with pytest.raises(NocargoError) as info:
        load_toml(path)
    assert info.value.location.path == path and info.value.location.line == 3


def test_load_toml_invalid_utf8(tmp_path):
    path = tmp_path / "Cargo.toml"
    path.write_bytes(b'[package]\nname = "\xc3\x28"\n')
    with pytest.raises(NocargoError) as info:
        load_toml(path)
    assert "valid UTF-8" in info.value.message
    assert (info.value.location.line, info.value.location.column) == (2, 9)


def test_load_toml_missing_file(tmp_path):
    with pytest.raises(NocargoError, match="failed to read"):
        parse_manifest(tmp_path / "Cargo.toml")


def test_toml_1_1_is_accepted():
    doc = parse_toml('a = { x = 1,\n  y = 2, }\n', "/x/Cargo.toml")
    assert doc.data == {"a": {"x": 1, "y": 2}}


def test_locate_keys():
    doc = parse_toml('[a]\nb.c = 1\n[[d]]\ne = 1\n[[d]]\ne = { f = [1, 2] }\n'
                     "[g.'h.i']\nj = 'k'\n", "/x/C.toml")
    assert doc.locate(("a", "b", "c")) == (2, 7)
    assert doc.locate(("d", 1, "e", "f", 1)) == (6, 15)
    assert doc.locate(("g", "h.i", "j")) == (8, 5)
    assert doc.locate(("zzz",)) is None


@pytest.mark.parametrize("value,text", [(1, "integer `1`"), ("x", 'string "x"'),
                                        (True, "boolean `true`"), ([], "sequence"),
                                        ({}, "map"), (1.5, "floating point `1.5`")])
def test_describe_value(value, text):
    assert describe_value(value) == text


@pytest.mark.parametrize("path,expected", [("a/../b", "b"), ("./a/./b", "a/b"), ("../x", "../x"),
                                           ("a/../../x", "../x"), ("/a/../b", "/b"), (".", "")])
def test_normalize_path(path, expected):
    assert str(normalize_path(path)) == (expected or ".")
