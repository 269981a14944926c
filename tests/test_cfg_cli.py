"""``nocargo-py cfg``: output format, exit codes, diagnostics; --print/--list-targets vs rustc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import run_cli
from nocargo_py.cfg import host_triple, list_targets, target_info
from nocargo_py.cfg.targets import CARGO_CFG_QUERY


def test_one_line_per_key_in_order() -> None:
    result = run_cli("cfg", "--target", "wasm32-unknown-unknown",
                     "cfg(unix)", 'cfg(target_family = "wasm")', "cfg(windows)",
                     "wasm32-unknown-unknown", "cfg(any())", "cfg(all())", "x86_64-unknown-linux-gnu",
                     'cfg(all(target_arch="wasm32", not(unix), not(windows)))')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "false\ntrue\nfalse\ntrue\nfalse\ntrue\nfalse\ntrue\n"
    assert result.stderr == ""


def test_default_target_is_the_host() -> None:
    host = host_triple()
    os_name = target_info(host).os
    result = run_cli("cfg", f'cfg(target_os = "{os_name}")', host, "cfg(any())")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "true\ntrue\nfalse\n"


def test_bad_expression_is_error_101_with_caret() -> None:
    result = run_cli("cfg", "--target", "x86_64-unknown-linux-gnu", "cfg(unix)", "cfg(all(unix, a b))")
    assert result.returncode == 101
    assert result.stdout == ""  # every key is parsed before anything is printed
    assert result.stderr == (
        "error: failed to parse `all(unix, a b)` as a cfg expression: expected `)`, found an identifier\n"
        "    all(unix, a b)\n"
        "                ^\n"
    )
    assert "Traceback" not in result.stderr


def test_bad_target_name_key() -> None:
    result = run_cli("cfg", "x86!")
    assert result.returncode == 101
    assert result.stderr.startswith(
        "error: failed to parse `x86!` as a cfg expression: invalid target specifier: "
        "unexpected character ! in target name\n")


def test_unknown_target() -> None:
    result = run_cli("cfg", "--target", "nonesuch-unknown-none", "cfg(unix)")
    assert result.returncode == 101
    assert "error: unknown target `nonesuch-unknown-none`" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_cfg_flag() -> None:
    result = run_cli("cfg", "--cfg", "a b", "cfg(unix)")
    assert result.returncode == 101
    assert "invalid `--cfg` argument: `a b`" in result.stderr


def test_usage_error_without_anything_to_do() -> None:
    result = run_cli("cfg")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_warnings_like_cargo() -> None:
    result = run_cli("cfg", "--target", "x86_64-unknown-linux-gnu", 'cfg(any(test, feature = "x"))')
    assert result.returncode == 0
    assert result.stdout == "false\n"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert [w.split("`")[1] for w in warnings] == ["test", "feature = ..."]
    quiet = run_cli("cfg", "-q", 'cfg(test)')
    assert quiet.stderr == "" and quiet.stdout == "false\n"


def test_extra_cfg_flags() -> None:
    result = run_cli("cfg", "--target", "aarch64-apple-darwin", "--cfg", "tokio_unstable",
                     "--cfg", 'k="v"', "cfg(tokio_unstable)", 'cfg(k = "v")', "cfg(other)")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "true\ntrue\nfalse\n"


def test_print_and_list_targets_from_database() -> None:
    result = run_cli("cfg", "--target", "x86_64-pc-windows-msvc", "--print")
    assert result.returncode == 0
    assert result.stdout == target_info("x86_64-pc-windows-msvc").print_cfg()
    assert "windows\n" in result.stdout and 'target_env="msvc"\n' in result.stdout
    listed = run_cli("cfg", "--list-targets")
    assert listed.returncode == 0
    assert tuple(listed.stdout.split()) == list_targets()


@pytest.mark.slow
@pytest.mark.parametrize("triple", ["x86_64-pc-windows-msvc", "wasm32-unknown-unknown", "riscv64gc-unknown-linux-gnu"])
def test_print_matches_rustc(triple: str) -> None:
    rustc = shutil.which("rustc") or "rustc"
    live = subprocess.run([rustc, *CARGO_CFG_QUERY, "--target", triple, "--cfg", "foo"],
                          capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL).stdout
    expected = "".join(line + "\n" for line in live.splitlines() if line != "proc_macro")
    for extra in ([], ["--rustc", rustc]):
        result = run_cli("cfg", "--target", triple, "--cfg", "foo", "--print", *extra)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected


@pytest.mark.slow
def test_list_targets_matches_rustc() -> None:
    rustc = shutil.which("rustc") or "rustc"
    live = subprocess.run([rustc, "--print", "target-list"], capture_output=True, text=True, check=True).stdout
    for extra in ([], ["--rustc", rustc]):
        result = run_cli("cfg", "--list-targets", *extra)
        assert result.returncode == 0
        assert result.stdout.split() == live.split()


@pytest.mark.slow
def test_rustc_that_does_not_exist() -> None:
    result = run_cli("cfg", "--rustc", "/nonexistent/rustc", "cfg(unix)")
    assert result.returncode == 101
    assert "could not run `/nonexistent/rustc`" in result.stderr


def test_lark_tables_are_cached_and_a_damaged_cache_is_rebuilt(tmp_path) -> None:
    env = {**os.environ, "NOCARGO_PY_CACHE_DIR": str(tmp_path)}
    for i, damage in enumerate((None, b"garbage", b"\n\x80\x04truncated")):
        # a new expression each time: a remembered parse (see the next test) needs no Lark
        code = ("from nocargo_py.cfg import parse_cfg; "
                f"print(type(parse_cfg('all(unix, not(target_os = \"os{i}\"))')).__name__)")
        cache = tmp_path / f"lark-cfg-py{sys.version_info[0]}{sys.version_info[1]}.cache"
        if damage is not None:
            first_line = cache.read_bytes().split(b"\n", 1)[0]
            cache.write_bytes(first_line + damage if damage.startswith(b"\n") else damage)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        assert proc.stdout == "CfgAll\n" and proc.stderr == ""
        assert cache.stat().st_size > 1000  # (re)written with the real tables


_MEMO_SCRIPT = """
import sys
from nocargo_py.cfg import parse_cfg, parse_cfg_option
from nocargo_py.cfg.ast import render
from nocargo_py.errors import ParseError
exprs = [parse_cfg(t) for t in sys.argv[1:]]
print(repr([(type(e).__name__, render(e), repr(e)) for e in exprs]))
print(repr(parse_cfg_option('target_os="linux"')))
try:
    parse_cfg('all(unix,')
