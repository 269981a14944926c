"""``.cargo/config.toml`` discovery, merge and accessors (unit tests).

The differential tests against ``cargo config get`` are in ``test_config_cargo.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nocargo_py.config import Secret, load_config
from nocargo_py.errors import NocargoError
from nocargo_py.shell import Shell
from nocargo_py.source import SourceId


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path):
    """home/, a/.cargo/config.toml, a/b/.cargo/config.toml; cwd = a/b/c."""
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True)
    return tmp_path, home, cwd


def test_discovery_order_and_precedence(tree):
    root, home, cwd = tree
    _write(home / "config.toml", '[build]\nrustflags = ["-Chome"]\njobs = 1\n[net]\nretry = 9\n')
    _write(root / "a/.cargo/config.toml", '[build]\nrustflags = ["-Ca"]\njobs = 2\n')
    _write(root / "a/b/.cargo/config.toml", '[build]\nrustflags = "-Cb1 -Cb2"\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={}).to_json()
    # cargo: a string in a deeper file cannot merge with an array from an ancestor.
    assert "expected string, but found array" in str(info.value)
    assert str(root / "a/.cargo/config.toml") in str(info.value)
    _write(root / "a/b/.cargo/config.toml", '[build]\nrustflags = ["-Cb"]\n')
    cfg = load_config(cwd, home=home, env={})
    assert cfg.files == (home / "config.toml", root / "a/.cargo/config.toml",
                         root / "a/b/.cargo/config.toml")
    assert cfg.to_json() == {"build": {"rustflags": ["-Chome", "-Ca", "-Cb"], "jobs": 2},
                             "net": {"retry": 9}}
    assert cfg.build_rustflags() == ("-Chome", "-Ca", "-Cb")
    assert cfg.net_retry() == 9
    assert cfg.net_offline() is False
    assert cfg.http_timeout() == 30


def test_cargo_home_on_the_way_up_is_read_once(tmp_path):
    home = tmp_path / "proj" / ".cargo"
    _write(home / "config.toml", '[zz]\nk = ["x"]\n')
    cfg = load_config(tmp_path / "proj", home=home, env={})
    assert cfg.files == (home / "config.toml",)
    assert cfg.get("zz.k") == ["x"]


def test_legacy_config_wins_with_a_warning(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config", "[zz]\nk = 1\n")
    _write(root / "a/.cargo/config.toml", "[zz]\nk = 2\n")
    shell = Shell(verbosity=0)
    import io
    shell.stream = io.StringIO()
    cfg = load_config(cwd, home=home, env={}, shell=shell)
    assert cfg.get("zz.k") == 1
    assert "Using" in shell.warnings[0] and str(root / "a/.cargo/config") in shell.warnings[0]


def test_include_merges_under_the_including_file(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           'include = ["one.toml", { path = "opt.toml", optional = true }]\n'
           '[zz]\nk = "main"\nl = ["main"]\n')
    _write(root / "a/.cargo/one.toml", '[zz]\nk = "one"\nl = ["one"]\nm = 3\n')
    cfg = load_config(cwd, home=home, env={})
    assert cfg.to_json() == {"zz": {"k": "main", "l": ["one", "main"], "m": 3}}
    _write(root / "a/.cargo/config.toml", 'include = ["missing.toml"]\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={})
    assert "missing.toml" in str(info.value)


def test_floats_are_refused_like_cargo(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml", "[zz]\nk = [1.5]\n")
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={})
    assert "`zz.k[0]`" in str(info.value) and "`float`" in str(info.value)


def test_bad_toml_names_file_and_line(tree):
    root, home, cwd = tree
    path = _write(root / "a/.cargo/config.toml", "[build]\nrustflags = [\n")
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={})
    assert str(path) in str(info.value)


def test_env_overrides(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           '[build]\nrustflags = ["-Cfile"]\ntarget = "x86_64-unknown-linux-gnu"\n'
           '[net]\noffline = false\n[target.x86_64-unknown-linux-gnu]\nlinker = "cc"\n')
    env = {"CARGO_BUILD_RUSTFLAGS": "-Ce1  -Ce2", "CARGO_NET_OFFLINE": "true",
           "CARGO_BUILD_TARGET": "aarch64-unknown-linux-gnu", "CARGO_NET_RETRY": "0",
           "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS": "-Ctarget-cpu=native",
           "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "clang"}
    cfg = load_config(cwd, home=home, env=env)
    assert cfg.build_rustflags() == ("-Cfile", "-Ce1", "-Ce2")
    assert cfg.build_target() == ("aarch64-unknown-linux-gnu",)
    assert cfg.net_offline() is True and cfg.net_retry() == 0
    t = cfg.target("x86_64-unknown-linux-gnu")
    assert t.rustflags == ("-Ctarget-cpu=native",) and t.linker == "clang"
    bad = load_config(cwd, home=home, env={"CARGO_NET_OFFLINE": "yes"})
    with pytest.raises(NocargoError) as info:
        bad.net_offline()
    assert "CARGO_NET_OFFLINE" in str(info.value)


def test_target_tables_and_relative_paths(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           '[build]\ntarget = ["x86_64-unknown-linux-gnu", "specs/my.json"]\n'
           '[target."cfg(all())"]\nrustflags = ["--cfg", "tokio_unstable"]\n'
           '[target.x86_64-pc-windows-msvc]\nrustflags = "-C target-feature=+crt-static"\n'
           'linker = "tools/link.sh"\n')
    cfg = load_config(cwd, home=home, env={})
    assert cfg.target_keys() == ("cfg(all())", "x86_64-pc-windows-msvc")
    assert cfg.target("cfg(all())").rustflags == ("--cfg", "tokio_unstable")
    win = cfg.target("x86_64-pc-windows-msvc")
    assert win.rustflags == ("-C", "target-feature=+crt-static")
    assert win.linker == str(root / "a" / "tools/link.sh")  # relative to the .cargo parent
    assert cfg.build_target() == ("x86_64-unknown-linux-gnu", str(root / "a" / "specs/my.json"))
    assert cfg.target("aarch64-unknown-linux-gnu").rustflags is None


def test_env_table(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           '[env]\nPLAIN = "x"\nREL = { value = "data", relative = true }\n'
           'FORCED = { value = "1", force = true }\nEMPTY = { value = "", relative = true }\n')
    cfg = load_config(cwd, home=home, env={})
    env = cfg.env_vars()
    assert [e.name for e in env.values()] == ["EMPTY", "FORCED", "PLAIN", "REL"]
    assert (env["PLAIN"].value, env["PLAIN"].force, env["PLAIN"].relative) == ("x", False, False)
    assert env["FORCED"].force and not env["FORCED"].relative
    assert env["REL"].resolve(cfg.cwd) == str(root / "a" / "data")
    assert env["EMPTY"].resolve(cfg.cwd) == str(root / "a")
    _write(root / "a/.cargo/config.toml", '[env]\nX = { value = "1", frob = true }\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={}).env_vars()
    assert "frob" in str(info.value)


def test_registries_and_tokens(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           '[registries.my-reg]\nindex = "sparse+https://example.com/index/"\n'
           '[registries.gitreg]\nindex = "https://example.com/git-index"\ntoken = "cfg-token"\n'
           '[registry]\ndefault = "my-reg"\n')
    _write(home / "credentials.toml",
           '[registries.my-reg]\ntoken = "cred-token"\n[registry]\ntoken = "cio-token"\n')
    cfg = load_config(cwd, home=home, env={})
    my = cfg.registry_source("my-reg")
    assert my == SourceId.for_registry("sparse+https://example.com/index/")
    assert cfg.default_registry() == "my-reg"
    assert cfg.registry_source("crates-io") == SourceId.crates_io()
    assert cfg.token(my) == Secret("cred-token")
    assert cfg.token(SourceId.for_registry("https://example.com/git-index")) == Secret("cfg-token")
    assert cfg.token(SourceId.crates_io()) == Secret("cio-token")
    assert cfg.token(SourceId.for_registry("sparse+https://other/")) is None
    env_cfg = load_config(cwd, home=home, env={"CARGO_REGISTRIES_MY_REG_TOKEN": "env-token",
                                               "CARGO_REGISTRY_TOKEN": "env-cio"})
    assert env_cfg.token(my) == Secret("env-token")
    assert env_cfg.token(SourceId.crates_io()) == Secret("env-cio")
    assert "env-token" not in repr(env_cfg.token(my)) and "env-token" not in f"{env_cfg.token(my)}"
    with pytest.raises(NocargoError) as info:
        cfg.registry_source("nope", required_by="package `x v0.1.0`")
    assert "`nope`" in str(info.value) and "required by package `x v0.1.0`" in str(info.value)
    # An index URL from the environment alone is enough (cargo reads it by key).
    env_only = load_config(cwd, home=home, env={"CARGO_REGISTRIES_EXTRA_INDEX": "sparse+https://e/"})
    assert env_only.registry_source("extra") == SourceId.for_registry("sparse+https://e/")


def test_source_replacement(tree):
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml", """
[source.crates-io]
replace-with = "mirror"

