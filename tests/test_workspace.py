"""`load_workspace` / `load_standalone_package`: the model other stages build on.

Values asserted here are the ones `cargo metadata` reports for the same fixtures (the slow
tests in test_metadata.py compare the full output live); what metadata cannot show
(non-member packages, resolver, profiles, patches) is checked against cargo's documented
rules and, where cargo prints something, against its output.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CORPUS_DIR, REPO_ROOT
from nocargo_py.errors import NocargoError
from nocargo_py.package import TargetKind
from nocargo_py.shell import Shell
from nocargo_py.source import CRATES_IO_INDEX, GitReference, PackageId, SourceId
from nocargo_py.summary import DepKind
from nocargo_py.workspace import (
    WorkspaceLoader,
    find_manifest,
    load_standalone_package,
    load_workspace,
    relative_path,
)

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "workspaces"


@pytest.fixture
def fixture(tmp_path):
    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        return dest
    return copy


def names(packages) -> list[str]:
    return [p.name for p in packages]


def test_globs_members_exclude_default_members(fixture):
    root = fixture("globs")
    ws = load_workspace(None, root)
    assert names(ws.members) == ["alpha", "beta", "t1", "deep-pkg", "extra", "inner"]
    assert names(ws.default_members) == ["alpha", "extra"]
    assert ws.is_virtual and ws.current is None and ws.root_package is None
    assert ws.resolver == "2"
    assert ws.root == root and ws.root_manifest == root / "Cargo.toml"
    assert ws.workspace_metadata == {"docs": {"tags": ["a", "b"], "nested": {"x": 1, "y": True}}}
    assert names(ws.packages) == names(ws.members)
    assert ws.target_directory == root / "target"


def test_member_directory_and_excluded_package(fixture):
    root = fixture("globs")
    ws = load_workspace(None, root / "crates" / "alpha" / "src")
    assert ws.root == root
    assert ws.current is not None and ws.current.name == "alpha"
    assert names(ws.default_members) == ["alpha"]
    # Excluded by prefix: it is its own one-package workspace.
    alone = load_workspace(root / "crates" / "skip-me" / "Cargo.toml", root)
    assert alone.root == root / "crates" / "skip-me"
    assert names(alone.members) == ["skip-me"]
    assert alone.resolver == "2"  # edition 2021 package as root


def test_inheritance(fixture):
    root = fixture("inherit")
    ws = load_workspace(None, root)
    assert names(ws.members) == ["app", "local-util", "inherit-root"]
    pkg = ws.member("inherit-root")
    assert pkg.version == "1.2.3-beta.1+build.5"
    assert pkg.edition == "2021" and pkg.rust_version == "1.70"
    md = pkg.metadata
    assert md.authors == ("A <a@example.com>", "B")
    assert md.readme == "README.md" and md.publish == ("my-registry",)
    assert md.include == ("src/**",) and md.exclude == ("/ci",)
    deps = {(d.name_in_toml, d.kind): d for d in pkg.dependencies}
    serde = deps["serde", DepKind.NORMAL]
    assert serde.features == ("derive", "rc")  # workspace features, then the member's
    assert serde.default_features is False and serde.req == "^1.0.100"
    assert deps["rand", DepKind.DEV].default_features is True  # member true wins over ws false
    json_dep = deps["renamed-json", DepKind.BUILD]
    assert json_dep.name == "serde_json" and json_dep.rename == "renamed-json"
    git = deps["gitdep", DepKind.NORMAL]
    assert git.target == "cfg(unix)" and git.optional
    assert git.source == SourceId.for_git("https://github.com/example/gitdep",
                                          GitReference("branch", "main"))
    local = deps["local-util", DepKind.NORMAL]
    assert local.source == SourceId.for_path(root / "members" / "util")
    assert local.path == str(root / "members" / "util")
    util = ws.member("local-util")
    # Paths from [workspace.package] are rebased onto the member (cargo's resolve_relative_path).
    assert util.metadata.license_file == "../../LICENSE.txt"
    assert util.metadata.readme == "../../README.md"
    app = ws.member("app")
    assert app.edition == "2018" and app.metadata.readme is None and app.metadata.publish == ()
    assert [str(v) for v in app.summary.features["serde"]] == ["dep:serde", "local-util/log"]


def test_path_dependencies_inside_and_outside(fixture, tmp_path):
    fixture("pathdeps")
    root = tmp_path / "pathdeps" / "ws"
    ws = load_workspace(None, root)
    assert names(ws.members) == ["pathdeps-root", "inside", "inside-dep"]
    # Non-members are loaded too (the resolver needs them) but are not members.
    assert sorted(names(ws.packages)) == sorted(["pathdeps-root", "inside", "inside-dep",
                                                 "vendored", "outside"])
    outside = next(p for p in ws.packages if p.name == "outside")
    assert not ws.is_member(outside.package_id)
    assert ws.root_package is ws.member("pathdeps-root") is ws.current


def test_package_workspace_pointer(fixture, tmp_path):
    fixture("pointer")
    ws = load_workspace(None, tmp_path / "pointer" / "member")
    assert ws.root == tmp_path / "pointer" / "root"
    assert names(ws.members) == ["member", "sub"]
    assert names(ws.default_members) == ["member"]


def test_virtual_resolver_default_warns(fixture):
    root = fixture("virtual")
    stream = io.StringIO()
    ws = load_workspace(None, root, Shell(stream=stream))
    assert ws.resolver == "1"
    assert names(ws.members) == ["pkg-b", "pkg-a", "pkg-c"]
    assert names(ws.default_members) == ["pkg-c", "pkg-a"]
    assert ("warning: virtual workspace defaulting to `resolver = \"1\"` despite one or more "
            "workspace members being on edition 2024 which implies `resolver = \"3\"`"
            in stream.getvalue())


@pytest.mark.parametrize("name,resolver", [("kinds", "1"), ("misc", "3"), ("globs", "2"),
                                           ("inherit", "2"), ("autodiscovery", "2")])
def test_resolver(fixture, name, resolver):
    assert load_workspace(None, fixture(name)).resolver == resolver


def test_target_kinds(fixture):
    ws = load_workspace(None, fixture("kinds"))
    macro = ws.member("my-macro")
    assert macro.is_proc_macro and macro.lib_target.crate_types == ("proc-macro",)
    sys_ = ws.member("foo-sys")
    assert sys_.links == "foo" and sys_.build_script is not None
    assert sys_.build_script.name == "build-script-build"
    dy = ws.member("dylib-crate").lib_target
    assert dy.name == "dy" and dy.crate_types == ("dylib",) and not dy.doctest and not dy.test
    st = ws.member("static-crate")
    assert st.lib_target.crate_types == ("staticlib", "lib") and st.lib_target.doctest


def test_autodiscovery_targets(fixture):
    pkg = load_workspace(None, fixture("autodiscovery")).current
    got = [(t.kind.value, t.name) for t in pkg.targets]
    assert got == [
        ("lib", "auto_disc"),
        ("bin", "a"), ("bin", "auto-disc"), ("bin", "dir-bin"), ("bin", "renamed-bin"),
        ("example", "dir-ex"), ("example", "ex1"), ("example", "manual"), ("example", "plugin"),
        ("test", "dir-test"), ("test", "other-path"), ("test", "t-explicit"), ("test", "t2"),
        ("bench", "b2"), ("bench", "speed"),
        ("custom-build", "build-script-gen"),
    ]
    by_name = {t.name: t for t in pkg.targets}
    assert by_name["renamed-bin"].required_features == ("extra",)
    assert by_name["manual"].declares_required_features and by_name["manual"].required_features == ()
    assert not by_name["a"].test and not by_name["a"].doc
    assert by_name["plugin"].crate_types == ("cdylib",)
    assert by_name["plugin"].metadata_kind == ("example",)
    assert not by_name["t-explicit"].harness and not by_name["speed"].bench


def test_edition_2015_rules(fixture):
    ws = load_workspace(None, fixture("edition2015"))
    lib = ws.member("lib-legacy").lib_target
    assert lib.name == "legacy" and lib.src_path.name == "legacy.rs"
    bins = [t for t in ws.member("bin-legacy").targets if t.kind is TargetKind.BIN]
    assert [(t.name, t.src_path.name) for t in bins] == [("tool", "tool.rs")]
    explicit = ws.member("explicit-disables")
    assert [t.name for t in explicit.targets if t.kind is TargetKind.BIN] == ["only"]
    assert [t.name for t in explicit.targets if t.kind is TargetKind.EXAMPLE] == ["ex-only"]
    assert [t.name for t in explicit.targets if t.kind is TargetKind.TEST] == ["still-found"]
    auto = ws.member("auto-set")
    assert [t.name for t in auto.targets if t.kind is TargetKind.BIN] == ["found", "named"]
    assert not [t for t in auto.targets if t.kind is TargetKind.TEST]


def test_strict_loading_rejects_what_builds_reject(fixture):
    root = fixture("lenient")
    with pytest.raises(NocargoError) as info:
        load_workspace(None, root)
    assert "can't have any crate-types set" in info.value.message
    ws = load_workspace(None, root, strict=False)
    assert [t.name for t in ws.current.targets if t.kind is TargetKind.EXAMPLE] == ["present"]


def test_manifest_warnings_are_recorded_not_printed(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "w"\nversion = "0.1.0"\nfoo = 1\n')
    stream = io.StringIO()
    loader = WorkspaceLoader(Shell(stream=stream), cwd=tmp_path)
    load_workspace(None, tmp_path, loader=loader)
    assert stream.getvalue() == ""
    messages = [m for _, m in loader.manifest_warnings]
    assert "unused manifest key: package.foo" in messages
    assert any(m.startswith("no edition set: defaulting to the 2015 edition") for m in messages)
    loader.emit_warnings(Shell(stream=stream))
    assert "warning: unused manifest key: package.foo" in stream.getvalue()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_manifest_warnings_match_cargo_build(tmp_path):
    """cargo prints manifest warnings when it builds; ours are the same lines."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "w"\nversion = "0.1.0"\nfoo = 1\n'
        '[dependencies]\n[dev_dependencies]\n')
    result = subprocess.run(["cargo", "build", "--offline"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    cargo_warnings = [line[len("warning: "):] for line in result.stderr.splitlines()
                      if line.startswith("warning: ")]
    loader = WorkspaceLoader(cwd=tmp_path)
    load_workspace(None, tmp_path, loader=loader)
    ours = [m.splitlines()[0] for _, m in loader.manifest_warnings]
    assert sorted(ours) == sorted(cargo_warnings)


def test_standalone_registry_package(tmp_path):
    """A `.crate`'s normalized manifest (as `cargo package` writes it)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "build.rs").write_text("fn main() {}")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nedition = "2021"\nname = "greeting"\nversion = "0.1.0"\nbuild = "build.rs"\n'
        'autolib = false\nautobins = false\nautoexamples = false\nautotests = false\n'
        'autobenches = false\nreadme = false\nlicense = "MIT"\n\n'
        '[lib]\nname = "greeting"\npath = "src/lib.rs"\n\n'
        '[dependencies.greeting-macros]\nversion = "0.1.0"\n')
    pkg = load_standalone_package(tmp_path / "Cargo.toml", SourceId.crates_io())
    assert pkg.package_id.source == SourceId.crates_io()
    assert pkg.package_id.to_spec() == f"registry+{CRATES_IO_INDEX}#greeting@0.1.0"
    assert [(t.kind.value, t.name) for t in pkg.targets] == [("lib", "greeting"),
                                                           ("custom-build", "build-script-build")]
    (dep,) = pkg.dependencies
    assert dep.name == "greeting-macros" and dep.req == "^0.1.0"
    assert dep.source == SourceId.crates_io()


def test_git_package_id_spec_has_no_commit():
    """cargo's package-id spec (metadata ids, unit graph ``pkg_id``) leaves the locked
    commit out (cargo 1.95: ``git+file:///…/repo#b@0.1.0-alpha.1``)."""
    git = SourceId.for_git("https://example.com/repo", GitReference("branch", "feat/x"),
                           "0" * 40)
    assert PackageId("g", "1.0.0", git).to_spec() == \
        "git+https://example.com/repo?branch=feat%2Fx#g@1.0.0"
    assert PackageId("repo", "1.0.0", git).to_spec() == \
        "git+https://example.com/repo?branch=feat%2Fx#1.0.0"


def test_standalone_git_package_path_dependency_keeps_git_source(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "g"\nversion = "0.1.0"\nedition = "2021"\n'
        '[dependencies]\nsibling = { path = "../sibling" }\n')
    source = SourceId.for_git("https://example.com/repo", GitReference.default(), "abc")
    pkg = load_standalone_package(tmp_path / "Cargo.toml", source)
    (dep,) = pkg.dependencies
    assert dep.source == source and dep.path is None


def test_standalone_rejects_virtual_manifest(tmp_path):
    (tmp_path / "Cargo.toml").write_text("[workspace]\n")
    with pytest.raises(NocargoError, match="virtual manifest"):
        load_standalone_package(tmp_path / "Cargo.toml", SourceId.for_path(tmp_path))


def test_root_only_settings_profiles_patch_replace(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    for name in ("foo", "bar"):
        (tmp_path / name / "src").mkdir(parents=True)
        (tmp_path / name / "src" / "lib.rs").write_text("")
        (tmp_path / name / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "1.0.0"\n')
    base = '[package]\nname = "r"\nversion = "0.1.0"\nedition = "2021"\n'
    (tmp_path / "Cargo.toml").write_text(
        base + '[patch.crates-io]\nfoo = { path = "foo" }\n'
        '[profile.release]\nlto = "thin"\n[profile.release.build-override]\nopt-level = 2\n'
        '[profile.release.package."*"]\ncodegen-units = 4\n'
        '[profile.custom]\ninherits = "release"\nstrip = "symbols"\n')
    ws = load_workspace(None, tmp_path)
    (patched,) = ws.patch[CRATES_IO_INDEX]
    assert patched.name == "foo" and patched.source == SourceId.for_path(tmp_path / "foo")
    release = ws.profiles["release"]
    assert release.lto == "thin" and release.build_override.opt_level == 2
    assert release.package == (("*", release.package[0][1]),)
    assert release.package[0][1].codegen_units == 4
    assert ws.profiles["custom"].inherits == "release"
    assert ws.profiles["custom"].strip == "symbols"
    (tmp_path / "Cargo.toml").write_text(base + '[replace]\n"bar:1.0.0" = { path = "bar" }\n')
    ws = load_workspace(None, tmp_path)
    ((spec, dep),) = ws.replace
    assert spec == "bar:1.0.0" and dep.name == "bar" and dep.req == "=1.0.0"


def test_corpus_profiles_are_read_from_the_root():
    root = CORPUS_DIR / "ripgrep"
    if not root.is_dir():
        pytest.skip("corpus missing")
    ws = load_workspace(None, root)
    lto = ws.profiles["release-lto"]
    assert (lto.inherits, lto.lto, lto.codegen_units, lto.panic) == ("release", "fat", 1, "abort")
    assert ws.profiles["deb"].inherits == "release-lto"


def test_find_manifest_walks_up(tmp_path):
    (tmp_path / "Cargo.toml").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_manifest(tmp_path / "a" / "b") == tmp_path / "Cargo.toml"


@pytest.mark.parametrize("path,base,expected", [
    ("/ws/LICENSE", "/ws/crates/a", "../../LICENSE"),
    ("/ws/README.md", "/ws", "README.md"),
    ("/ws/a/x", "/ws/b/y", "../../a/x"),
    ("/ws", "/ws", ""),
])
def test_relative_path(path, base, expected):
    assert relative_path(Path(path), Path(base)) == expected


def test_config_patches_merge_with_the_manifest(tmp_path):
    """``[patch]`` of ``.cargo/config.toml`` applies in addition to the manifest's; for the
    same source and name the config's entry wins (cargo's root_patch; the resulting locks
    are compared with cargo in test_patch_cargo.py). ``metadata``'s lenient load skips them."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "lib.rs").write_text("")
    (ws / "Cargo.toml").write_text(
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'
        '[patch.crates-io]\nfoo = { path = "m/foo" }\nbaz = { path = "m/baz" }\n')
    (tmp_path / ".cargo").mkdir()
    (tmp_path / ".cargo" / "config.toml").write_text(
        '[patch.crates-io]\nfoo = { path = "c/foo" }\n'
        '[patch."https://example.com/other"]\nzed = { path = "c/zed" }\n')
    patch = load_workspace(ws / "Cargo.toml", ws).patch
    assert {url: [(d.name, d.path) for d in deps] for url, deps in patch.items()} == {
        CRATES_IO_INDEX: [("foo", str(tmp_path / "c/foo")), ("baz", str(ws / "m/baz"))],
        "https://example.com/other": [("zed", str(tmp_path / "c/zed"))],
    }
    lenient = load_workspace(ws / "Cargo.toml", ws, strict=False).patch
    assert [d.path for d in lenient[CRATES_IO_INDEX]] == [str(ws / "m/baz"), str(ws / "m/foo")]
