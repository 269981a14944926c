"""Fast tests of the planner's pieces. Expected values were read from ``cargo build -v``
(cargo 1.95) on small projects; the differential tests (``test_planner_vs_cargo.py``)
check the same rules on whole workspaces."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from nocargo_py.config import load_config
from nocargo_py.errors import NocargoError
from nocargo_py.planner.flags import LtoKind, check_cfg_args, lint_flags, lto_args, profile_args
from nocargo_py.planner.outputs import file_names
from nocargo_py.planner.settings import kind_target_info, load_build_settings, rustflags_for
from nocargo_py.cfg import target_info
from nocargo_py.profiles import DebugInfo, Profile

HOST = "x86_64-unknown-linux-gnu"


def test_lint_flags_in_cargos_order() -> None:
    # [lints] of a project built with cargo 1.95 -v: priority first, then name descending
    lints = {
        "rust": {"unsafe_code": "forbid", "unused": {"level": "allow", "priority": -1},
                 "missing_docs": "warn",
                 "unexpected_cfgs": {"level": "warn",
                                     "check-cfg": ["cfg(foo)", 'cfg(bar, values("x"))']}},
        "clippy": {"all": "deny"},
        "rustdoc": {"broken_intra_doc_links": "deny"},
        "cargo": {"anything": "warn"},
    }
    assert lint_flags(lints) == [
        "--allow=unused", "--forbid=unsafe_code", "--warn=unexpected_cfgs",
        "--warn=missing_docs", "--deny=rustdoc::broken_intra_doc_links", "--deny=clippy::all",
        "--check-cfg", "cfg(foo)", "--check-cfg", 'cfg(bar, values("x"))',
    ]


def test_check_cfg_lists_every_feature_sorted() -> None:
    assert check_cfg_args(["b", "a"]) == ["--check-cfg", "cfg(docsrs,test)",
                                          "--check-cfg", 'cfg(feature, values("a", "b"))']
    assert check_cfg_args([]) == ["--check-cfg", "cfg(docsrs,test)",
                                  "--check-cfg", "cfg(feature, values())"]


DEV = Profile(name="dev", debuginfo=DebugInfo("2"), debug_assertions=True, overflow_checks=True)
RELEASE = Profile(name="release", root="release", opt_level="3")


@pytest.mark.parametrize("profile,expected", [
    (DEV, ["-C", "embed-bitcode=no", "-C", "debuginfo=2"]),
    (RELEASE, ["-C", "opt-level=3", "-C", "embed-bitcode=no"]),
    # host units in release: opt-level 0, no debug assertions -> cargo says so explicitly
    (replace(RELEASE, opt_level="0"), ["-C", "embed-bitcode=no", "-C", "debug-assertions=off"]),
    (replace(DEV, overflow_checks=False),
     ["-C", "embed-bitcode=no", "-C", "debuginfo=2", "-C", "overflow-checks=off"]),
    (replace(RELEASE, overflow_checks=True),
     ["-C", "opt-level=3", "-C", "embed-bitcode=no", "-C", "overflow-checks=on"]),
    (replace(RELEASE, panic="abort", codegen_units=4, debuginfo=DebugInfo("line-tables-only")),
     ["-C", "opt-level=3", "-C", "panic=abort", "-C", "embed-bitcode=no", "-C", "codegen-units=4",
      "-C", "debuginfo=line-tables-only"]),
])
def test_profile_args(profile: Profile, expected: list[str]) -> None:
    assert profile_args(profile, (LtoKind.ONLY_OBJECT, None), HOST, test_harness=False,
                        test_no_harness=False) == expected


def test_lto_flags() -> None:
    assert lto_args((LtoKind.RUN, None)) == ["-C", "lto"]
    assert lto_args((LtoKind.RUN, "thin")) == ["-C", "lto=thin"]
    assert lto_args((LtoKind.OFF, None)) == ["-C", "lto=off", "-C", "embed-bitcode=no"]
    assert lto_args((LtoKind.ONLY_BITCODE, None)) == ["-C", "linker-plugin-lto"]
    assert lto_args((LtoKind.OBJECT_AND_BITCODE, None)) == []


def test_file_names_per_target() -> None:
    linux, mac, win, wasm = (file_names(t) for t in (HOST, "aarch64-apple-darwin",
                                                      "x86_64-pc-windows-msvc", "wasm32-unknown-unknown"))
    assert linux.library("proc-macro", "m", "-h") == "libm-h.so"
    assert mac.library("dylib", "d", "") == "libd.dylib"
    assert win.library("staticlib", "s", "") == "s.lib" and win.executable("b", "") == "b.exe"
    assert wasm.library("cdylib", "w", "") == "w.wasm" and wasm.executable("b", "-h") == "b-h.wasm"
    assert linux.library("rlib", "r", "-h") == "libr-h.rlib"


def test_rustflags_precedence(tmp_path) -> None:
    cargo = tmp_path / ".cargo"
    cargo.mkdir()
    (cargo / "config.toml").write_text(
        '[build]\nrustflags = ["--cfg", "b"]\n'
        "[target.'cfg(unix)']\nrustflags = [\"--cfg\", \"u\"]\n"
        f'[target.{HOST}]\nrustflags = ["--cfg", "t"]\n')
    config = load_config(tmp_path, home=tmp_path / "home", env={})
    base = target_info(HOST)
    assert rustflags_for(HOST, config, {}, base) == ("--cfg", "t", "--cfg", "u")
    assert rustflags_for("wasm32-unknown-unknown", config, {}, target_info("wasm32-unknown-unknown")) \
        == ("--cfg", "b")
    assert rustflags_for(HOST, config, {"RUSTFLAGS": "-Cx  -Cy"}, base) == ("-Cx", "-Cy")
    assert rustflags_for(HOST, config, {"RUSTFLAGS": "-Cx", "CARGO_ENCODED_RUSTFLAGS": "a b\x1fc"},
                         base) == ("a b", "c")
    assert rustflags_for(HOST, config, {"CARGO_ENCODED_RUSTFLAGS": ""}, base) == ()


def test_host_units_get_no_rustflags_when_cross_compiling(tmp_path) -> None:
    env = {"RUSTFLAGS": "--cfg x"}
    native = load_build_settings(HOST, None, None, env)
    assert native.kind(None).rustflags == ("--cfg", "x")
    cross = load_build_settings(HOST, "wasm32-unknown-unknown", None, env)
    assert cross.kind(None).rustflags == () and cross.kind(None).triple == HOST
    assert cross.kind("wasm32-unknown-unknown").rustflags == ("--cfg", "x")
    assert cross.kind("wasm32-unknown-unknown").info.has("x")


def test_cfg_set_follows_simple_target_feature_edits() -> None:
    info = kind_target_info(HOST, ["-C", "target-feature=+crt-static", "--cfg", "k=\"v\""])
    assert info.has("target_feature", "crt-static") and info.has("k", "v")
    gone = kind_target_info("x86_64-unknown-linux-gnu", ["-Ctarget-feature=-sse2"])
    assert not gone.has("target_feature", "sse2") and gone.has("target_feature", "sse")


@pytest.mark.parametrize("triple", [HOST, "aarch64-apple-darwin", "x86_64-unknown-linux-musl",
                                    "wasm32-unknown-unknown", "x86_64-pc-windows-gnu",
                                    "x86_64-pc-windows-msvc"])
@pytest.mark.parametrize("flags", [
    ["-C", "target-feature=+crt-static"],
    ["-Ctarget-feature=-crt-static"],
    ["-C", "target-feature=+crt-static,-crt-static"],
    ["-C", "target-feature=-crt-static", "-C", "target-feature=+crt-static", "--cfg", "x"],
    ["-C", "target-feature=-sse"],  # removes sse2 too, on x86 targets: rustc is asked
])
def test_cfg_set_with_target_features_is_rustcs(triple: str, flags: list[str]) -> None:
    """What cargo would see: rustc asked with the flags (its query, every crate type)."""
    rustc = shutil.which("rustc")
    assert rustc is not None
    assert kind_target_info(triple, flags) == target_info(triple, rustc=rustc, rustflags=flags)


def test_crt_static_needs_no_rustc(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    flags = ["-C", "target-feature=+crt-static"]
    assert kind_target_info(HOST, flags).has("target_feature", "crt-static")
    # rustc ignores it where the target has no static CRT support (a Mach-O target)
    assert kind_target_info("aarch64-apple-darwin", flags) == target_info("aarch64-apple-darwin")
    with pytest.raises(NocargoError, match="asking rustc needs `rustc` on PATH"):
        kind_target_info(HOST, ["-C", "target-feature=-sse"])