[source.mirror]
replace-with = "final"

[source.final]
registry = "sparse+https://mirror.example/index/"

[source.my-git]
registry = "https://example.com/git-index"
replace-with = "vendored"

[source.vendored]
local-registry = "vendor/registry"

[source.dir]
directory = "vendor/crates"
""")
    cfg = load_config(cwd, home=home, env={})
    rep = cfg.source_replacement(SourceId.crates_io())
    assert (rep.name, rep.kind, rep.location) == ("final", "registry",
                                                  "sparse+https://mirror.example/index/")
    rep = cfg.source_replacement(SourceId.for_registry("https://example.com/git-index"))
    assert (rep.kind, rep.location) == ("local-registry", str(root / "a" / "vendor/registry"))
    assert cfg.source_replacement(SourceId.for_registry("sparse+https://x/")) is None
    # replace-with may name a [registries] entry.
    _write(root / "a/b/.cargo/config.toml",
           '[source.crates-io]\nreplace-with = "corp"\n'
           '[registries.corp]\nindex = "sparse+https://corp.example/"\n')
    cfg = load_config(cwd, home=home, env={})
    rep = cfg.source_replacement(SourceId.crates_io())
    assert (rep.name, rep.location) == ("corp", "sparse+https://corp.example/")


def test_source_replacement_errors(tree):
    root, home, cwd = tree
    cfg_path = root / "a/.cargo/config.toml"
    _write(cfg_path, '[source.crates-io]\nreplace-with = "a"\n[source.a]\nreplace-with = "b"\n'
                     '[source.b]\nreplace-with = "a"\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={}).source_replacement(SourceId.crates_io())
    assert "cycle" in str(info.value)
    _write(cfg_path, '[source.crates-io]\nreplace-with = "nowhere"\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={}).source_replacement(SourceId.crates_io())
    assert "`nowhere`" in str(info.value)
    _write(cfg_path, '[source.crates-io]\nreplace-with = "two"\n'
                     '[source.two]\nregistry = "sparse+https://x/"\ndirectory = "d"\n')
    with pytest.raises(NocargoError) as info:
        load_config(cwd, home=home, env={}).source_replacement(SourceId.crates_io())
    assert "more than one source location" in str(info.value)


def test_defaults_without_any_file(tmp_path):
    cfg = load_config(tmp_path, home=tmp_path / "nohome", env={})
    assert cfg.files == ()
    assert cfg.to_json() == {}
    assert cfg.build_rustflags() is None and cfg.build_target() == ()
    assert cfg.env_vars() == {} and cfg.target_keys() == ()
    assert cfg.source_replacement(SourceId.crates_io()) is None


def test_patch_entries_resolve_paths_against_each_file_root(tree):
    """``[patch]`` paths are relative to the parent of the defining file's ``.cargo``
    (cargo's ConfigRelativePath); entries sorted by source, then name; an empty table
    still names its file. (The lock these give is checked against cargo in
    ``test_patch_cargo.py``.)"""
    root, home, cwd = tree
    _write(root / "a/.cargo/config.toml",
           '[patch.crates-io]\nfoo = { path = "vendor/foo" }\nbar = "1.0"\n')
    _write(root / "a/b/.cargo/config.toml",
           '[patch.crates-io]\nbaz = { path = "../baz", features = ["x"] }\nqux = {}\n'
           '[patch."https://example.com/r"]\nzed = { git = "https://example.com/zed" }\n')
    entries = load_config(cwd, home=home, env={}).patch_entries()
    assert [(e.source, e.name) for e in entries] == [
        ("crates-io", "bar"), ("crates-io", "baz"), ("crates-io", "foo"), ("crates-io", "qux"),
        ("https://example.com/r", "zed")]
    by_name = {e.name: e for e in entries}
    assert by_name["foo"].value == {"path": str(root / "a" / "vendor/foo")}
    assert by_name["baz"].value == {"path": str(root / "a" / "b" / "../baz"), "features": ["x"]}
    assert by_name["bar"].value == "1.0"
    assert by_name["foo"].definition.path == root / "a/.cargo/config.toml"
    assert by_name["qux"].value == {}
    assert by_name["qux"].definition.path == root / "a/b/.cargo/config.toml"
    assert load_config(root, home=home, env={}).patch_entries() == ()


def test_profile_tables_take_cargo_profile_variables(tmp_path: Path) -> None:
    home, proj = tmp_path / "home", tmp_path / "proj"
    _write(proj / ".cargo/config.toml",
           '[profile.release]\nopt-level = 2\ndebug = 1\n[profile.release.build-override]\n'
           'opt-level = 1\n[profile.release.package.foo]\nopt-level = 0\n')
    env = {"CARGO_PROFILE_RELEASE_OPT_LEVEL": "s", "CARGO_PROFILE_RELEASE_LTO": "true",
           "CARGO_PROFILE_RELEASE_PANIC": "1", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "4",
           "CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_DEBUG": "false",
           "CARGO_PROFILE_MY_FAST_INHERITS": "release",
           "CARGO_PROFILE_DEV_PACKAGE_FOO_OPT_LEVEL": "3"}
    profiles = load_config(proj, home=home, env=env).profiles()
    # variables over the files' values; strings stay strings where only a string fits
    assert profiles["release"] == {
        "opt-level": "s", "debug": 1, "lto": True, "panic": "1", "codegen-units": 4,
        "build-override": {"opt-level": 1, "debug": False}, "package": {"foo": {"opt-level": 0}}}
    # a profile only variables define is found by name (dashes as underscores), but the
    # names of `package` tables come from files only, as in cargo without -Zadvanced-env
    assert profiles.get("my-fast") == {"inherits": "release"}
    assert profiles.get("dev") is None and "dev" not in profiles
    assert list(profiles) == ["release"]
    _write(proj / ".cargo/config.toml", 'profile = 1\n')
    with pytest.raises(NocargoError, match="key `profile`: expected a table"):
        load_config(proj, home=home, env={}).profiles()
