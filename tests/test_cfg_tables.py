"""Table tests for cfg parsing, printing, platform keys and evaluation.

The tables are shared with ``test_cfg_oracle.py``, which checks every row against cargo
1.95 itself (``cargo metadata``): the expected messages and results below were taken from
cargo and are re-verified there on every slow run.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from nocargo_py.cfg import (
    CfgAll,
    CfgAny,
    CfgBool,
    CfgKeyValue,
    CfgName,
    CfgNot,
    Platform,
    TargetInfo,
    cfg_env_vars,
    evaluate,
    parse_cfg,
    parse_cfg_option,
    target_info,
)
from nocargo_py.cfg.platform import is_rust_alphanumeric
from nocargo_py.errors import NocargoError, ParseError

HOST = "x86_64-unknown-linux-gnu"
_CHAR = "in cfg, expected parens, a comma, an identifier, or a string"

# (table key, source cargo shows, message after "as a cfg expression: ", span in source)
ERROR_TABLE: list[tuple[str, str, str, tuple[int, int]]] = [
    # end of input where an expression must start
    ("cfg()", "", "expected start of a cfg expression, but cfg expression ended", (0, 0)),
    ("cfg(  )", "  ", "expected start of a cfg expression, but cfg expression ended", (2, 2)),
    ("cfg(all(a,)", "all(a,", "expected start of a cfg expression, but cfg expression ended", (6, 6)),
    ("cfg(not()", "not(", "expected start of a cfg expression, but cfg expression ended", (4, 4)),
    # other ends of input
    ("cfg(all(a)", "all(a", "expected `)`, but cfg expression ended", (5, 5)),
    ("cfg(not(a)", "not(a", "expected `)`, but cfg expression ended", (5, 5)),
    ("cfg(not)", "not", "expected `(`, but cfg expression ended", (3, 3)),
    ("cfg(all)", "all", "expected `(`, but cfg expression ended", (3, 3)),
    ("cfg(a =)", "a =", "expected a string, but cfg expression ended", (3, 3)),
    ("cfg(r#)", "r#", "expected identifier, but cfg expression ended", (2, 2)),
    # wrong token
    ("cfg(not(a, b))", "not(a, b)", "expected `)`, found `,`", (5, 6)),
    ("cfg(not(a,))", "not(a,)", "expected `)`, found `,`", (5, 6)),
    ("cfg(not())", "not()", "expected identifier, found `)`", (4, 5)),
    ("cfg(all(,))", "all(,)", "expected identifier, found `,`", (4, 5)),
    ("cfg(any(a,,))", "any(a,,)", "expected identifier, found `,`", (6, 7)),
    ('cfg(all("x"))', 'all("x")', "expected identifier, found a string", (4, 7)),
    ("cfg(=)", "=", "expected identifier, found `=`", (0, 1)),
    ("cfg(any = \"x\")", 'any = "x"', "expected `(`, found `=`", (4, 5)),
    ("cfg(not unix)", "not unix", "expected `(`, found an identifier", (4, 8)),
    ("cfg(all(a b))", "all(a b)", "expected `)`, found an identifier", (6, 7)),
    ('cfg(not(a = "x" b))', 'not(a = "x" b)', "expected `)`, found an identifier", (12, 13)),
    ("cfg(a = b)", "a = b", "expected a string, found an identifier", (4, 5)),
    ('cfg(a = r"b")', 'a = r"b"', "expected a string, found an identifier", (4, 5)),
    ('cfg(a == "b")', 'a == "b"', "expected a string, found `=`", (3, 4)),
    ("cfg(all(a = ))", "all(a = )", "expected a string, found `)`", (8, 9)),
    # content after a complete expression (raw remainder, even if it would not tokenize)
    ("cfg(unix,)", "unix,", "unexpected content `,` found after cfg expression", (4, 5)),
    ("cfg(foo bar)", "foo bar", "unexpected content `bar` found after cfg expression", (4, 7)),
    ("cfg(foo(a))", "foo(a)", "unexpected content `(a)` found after cfg expression", (3, 6)),
    ("cfg(ALL(unix))", "ALL(unix)", "unexpected content `(unix)` found after cfg expression", (3, 9)),
    ("cfg(unix))", "unix)", "unexpected content `)` found after cfg expression", (4, 5)),
    ("cfg(a\tb)", "a\tb", "unexpected content `\tb` found after cfg expression", (1, 3)),
    ('cfg(a "abc)', 'a "abc', 'unexpected content `"abc` found after cfg expression', (2, 6)),
    ("cfg(unix r#)", "unix r#", "unexpected content `r#` found after cfg expression", (5, 7)),
    ("cfg(r#r#)", "r#r#", "unexpected content `#` found after cfg expression", (3, 4)),
    ("cfg(foo#)", "foo#", "unexpected content `#` found after cfg expression", (3, 4)),
    ('cfg(a = "b\\"c")', 'a = "b\\"c"', 'unexpected content `c"` found after cfg expression', (8, 10)),
    ('cfg(all() any())', "all() any()", "unexpected content `any()` found after cfg expression", (6, 11)),
    # characters no token starts with
    ("cfg(\tunix)", "\tunix", f"unexpected character `\t` {_CHAR}", (0, 1)),
    ("cfg(all(unix,\nwindows))", "all(unix,\nwindows)", f"unexpected character `\n` {_CHAR}", (9, 10)),
    ("cfg(all(a\t))", "all(a\t)", f"unexpected character `\t` {_CHAR}", (5, 6)),
    ("cfg(é)", "é", f"unexpected character `é` {_CHAR}", (0, 1)),
    ("cfg(1a)", "1a", f"unexpected character `1` {_CHAR}", (0, 1)),
    ("cfg(a = 'b')", "a = 'b'", f"unexpected character `'` {_CHAR}", (4, 5)),
    ("cfg(all(foo#))", "all(foo#)", f"unexpected character `#` {_CHAR}", (7, 8)),
    ("cfg(r# unix)", "r# unix", f"unexpected character ` ` {_CHAR}", (2, 3)),
    ("cfg(r#1)", "r#1", f"unexpected character `1` {_CHAR}", (2, 3)),
    ("cfg(all(r#))", "all(r#)", f"unexpected character `)` {_CHAR}", (6, 7)),
    ("cfg(a = r# x)", "a = r# x", f"unexpected character ` ` {_CHAR}", (6, 7)),
    ("cfg(!unix)", "!unix", f"unexpected character `!` {_CHAR}", (0, 1)),
    # unterminated strings
    ('cfg(a = "b)', 'a = "b', "unterminated string in cfg", (4, 6)),
    ('cfg(all("abc)', 'all("abc', "unterminated string in cfg", (4, 8)),
    # not a cfg key: target names
    ("x86!", "x86!", "invalid target specifier: unexpected character ! in target name", (3, 4)),
    ("a b", "a b", "invalid target specifier: unexpected character   in target name", (1, 2)),
    ("x86_64-linux/gnu", "x86_64-linux/gnu", "invalid target specifier: unexpected character / in target name", (12, 13)),
    ("cfg(", "cfg(", "invalid target specifier: unexpected `(` character, cfg expressions must start with `cfg(`", (3, 4)),
    ("CFG(unix)", "CFG(unix)", "invalid target specifier: unexpected `(` character, cfg expressions must start with `cfg(`", (3, 4)),
    ("cfg (unix)", "cfg (unix)", "invalid target specifier: unexpected `(` character, cfg expressions must start with `cfg(`", (4, 5)),
    ("cfg(unix) ", "cfg(unix) ", "invalid target specifier: unexpected `(` character, cfg expressions must start with `cfg(`", (3, 4)),
    ("foo(bar", "foo(bar", "invalid target specifier: unexpected `(` character, cfg expressions must start with `cfg(`", (3, 4)),
    ("Ⓐ!", "Ⓐ!", "invalid target specifier: unexpected character ! in target name", (1, 2)),
]

# (table key, how cargo prints it back: `Platform`'s Display)
VALID_TABLE: list[tuple[str, str]] = [
    ("cfg(unix)", "cfg(unix)"),
    ("cfg( unix )", "cfg(unix)"),
    ("cfg(all())", "cfg(all())"),
    ("cfg(any())", "cfg(any())"),
    ("cfg(all(a,))", "cfg(all(a))"),
    ("cfg( all ( a , b , ) )", "cfg(all(a, b))"),
    ("cfg(any(a,b,c))", "cfg(any(a, b, c))"),
    ('cfg(not(target_os="linux"))', 'cfg(not(target_os = "linux"))'),
    ('cfg(a="")', 'cfg(a = "")'),
    ('cfg(a = "x y, (é) = \'\\")', 'cfg(a = "x y, (é) = \'\\")'),
    ("cfg(r#foo)", "cfg(r#foo)"),
    ("cfg(r#all)", "cfg(r#all)"),
    ('cfg(r#not = "x")', 'cfg(r#not = "x")'),
    ("cfg(allx)", "cfg(allx)"),
    ("cfg(_)", "cfg(_)"),
    ("cfg(true)", "cfg(true)"),
    ("cfg(r#true)", "cfg(true)"),
    ("cfg(false)", "cfg(false)"),
    ('cfg(true = "x")', 'cfg(true = "x")'),
    ('cfg(all(not(unix), any(windows, target_env = "msvc"), r#fn))',
     'cfg(all(not(unix), any(windows, target_env = "msvc"), r#fn))'),
    ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"),
    ("", ""),
    ("é-x.1_", "é-x.1_"),
    ("ॉ", "ॉ"),  # U+0949: alphanumeric for Rust (Other_Alphabetic), not for str.isalnum
    ("Ⓐ", "Ⓐ"),
    ("cfg", "cfg"),
]
INVALID_NAMES_EXTRA = ["cfg)"]

# (table key, target, whether cargo applies the table)
EVAL_TABLE: list[tuple[str, str, bool]] = [
    ("cfg(all())", HOST, True),
    ("cfg(any())", HOST, False),
    ("cfg(not(any()))", HOST, True),
    ("cfg(not(all()))", HOST, False),
    ("cfg(all(unix, any()))", HOST, False),
    ("cfg(any(windows, all()))", HOST, True),
    ("cfg(unix)", HOST, True),
    ("cfg(r#unix)", HOST, True),
    ("cfg(windows)", HOST, False),
    ("cfg(unix)", "wasm32-unknown-unknown", False),
    ("cfg(windows)", "wasm32-unknown-unknown", False),
    ("cfg(any(unix, windows))", "wasm32-unknown-unknown", False),
    ('cfg(target_family = "wasm")', "wasm32-unknown-unknown", True),
    ('cfg(target_family = "wasm")', "wasm32-wasip1", True),
    ('cfg(target_os = "unknown")', "wasm32-unknown-unknown", True),
    ('cfg(panic = "abort")', "wasm32-unknown-unknown", True),
    ('cfg(panic = "unwind")', HOST, True),
    ('cfg(all(unix, target_family = "wasm"))', "wasm32-unknown-emscripten", True),
    ('cfg(target_family = "unix")', "wasm32-unknown-emscripten", True),
    ('cfg(target_feature = "sse2")', HOST, True),
    ('cfg(all(target_feature = "sse", target_feature = "sse2", target_feature = "fxsr"))', HOST, True),
    ('cfg(target_feature = "avx2")', HOST, False),
    # cargo asks rustc with every crate type (dylib, proc-macro...), which turns crt-static
    # off on musl: a bare `rustc --print cfg` would say otherwise
    ('cfg(target_feature = "crt-static")', "x86_64-unknown-linux-musl", False),
    ('cfg(target_feature = "crt-static")', "wasm32-wasip1", False),
    ('cfg(target_feature = "crt-static")', HOST, False),
    ('cfg(target_has_atomic = "64")', HOST, True),
    ('cfg(target_has_atomic = "ptr")', HOST, True),
    ('cfg(target_has_atomic = "128")', "aarch64-apple-darwin", True),
    ('cfg(target_has_atomic = "128")', HOST, False),
    ('cfg(target_has_atomic = "8")', "thumbv6m-none-eabi", False),
    ('cfg(target_env = "gnu")', HOST, True),
    ('cfg(target_env = "gnu")', "x86_64-unknown-linux-musl", False),
    ('cfg(target_env = "musl")', "x86_64-unknown-linux-musl", True),
    ('cfg(target_env = "")', "x86_64-apple-darwin", True),
    ('cfg(target_env = "msvc")', "x86_64-pc-windows-msvc", True),
    ('cfg(all(windows, target_vendor = "pc"))', "x86_64-pc-windows-msvc", True),
    ('cfg(target_abi = "eabihf")', "armv7-unknown-linux-gnueabihf", True),
    ('cfg(target_abi = "")', HOST, True),
    ('cfg(target_pointer_width = "32")', "i686-unknown-linux-gnu", True),
    ('cfg(target_pointer_width = "64")', "i686-unknown-linux-gnu", False),
    ('cfg(target_endian = "big")', "s390x-unknown-linux-gnu", True),
    ('cfg(target_endian = "big")', HOST, False),
    ('cfg(target_os = "Linux")', HOST, False),
    ('cfg(target_os = "macos")', "aarch64-apple-darwin", True),
    ('cfg(target_vendor = "apple")', "aarch64-apple-ios", True),
    ("cfg(debug_assertions)", HOST, True),
    ("cfg(debug_assertions)", "wasm32-unknown-unknown", True),
    ("cfg(test)", HOST, False),
    ("cfg(proc_macro)", HOST, False),
    ('cfg(feature = "std")', HOST, False),
    ('cfg(not(feature = "std"))', HOST, True),
    ("cfg(true)", HOST, True),
    ("cfg(r#true)", HOST, True),
    ("cfg(false)", HOST, False),
    ("cfg(r#false)", HOST, False),
    ("cfg(not(false))", HOST, True),
    ('cfg(true = "x")', HOST, False),
    ('cfg(not(true = "x"))', HOST, True),
    ("x86_64-unknown-linux-gnu", HOST, True),
    ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl", False),
    ("x86_64-unknown-linux", HOST, False),
    ("X86_64-unknown-linux-gnu", HOST, False),
    ("wasm32-unknown-unknown", "wasm32-unknown-unknown", True),
    ("wasm32-unknown-unknown", "wasm32-wasip1", False),
    ("aarch64-apple-darwin", "aarch64-apple-darwin", True),
    ("unix", HOST, False),  # a target *name* `unix`, not cfg(unix)
]


@pytest.mark.parametrize("key,source,message,span", ERROR_TABLE)
def test_error_table(key: str, source: str, message: str, span: tuple[int, int]) -> None:
    with pytest.raises(ParseError) as info:
        Platform.parse(key)
    err = info.value
    assert err.headline() == f"failed to parse `{source}` as a cfg expression: {message}"
    assert err.source == source
    assert err.span == span
    # the rendered diagnostic shows the source and a caret under the span
    rendered = err.render()
    assert rendered.startswith(err.headline() + "\n")
    caret = rendered.splitlines()[-1]
    column = span[0] - (source.rfind("\n", 0, span[0]) + 1)
    assert caret.index("^") == 4 + column


def test_error_table_covers_every_message_class() -> None:
    messages = {row[2] for row in ERROR_TABLE}
    for fragment in [
        "expected start of a cfg expression, but cfg expression ended",
        "expected `)`, but cfg expression ended",
        "expected `(`, but cfg expression ended",
        "expected a string, but cfg expression ended",
        "expected identifier, but cfg expression ended",
        "expected `)`, found",
        "expected `(`, found",
        "expected identifier, found",
        "expected a string, found",
        "unexpected content",
        "unexpected character",
        "unterminated string in cfg",
        "unexpected character ! in target name",
        "cfg expressions must start with `cfg(`",
    ]:
        assert any(fragment in m for m in messages), fragment


@pytest.mark.parametrize("key", INVALID_NAMES_EXTRA)
def test_more_invalid_names(key: str) -> None:
    with pytest.raises(ParseError):
        Platform.parse(key)


@pytest.mark.parametrize("key,printed", VALID_TABLE)
def test_valid_table(key: str, printed: str) -> None:
    platform = Platform.parse(key)
    assert str(platform) == printed
    assert Platform.parse(printed) == platform


def test_ast_shapes() -> None:
    expr = parse_cfg('all(not(unix), any(r#windows, target_env = "msvc",), true, r#false)')
    assert expr == CfgAll((
        CfgNot(CfgName("unix")),
        CfgAny((CfgName("windows", raw=True), CfgKeyValue("target_env", "msvc"))),
        CfgBool(True),
        CfgBool(False),
    ))
    # raw-ness is kept for printing but ignored by equality and hashing (as cargo's Ident)
    assert CfgName("foo", raw=True) == CfgName("foo")
    assert hash(CfgName("foo", raw=True)) == hash(CfgName("foo"))
    assert str(CfgName("foo", raw=True)) == "r#foo"
    assert parse_cfg("r#foo") == parse_cfg("foo")
    assert parse_cfg("all(r#a)") == parse_cfg("all(a)")
    assert parse_cfg("all(a)") != parse_cfg("any(a)")
    assert parse_cfg("not(a)") != parse_cfg("a")
    assert parse_cfg('a = "b"') != parse_cfg("a")
    assert parse_cfg("true = \"x\"") == CfgKeyValue("true", "x")
    assert {parse_cfg("all(a, b)"), parse_cfg("all( a ,b ,)")} == {parse_cfg("all(a,b)")}
    assert repr(parse_cfg("all(a)")) == "parse_cfg('all(a)')"


def test_parse_option_lines() -> None:
    assert parse_cfg_option("unix") == CfgName("unix")
    assert parse_cfg_option('target_os="linux"') == CfgKeyValue("target_os", "linux")
    # in a `rustc --print cfg` line the operators are plain names and `true` is a name
    assert parse_cfg_option("all") == CfgName("all")
    assert parse_cfg_option("true") == CfgName("true")
    with pytest.raises(ParseError) as info:
        parse_cfg_option("")
    assert info.value.message == "expected identifier, but cfg expression ended"
    with pytest.raises(ParseError) as info:
        parse_cfg_option('a="x"y"')
    assert info.value.message == 'unexpected content `y"` found after cfg expression'
    with pytest.raises(ParseError) as info:
        parse_cfg_option("all(a)")
    assert info.value.message == "unexpected content `(a)` found after cfg expression"


@pytest.mark.parametrize("key,triple,expected", EVAL_TABLE)
def test_eval_table(key: str, triple: str, expected: bool) -> None:
    assert Platform.parse(key).matches(target_info(triple)) is expected


def test_eval_table_rules_covered() -> None:
    keys = " ".join(row[0] for row in EVAL_TABLE)
    for needle in ["all()", "any()", "r#", "target_feature", "target_has_atomic", "true",
                   "false", "target_family", "x86_64-unknown-linux-gnu", "debug_assertions",
                   "test", "proc_macro", "feature"]:
        assert needle in keys


def test_evaluate_against_plain_sets() -> None:
    cfgs = {("a", None), ("k", "1"), ("k", "2")}
    assert evaluate(parse_cfg('all(a, k = "1", k = "2")'), cfgs)
    assert not evaluate(parse_cfg('k = "3"'), cfgs)
    assert not evaluate(parse_cfg("k"), cfgs)  # a key with values is not a name
    assert not evaluate(parse_cfg('a = ""'), cfgs)
    assert evaluate(parse_cfg("not(b)"), cfgs)
    assert evaluate(parse_cfg("any(b, any(c, all()))"), cfgs)
    assert not evaluate(parse_cfg("all(a, all(b))"), cfgs)


def test_wasm32_unknown_unknown_has_neither_unix_nor_windows() -> None:
    wasm = target_info("wasm32-unknown-unknown")
    assert not wasm.is_unix and not wasm.is_windows
    assert wasm.family == ("wasm",)
    assert wasm.os == "unknown" and wasm.arch == "wasm32" and wasm.env == ""
    assert wasm.panic == "abort" and wasm.pointer_width == "32"


def test_target_info_helpers() -> None:
    host = target_info(HOST)
    assert host.triple == HOST
    assert host.names() == ("debug_assertions", "unix")
    assert host.features == ("fxsr", "sse", "sse2")
    assert host.has_atomic == ("16", "32", "64", "8", "ptr")
    assert host.values("target_has_atomic") == host.has_atomic
    assert (host.os, host.arch, host.env, host.vendor, host.abi, host.endian) == (
        "linux", "x86_64", "gnu", "unknown", "", "little")
    assert host.family == ("unix",) and host.is_unix and not host.is_windows
    assert host.has("unix") and host.has("target_os", "linux") and not host.has("target_os")
    assert host.value("nope") is None and host.values("nope") == ()
    assert "target_feature" in host.keys()
    assert target_info("wasm32-unknown-emscripten").family == ("unix", "wasm")
    # print order is rustc's: sorted by the printed line
    lines = host.print_cfg().splitlines()
    assert lines == sorted(lines)
    assert lines[0] == "debug_assertions" and lines[-1] == "unix"
    assert 'target_os="linux"' in lines


def test_extra_cfgs_are_merged_in_rustc_print_order() -> None:
    host = target_info(HOST, extra_cfgs=["zzz", 'aaa="1"', "a0", 'aaa="0"', "zzz", "r#fn",
                                         ("k", "v"), ("solo", None), 'target_os="foo"'])
    lines = host.print_cfg().splitlines()
    assert lines[:5] == ["a0", 'aaa="0"', 'aaa="1"', "debug_assertions", "fn"]
    assert lines[-2:] == ["unix", "zzz"] and lines == sorted(set(lines)) and "solo" in lines
    assert host.values("target_os") == ("foo", "linux")
    assert 'k="v"' in lines
    assert Platform.parse('cfg(all(zzz, fn, k = "v", target_os = "foo"))').matches(host)
    # cargo drops `proc_macro` from rustc's output; `test` stays when asked for
    with_pm = target_info(HOST, extra_cfgs=["proc_macro", "test"])
    assert not with_pm.has("proc_macro") and with_pm.has("test")
    assert target_info(HOST, rustflags=["--cfg", "x", "--cfg=y"]).names()[-2:] == ("x", "y")


@pytest.mark.parametrize("spec", ["", "a b", "1x", "true", "false", 'a="x', "a=1", 'k="a\\b"', "a-b"])
def test_bad_extra_cfgs(spec: str) -> None:
    with pytest.raises(NocargoError) as info:
        target_info(HOST, extra_cfgs=[spec])
    assert spec in str(info.value)


def test_rustflags_without_rustc_only_understand_cfg() -> None:
    with pytest.raises(NocargoError) as info:
        target_info(HOST, rustflags=["-C", "target-feature=+avx2"])
    assert "--rustc" in str(info.value)


def test_unknown_target_suggests() -> None:
    with pytest.raises(NocargoError) as info:
        target_info("x86_64-unknown-linux-gnux")
    text = info.value.render()
    assert "unknown target `x86_64-unknown-linux-gnux`" in text
    assert "`x86_64-unknown-linux-gnu`" in text


def test_custom_target_name_must_be_the_stem(tmp_path) -> None:
    spec = tmp_path / "my-target.json"
    spec.write_text("{}")
    with pytest.raises(NocargoError) as info:
        target_info("other", custom_target_json=spec)
    assert "my-target" in str(info.value)
    with pytest.raises(NocargoError):
        target_info(str(tmp_path / "missing.json"))


def test_cfg_env_vars_shape() -> None:
    host = target_info(HOST, extra_cfgs=["foo", 'foo="x"', 'bar="y"', "bar", 'feature="q"'])
    env = cfg_env_vars(host, features=["b-x", "a"])
    assert env["CARGO_CFG_UNIX"] == ""
    assert env["CARGO_CFG_TARGET_FEATURE"] == "fxsr,sse,sse2"
    assert env["CARGO_CFG_TARGET_HAS_ATOMIC"] == "16,32,64,8,ptr"
    assert env["CARGO_CFG_TARGET_ABI"] == ""
    assert env["CARGO_CFG_FOO"] == "x" and env["CARGO_CFG_BAR"] == "y"
    assert env["CARGO_CFG_FEATURE"] == "a,b-x,q"
    assert env["CARGO_CFG_DEBUG_ASSERTIONS"] == ""
    assert list(env) == sorted(env)
    release = cfg_env_vars(host, debug_assertions=False)
    assert "CARGO_CFG_DEBUG_ASSERTIONS" not in release and release["CARGO_CFG_FEATURE"] == "q"


def test_warnings_as_cargo() -> None:
    platform = Platform.parse('cfg(all(test, not(debug_assertions), any(proc_macro, feature = "x"), unix))')
    warnings = platform.warnings()
    assert [w.split("`")[1] for w in warnings] == ["test", "debug_assertions", "proc_macro", "feature = ..."]
    assert warnings[0] == (
        "Found `test` in `target.'cfg(...)'.dependencies`. This value is not supported for "
        "selecting dependencies and will not work as expected. To learn more visit "
        "https://doc.rust-lang.org/cargo/reference/specifying-dependencies.html"
        "#platform-specific-dependencies")
    assert Platform.parse("cfg(unix)").warnings() == ()
    assert Platform.parse("x86_64-unknown-linux-gnu").warnings() == ()
    keyword = Platform.parse('cfg(any(true = "x", r#false = "y", true))').keyword_warnings("/p/Cargo.toml")
    assert len(keyword) == 1
    assert keyword[0].startswith('[/p/Cargo.toml] future-incompatibility: `cfg(true = "x")` is deprecated')
    assert keyword[0].endswith("help: use raw-idents instead: `cfg(r#true)`")


def test_platform_parse_is_cached() -> None:
    assert Platform.parse("cfg(unix)") is Platform.parse("cfg(unix)")


def test_parsing_from_threads() -> None:
    # index loading parses keys from a thread pool: the shared parser must cope
    texts = [f'all(n{i}, any(k = "{i}", not(m{i})), r#x{i})' for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parsed = list(pool.map(parse_cfg, texts))
    assert [str(e) for e in parsed] == texts


def test_rust_alphanumeric() -> None:
    assert is_rust_alphanumeric("a") and is_rust_alphanumeric("Z") and is_rust_alphanumeric("7")
    assert not is_rust_alphanumeric("_") and not is_rust_alphanumeric("-")
    assert is_rust_alphanumeric("é") and is_rust_alphanumeric("ॉ") and is_rust_alphanumeric("Ⓐ")
    assert is_rust_alphanumeric("٣") and is_rust_alphanumeric("漢")
    assert not is_rust_alphanumeric("!") and not is_rust_alphanumeric("\u00a0")
    assert not is_rust_alphanumeric("€")


DEPTH = 10_000


@pytest.mark.parametrize("op", ["not", "all", "any"])
def test_deep_nesting(op: str) -> None:
    assert sys.getrecursionlimit() < DEPTH
    text = f"{op}(" * DEPTH + "unix" + ")" * DEPTH
    expr = parse_cfg(text)
    host = target_info(HOST)
    expected = (DEPTH % 2 == 0) if op == "not" else True
    assert evaluate(expr, host.cfg_set) is expected
    platform = Platform.parse(f"cfg({text})")
    assert platform.matches(host) is expected
    assert str(expr) == text
    assert expr == platform.cfg and hash(expr) == hash(platform.cfg)
    assert expr is not platform.cfg
    assert platform.warnings() == ()
    with pytest.raises(ParseError) as info:
        parse_cfg(f"{op}(" * DEPTH + "unix" + ")" * (DEPTH - 1))
    assert info.value.message == "expected `)`, but cfg expression ended"


def test_wide_lists() -> None:
    text = "any(" + ", ".join(f"n{i}" for i in range(DEPTH)) + ", unix,)"
    assert Platform.parse(f"cfg({text})").matches(target_info(HOST))


def test_target_info_is_frozen_and_hashable() -> None:
    host = target_info(HOST)
    with pytest.raises(AttributeError):
        host.triple = "x"  # type: ignore[misc]
    assert hash(host) == hash(TargetInfo(HOST, host.cfgs))