except ParseError as exc:
    print(str(exc).splitlines()[0])
print("lark" in sys.modules)
"""


def test_parsed_cfgs_are_remembered_and_a_damaged_store_is_ignored(tmp_path) -> None:
    """A parse seen before needs no Lark; what is read back equals a fresh parse; a file that
    is garbage, of another grammar, or has entries that are not syntax trees changes
    nothing but speed, and is rewritten."""
    env = {**os.environ, "NOCARGO_PY_CACHE_DIR": str(tmp_path)}
    long = "any(" + ", ".join(f'all(target_arch = "arch{i}", not(unix))' for i in range(40)) + ")"
    deep = "not(" * 100 + "unix" + ")" * 100  # parsed each time, never stored
    texts = ['all(unix, not(target_os = "linux"), any(r#windows, true))', "false",
             'target_arch = "wasm32"', "any()", "not(all())", long, deep]

    def run() -> tuple[list[str], bool]:
        proc = subprocess.run([sys.executable, "-c", _MEMO_SCRIPT, *texts], env=env,
                              capture_output=True, text=True, check=True)
        assert proc.stderr == ""
        *lines, lark = proc.stdout.splitlines()
        return lines, lark == "True"

    memo = tmp_path / f"cfg-parsed-py{sys.version_info[0]}{sys.version_info[1]}.json"
    fresh, used_lark = run()
    assert used_lark  # the error case always needs the parser
    assert "expected" in fresh[2] or "ended" in fresh[2]
    stored = json.loads(memo.read_text())
    assert len(long) > 1000 and f"expression:{long}" in stored["entries"]
    # every expression but `deep`, and the option; not the error
    assert len(stored["entries"]) == len(texts) - 1 + 1
    # what was stored needs no Lark at all
    proc = subprocess.run([sys.executable, "-c",
                           "import sys; from nocargo_py.cfg import parse_cfg; "
                           f"[parse_cfg(t) for t in {texts[:-1]!r}]; print('lark' in sys.modules)"],
                          env=env, capture_output=True, text=True, check=True)
    assert proc.stdout == "False\n"
    assert run()[0] == fresh

    good = memo.read_text()
    other_grammar = json.loads(good)
    other_grammar["grammar"] = "0" * 64
    bad_entry = json.loads(good)
    key = f"expression:{texts[0]}"
    bad_entry["entries"][key] = ["all", [["name", 1, False]]]
    for damage in ("garbage", "[]", json.dumps(other_grammar), json.dumps(bad_entry)):
        memo.write_text(damage)
        assert run()[0] == fresh
        assert json.loads(memo.read_text())["entries"][key] == stored["entries"][key]


def test_parsing_works_without_a_usable_cache_directory(tmp_path) -> None:
    """A cache "directory" that is a file: nothing is stored, nothing is reported."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {**os.environ, "NOCARGO_PY_CACHE_DIR": str(blocker)}
    proc = subprocess.run([sys.executable, "-c", _MEMO_SCRIPT, "unix", 'all(unix, windows)'],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "CfgAll" in proc.stdout
    assert blocker.read_text() == ""
