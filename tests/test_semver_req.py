"""Version requirements: tables from the Rust semver crate's own test suite
(dtolnay/semver tests/test_version_req.rs), cargo's notes (verified picks with cargo 1.95),
ordering checked against the PyPI ``semver`` package, and a live differential test of
parsing/printing against ``cargo metadata``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import semver as pysemver
from hypothesis import given, settings, strategies as st

from nocargo_py.errors import ParseError
from nocargo_py.semver_req import Comparator, Op, Version, VersionReq, compat_key


def req(text: str) -> VersionReq:
    return VersionReq.parse(text)


def v(text: str) -> Version:
    return Version.parse(text)


# (requirement, Display, matching versions, non-matching versions) — semver crate tests.
MATCH_TABLE = [
    ("1.0.0", "^1.0.0", ["1.0.0", "1.1.0", "1.0.1"], ["0.9.9", "0.10.0", "0.1.0", "1.0.0-pre", "1.0.1-pre"]),
    ("=1.0.0", "=1.0.0", ["1.0.0"], ["1.0.1", "0.9.9", "0.10.0", "0.1.0", "1.0.0-pre"]),
    ("=0.9.0", "=0.9.0", ["0.9.0"], ["0.9.1", "1.9.0", "0.0.9", "0.9.0-pre"]),
    ("=0.0.2", "=0.0.2", ["0.0.2"], ["0.0.1", "0.0.3", "0.0.2-pre"]),
    ("=0.1.0-beta2.a", "=0.1.0-beta2.a", ["0.1.0-beta2.a"], ["0.9.1", "0.1.0", "0.1.1-beta2.a", "0.1.0-beta2"]),
    ("=0.1.0+meta", "=0.1.0", ["0.1.0", "0.1.0+meta", "0.1.0+any"], []),
    (">= 1.0.0", ">=1.0.0", ["1.0.0", "2.0.0"], ["0.1.0", "0.0.1", "1.0.0-pre", "2.0.0-pre"]),
    (">= 2.1.0-alpha2", ">=2.1.0-alpha2", ["2.1.0-alpha2", "2.1.0-alpha3", "2.1.0", "3.0.0"],
     ["2.0.0", "2.1.0-alpha1", "2.0.0-alpha2", "3.0.0-alpha2"]),
    ("< 1.0.0", "<1.0.0", ["0.1.0", "0.0.1"], ["1.0.0", "1.0.0-beta", "1.0.1", "0.9.9-alpha"]),
    ("<= 2.1.0-alpha2", "<=2.1.0-alpha2", ["2.1.0-alpha2", "2.1.0-alpha1", "2.0.0", "1.0.0"],
     ["2.1.0", "2.2.0-alpha1", "2.0.0-alpha2", "1.0.0-alpha2"]),
    (">1.0.0-alpha, <1.0.0", ">1.0.0-alpha, <1.0.0", ["1.0.0-beta"], []),
    (">1.0.0-alpha, <1.0", ">1.0.0-alpha, <1.0", [], ["1.0.0-beta"]),
    (">1.0.0-alpha, <1", ">1.0.0-alpha, <1", [], ["1.0.0-beta"]),
    ("> 0.0.9, <= 2.5.3", ">0.0.9, <=2.5.3", ["0.0.10", "1.0.0", "2.5.3"], ["0.0.8", "2.5.4"]),
    ("0.3.0, 0.4.0", "^0.3.0, ^0.4.0", [], ["0.0.8", "0.3.0", "0.4.0"]),
    ("<= 0.2.0, >= 0.5.0", "<=0.2.0, >=0.5.0", [], ["0.0.8", "0.3.0", "0.5.1"]),
    ("0.1.0, 0.1.4, 0.1.6", "^0.1.0, ^0.1.4, ^0.1.6", ["0.1.6", "0.1.9"], ["0.1.0", "0.1.4", "0.2.0"]),
    (">=0.5.1-alpha3, <0.6", ">=0.5.1-alpha3, <0.6",
     ["0.5.1-alpha3", "0.5.1-alpha4", "0.5.1-beta", "0.5.1", "0.5.5"],
     ["0.5.1-alpha1", "0.5.2-alpha3", "0.5.5-pre", "0.5.0-pre", "0.6.0", "0.6.0-pre"]),
    ("~1", "~1", ["1.0.0", "1.0.1", "1.1.1"], ["0.9.1", "2.9.0", "0.0.9"]),
    ("~1.2", "~1.2", ["1.2.0", "1.2.1"], ["1.1.1", "1.3.0", "0.0.9"]),
    ("~1.2.2", "~1.2.2", ["1.2.2", "1.2.4"], ["1.2.1", "1.9.0", "1.0.9", "2.0.1", "0.1.3"]),
    ("~1.2.3-beta.2", "~1.2.3-beta.2", ["1.2.3", "1.2.4", "1.2.3-beta.2", "1.2.3-beta.4"],
     ["1.3.3", "1.1.4", "1.2.3-beta.1", "1.2.4-beta.2"]),
    ("^1", "^1", ["1.1.2", "1.1.0", "1.2.1", "1.0.1"], ["0.9.1", "2.9.0", "0.1.4", "1.0.0-beta1", "0.1.0-alpha", "1.0.1-pre"]),
    ("^1.1", "^1.1", ["1.1.2", "1.1.0", "1.2.1"], ["0.9.1", "2.9.0", "1.0.1", "0.1.4"]),
    ("^1.1.2", "^1.1.2", ["1.1.2", "1.1.4", "1.2.1"],
     ["0.9.1", "2.9.0", "1.1.1", "0.0.1", "1.1.2-alpha1", "1.1.3-alpha1", "2.9.0-alpha1"]),
    ("^0.1.2", "^0.1.2", ["0.1.2", "0.1.4"], ["0.9.1", "2.9.0", "1.1.1", "0.0.1", "0.1.2-beta", "0.1.3-alpha", "0.2.0-pre"]),
    ("^0.5.1-alpha3", "^0.5.1-alpha3", ["0.5.1-alpha3", "0.5.1-alpha4", "0.5.1-beta", "0.5.1", "0.5.5"],
     ["0.5.1-alpha1", "0.5.2-alpha3", "0.5.5-pre", "0.5.0-pre", "0.6.0"]),
    ("^0.0.2", "^0.0.2", ["0.0.2"], ["0.9.1", "2.9.0", "1.1.1", "0.0.1", "0.1.4"]),
    ("^0.0", "^0.0", ["0.0.2", "0.0.0"], ["0.9.1", "2.9.0", "1.1.1", "0.1.4"]),
    ("^0", "^0", ["0.9.1", "0.0.2", "0.0.0"], ["2.9.0", "1.1.1"]),
    ("^1.4.2-beta.5", "^1.4.2-beta.5", ["1.4.2", "1.4.3", "1.4.2-beta.5", "1.4.2-beta.6", "1.4.2-c"],
     ["0.9.9", "2.0.0", "1.4.2-alpha", "1.4.2-beta.4", "1.4.3-beta.5"]),
    ("*", "*", ["0.9.1", "2.9.0", "0.0.9", "1.0.1", "1.1.1"], ["1.0.0-pre"]),
    ("1.*", "1.*", ["1.2.0", "1.2.1", "1.1.1", "1.3.0"], ["0.0.9", "1.2.0-pre"]),
    ("1.2.*", "1.2.*", ["1.2.0", "1.2.2", "1.2.4"], ["1.9.0", "1.0.9", "2.0.1", "0.1.3", "1.2.2-pre"]),
    ("=2.1.1-really.0", "=2.1.1-really.0", ["2.1.1-really.0"], []),
    ("0.*.*", "0.*", ["0.5.0"], []),
    ("0.0.*", "0.0.*", ["0.0.3"], ["0.1.0"]),
    # cargo-semantics.md §5 table
    ("1.2.3", "^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2"]),
    ("1", "^1", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.0"]),
    ("^0.2.3", "^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    ("^0.2", "^0.2", ["0.2.0", "0.2.9"], ["0.3.0", "0.1.9"]),
    ("^0.0.3", "^0.0.3", ["0.0.3"], ["0.0.4", "0.0.2"]),
    ("~1.2.3", "~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
    ("=1.2", "=1.2", ["1.2.0", "1.2.7"], ["1.3.0", "1.1.0"]),
    ("1.3.0-alpha.1", "^1.3.0-alpha.1", ["1.3.0-alpha.1", "1.3.0-beta.2", "1.3.0", "1.9.0"],
     ["1.4.0-rc.1", "2.0.0", "1.3.0-alpha.0"]),
    (">=1.2, <1.4", ">=1.2, <1.4", ["1.2.0", "1.3.9"], ["1.3.0-alpha.1", "1.4.0"]),
]


@pytest.mark.parametrize("text,display,yes,no", MATCH_TABLE, ids=[r[0] for r in MATCH_TABLE])
def test_match_table(text, display, yes, no):
    r = req(text)
    assert str(r) == display
    for s in yes:
        assert r.matches(v(s)), f"{text} should match {s}"
        assert r.matches(s)
    for s in no:
        assert not r.matches(v(s)), f"{text} should not match {s}"


@pytest.mark.parametrize("a,b", [("*", "x"), ("*", "X"), ("1.*", "1.x"), ("1.*", "1.X"),
                                 ("1.*", "1.*.*"), ("1.2.*", "1.2.x"), ("1.2.*", "1.2.X"),
                                 ("^1", " ^1 "), ("1", "^1")])
def test_equivalent_spellings(a, b):
    assert req(a) == req(b)


@pytest.mark.parametrize("text,display", [
    ("1.0", "^1.0"), (">= 1.2 , <2", ">=1.2, <2"), ("*", "*"), ("=1.2.3", "=1.2.3"),
    ("2.X", "2.*"), ("2.x.x", "2.*"), ("1.2.3-alpha", "^1.2.3-alpha"), (">=1.*", ">=1"),
    ("~1.2.*", "~1.2"), ("  1.0  ", "^1.0"), ("1.0.0+build.5", "^1.0.0"), ("= 1", "=1"),
])
def test_display(text, display):
    assert str(req(text)) == display


# Error messages exactly as the semver crate (and hence cargo) prints them.
ERROR_TABLE = [
    ("> 0.1.0,", "unexpected end of input while parsing major version number"),
    ("> 0.3.0, ,", "unexpected character ',' while parsing major version number"),
    ("1.2.3 - 2.3.4", "expected comma after patch version number, found '-'"),
    (",".join(f">{i}" for i in range(1, 34)), "excessive number of version comparators"),
    ("> 0.0.9 <= 2.5.3", "expected comma after patch version number, found '<'"),
    ("", "unexpected end of input while parsing major version number"),
    ("=1.2.3 || =2.3.4", "expected comma after patch version number, found '|'"),
    ("1.1 || =1.2.3", "expected comma after minor version number, found '|'"),
    ("6.* || 8.* || >= 10.*", "expected comma after minor version number, found '|'"),
    ("\0", "unexpected character '\\0' while parsing major version number"),
    (">= >= 0.0.2", "unexpected character '>' while parsing major version number"),
    (">== 0.0.2", "unexpected character '=' while parsing major version number"),
    ("a.0.0", "unexpected character 'a' while parsing major version number"),
    ("1.0.0-", "empty identifier segment in pre-release identifier"),
    (">=", "unexpected end of input while parsing major version number"),
    ("1.2.3-01", "invalid leading zero in pre-release identifier"),
    ("1.2.3+4.", "empty identifier segment in build metadata"),
    ("1.", "unexpected end of input while parsing minor version number"),
    ("1.*.", "unexpected character after wildcard in version req"),
    ("*.1", "unexpected character after wildcard in version req"),
    ("1.*.1", "unexpected character after wildcard in version req"),
    (">=1.*.1", "unexpected character after wildcard in version req"),
    ("*, 0.20.0-any", "wildcard req (*) must be the only comparator in the version req"),
    ("0.20.0-any, *", "wildcard req (*) must be the only comparator in the version req"),
    ("0.20.0-any, *, 1.0", "wildcard req (*) must be the only comparator in the version req"),
    ("v1", "unexpected character 'v' while parsing major version number"),
    (">= 1.2 <1.4", "expected comma after minor version number, found '<'"),
    ("01.0", "invalid leading zero in major version number"),
    ("18446744073709551616", "value of major version number exceeds u64::MAX"),
    ("1.2\t", "expected comma after minor version number, found '\\t'"),
]


@pytest.mark.parametrize("text,message", ERROR_TABLE, ids=[repr(t[0])[:40] for t in ERROR_TABLE])
def test_errors(text, message):
    with pytest.raises(ParseError) as info:
        req(text)
    assert info.value.message == message
    # The caret marker points into (or just past) the text.
    start, end = info.value.span
    assert 0 <= start <= end <= len(text) + 1
    assert "^" in info.value.marker()


def test_error_rendering_has_caret():
    with pytest.raises(ParseError) as info:
        req(">= 1.2 <1.4")
    text = info.value.render()
    assert "failed to parse `>= 1.2 <1.4` as a version requirement" in text
    assert text.splitlines()[-1] == "    " + " " * 7 + "^"


@pytest.mark.parametrize("op", ["=", ">", ">=", "<", "<=", "~", "^"])
def test_leading_digit_in_pre_and_build(op):
    for tail in ["1.2.3-1a", "1.2.3+1a", "1.2.3-01a", "1.2.3+01", "1.2.3-1+1", "1.2.3-1-1+1-1-1",
                 "1.2.3-1a+1a", "1.2.3-1a-1a+1a-1a-1a"]:
        req(f"{op} {tail}")


def test_comparator_fields():
    (c,) = req(">= 1.2").comparators
    assert c == Comparator(Op.GREATER_EQ, 1, 2, None, "")
    (c,) = req("1.*").comparators
    assert c.op is Op.WILDCARD and c.minor is None


# Picks observed with cargo 1.95 (cargo-semantics.md §5): highest matching version.
AVAILABLE = ["0.9.0", "1.0.0", "1.2.0", "1.3.0-alpha.1", "1.3.0-beta.2", "1.3.0", "1.4.0-rc.1", "2.0.0-rc.1"]


@pytest.mark.parametrize("text,pick", [
    ("1", "1.3.0"), ("1.3.0-alpha.1", "1.3.0"), ("=1.3.0-alpha.1", "1.3.0-alpha.1"),
    ("1.2.*", "1.2.0"), (">=2.0.0-rc.1", "2.0.0-rc.1"), ("1.4.0-rc.1", "1.4.0-rc.1"),
    ("0", "0.9.0"), ("<1.3.0", "1.2.0"),
])
def test_cargo_observed_picks(text, pick):
    versions = [v(s) for s in AVAILABLE]
    assert str(max(req(text).filter(versions))) == pick


# --- Version ------------------------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("", "empty string, expected a semver version"),
    ("1", "unexpected end of input while parsing major version number"),
    ("1.2", "unexpected end of input while parsing minor version number"),
    ("1.2.3 ", "unexpected character ' ' after patch version number"),
    ("1.q.r", "unexpected character 'q' while parsing minor version number"),
    ("01.2.3", "invalid leading zero in major version number"),
    ("1.2.3-", "empty identifier segment in pre-release identifier"),
    ("1.2.3-a..b", "empty identifier segment in pre-release identifier"),
    ("1.2.3-01", "invalid leading zero in pre-release identifier"),
    ("1.2.3+", "empty identifier segment in build metadata"),
    ("v1.2.3", "unexpected character 'v' while parsing major version number"),
    ("1.2.3-a+b+c", "unexpected character '+' after build metadata"),
])
def test_version_errors(text, message):
    with pytest.raises(ParseError) as info:
        Version.parse(text)
    assert info.value.message == message


def test_version_roundtrip_and_fields():
    ver = v("1.2.3-alpha.1+build.01")
    assert (ver.major, ver.minor, ver.patch, ver.pre, ver.build) == (1, 2, 3, "alpha.1", "build.01")
    assert str(ver) == "1.2.3-alpha.1+build.01"
    assert ver.is_prerelease
    assert ver.without_build() == v("1.2.3-alpha.1")


def test_semver_spec_precedence_example():
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
    parsed = [v(s) for s in chain]
    assert sorted(reversed(parsed)) == parsed


@pytest.mark.parametrize("text,key", [("1.2.3", "1"), ("0.2.3", "0.2"), ("0.0.3", "0.0.3"),
                                      ("0.0.0", "0.0.0"), ("2.0.0-rc.1", "2")])
def test_compat_key(text, key):
    assert compat_key(v(text)) == key == v(text).compat_key


_ident = st.one_of(
    st.integers(min_value=0, max_value=30).map(str),
    st.text(alphabet="abcxyz-", min_size=1, max_size=4),
    st.text(alphabet="ab0129-", min_size=1, max_size=4).filter(lambda s: not (s.isdigit() and len(s) > 1 and s[0] == "0")),
)
_versions = st.builds(
    lambda ma, mi, pa, pre: f"{ma}.{mi}.{pa}" + (f"-{'.'.join(pre)}" if pre else ""),
    st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.lists(_ident, max_size=3),
)


@given(_versions, _versions)
def test_ordering_agrees_with_pypi_semver(a, b):
    va, vb = v(a), v(b)
    expected = pysemver.Version.parse(a).compare(pysemver.Version.parse(b))
    assert ((va > vb) - (va < vb)) == expected
    assert va.to_semver() == pysemver.Version.parse(a)


# --- cargo as the oracle for parsing and printing -------------------------------------

_req_alphabet = "0123456789.*xX^~=<>, -+a|v"


def _cargo_metadata_req(tmp: Path, text: str) -> tuple[bool, str]:
    """Run cargo on a manifest with one dependency ``foo = TEXT``; (ok, req or error)."""
    (tmp / "src").mkdir(exist_ok=True)
    (tmp / "src" / "lib.rs").write_text("")
    (tmp / "Cargo.toml").write_text(
        '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f"[dependencies]\nfoo = {json.dumps(text)}\n"
    )
    proc = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"],
                          cwd=tmp, capture_output=True, text=True)
    if proc.returncode == 0:
        return True, json.loads(proc.stdout)["packages"][0]["dependencies"][0]["req"]
    return False, proc.stderr.strip().splitlines()[-1].strip()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
@settings(max_examples=150)
@given(st.one_of(
    st.text(alphabet=_req_alphabet, max_size=14),
    st.builds(lambda op, ver, tail: f"{op}{ver}{tail}",
              st.sampled_from(["", "^", "~", "=", ">", ">=", "<", "<=", "= ", ">= "]),
              st.sampled_from(["1", "1.2", "1.2.3", "0.0.1", "1.*", "1.2.x", "1.2.3-alpha.1",
                               "1.2.3+b", "0.1.0-01", "1.2.3-a.b"]),
              st.sampled_from(["", ", <2", " , >=1.0.1", " <2", ",", " || 2"])),
))
def test_parse_and_display_match_cargo(tmp_path_factory, text):
    tmp = tmp_path_factory.mktemp("req")
    ok, out = _cargo_metadata_req(tmp, text)
    if ok:
        assert str(req(text)) == out
    else:
        with pytest.raises(ParseError) as info:
            req(text)
        assert info.value.message == out
