"""`nocargo_py.globs`: the Rust glob crate's patterns and walk order (what cargo uses for
`workspace.members`). Pattern tables are the crate's own unit tests (rust-lang/glob
src/lib.rs); the walk order is checked live against cargo's member order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import run_cli
from nocargo_py.globs import GlobPatternError, Pattern, glob


@pytest.mark.parametrize("pattern,text,expected", [
    ("a*b", "a_b", True), ("a*b*c", "abc", True), ("a*b*c", "abcd", False),
    ("a*b*c", "a_b_c", True), ("a*b*c", "a___b___c", True),
    ("abc*abc*abc", "abcabcabcabcabcabcabc", True), ("abc*abc*abc", "abcabcabcabcabcabcabca", False),
    ("a*a*a*a*a*a*a*a*a", "a" * 31, True), ("a*b[xyz]c*d", "abxcdbxcddd", True),
    ("some/**/needle.txt", "some/needle.txt", True), ("some/**/needle.txt", "some/one/needle.txt", True),
    ("some/**/needle.txt", "some/one/two/needle.txt", True),
    ("some/**/needle.txt", "some/other/notthis.txt", False),
    ("**", "abcde", True), ("**", "", True), ("**", ".asdf", True), ("**", "/x/.asdf", True),
    ("some/**/**/needle.txt", "some/one/two/needle.txt", True),
    ("**/test", "one/two/test", True), ("**/test", "test", True),
    ("/**/test", "/one/two/test", True), ("/**/test", "/test", True), ("/**/test", "/notthis", False),
    ("**/.*", ".abc", True), ("**/.*", "abc/.abc", True), ("**/.*", "ab.c", False),
    ("**/.*", "abc/ab.c", False),
    ("a[0-9]b", "a5b", True), ("a[0-9]b", "a_b", False), ("a[!0-9]b", "a_b", True),
    ("a[!0-9]b", "a5b", False), ("[a-z123]", "q", True), ("[1a-z23]", "2", True),
    ("[abc-]", "-", True), ("[-abc]", "-", True), ("[a-c-]", "b", True), ("[a-c-]", "d", False),
    ("[2-1]", "1", False), ("[-]", "-", True), ("[!-]", "-", False),
    ("*hello.txt", "hello.txt", True), ("*hello.txt", "gareth_says_hello.txt", True),
    ("*hello.txt", "hello.txt-and-then-some", False), ("*hello.txt", "goodbye.txt", False),
    ("*", ".hidden", True), ("c?t", "cat", True), ("k[!e]tteh", "kitteh", True), ("d*g", "doog", True),
])
def test_pattern_matching(pattern, text, expected):
    assert Pattern.compile(pattern).matches(text) is expected


@pytest.mark.parametrize("pattern,pos", [
    ("a/**b", 4), ("a/bc**", 3), ("a/*****", 4), ("a/b**c**d", 2), ("a**b", 0),
    ("abc[def", 3), ("abc[!def", 3), ("abc[", 3), ("abc[!", 3), ("abc[d", 3), ("abc[!d", 3),
    ("abc[]", 3), ("abc[!]", 3),
])
def test_pattern_errors(pattern, pos):
    with pytest.raises(GlobPatternError) as info:
        Pattern.compile(pattern)
    assert info.value.pos == pos
    assert str(info.value).startswith(f"Pattern syntax error near position {pos}: ")


def test_walk_order_and_missing_directories(tmp_path):
    for d in ["a/pkg", "a-b/pkg", "a/x/pkg", ".hidden/pkg", "b/pkg"]:
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "a" / "file").write_text("")
    base = str(tmp_path)
    assert glob(f"{base}/*/pkg") == [f"{base}/{d}/pkg" for d in [".hidden", "a", "a-b", "b"]]
    # Depth-first in name order: all of `a` before `a-b` (a whole-path sort would differ).
    assert glob(f"{base}/**/pkg") == [f"{base}/{d}/pkg"
                                      for d in [".hidden", "a", "a/x", "a-b", "b"]]
    assert glob(f"{base}/nope/**") == []
    assert glob(f"{base}/a/file") == [f"{base}/a/file"]
    assert glob(f"{base}/*/") == [f"{base}/{d}" for d in [".hidden", "a", "a-b", "b"]]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
@pytest.mark.parametrize("members", [["**/pkg"], ["*/pkg", "a/*/pkg"], ["[ab]*/pkg"],
                                     ["a*/**"], ["?/pkg", "**/x/pkg"]])
def test_member_order_matches_cargo(tmp_path, members):
    for i, d in enumerate(["a/pkg", "a-b/pkg", "a/x/pkg", ".hidden/pkg", "b/pkg", "a-b/x/pkg"]):
        (tmp_path / d / "src").mkdir(parents=True)
        (tmp_path / d / "src" / "lib.rs").write_text("")
        (tmp_path / d / "Cargo.toml").write_text(
            f'[package]\nname = "p{i}"\nversion = "0.1.0"\nedition = "2021"\n')
    (tmp_path / "Cargo.toml").write_text(
        "[workspace]\nresolver = \"2\"\nmembers = " + json.dumps(members) + "\n")
    theirs = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version",
                             "1"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "CARGO_HOME": str(tmp_path / ".home")})
    ours = run_cli("metadata", "--no-deps", "--format-version", "1", cwd=tmp_path,
                   env={"CARGO_HOME": str(tmp_path / ".home")})
    assert theirs.returncode == ours.returncode
    assert ours.stdout == theirs.stdout, (theirs.stderr, ours.stderr)
