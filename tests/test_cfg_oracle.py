"""Differential tests of the cfg package against cargo 1.95 and rustc 1.95 themselves.

* every row of the error / valid / evaluation tables, and hypothesis-generated (mostly
  invalid) keys, against ``cargo metadata`` (acceptance, exact error text, printed form);
* thousands of hypothesis-generated expressions evaluated by rustc's ``cfg!()`` (batched
  into one small program per example) under random ``--cfg`` sets, and by us;
* the target database against ``rustc --print cfg --target T`` for every target;
* which ``[target.KEY]`` tables cargo applies (``cargo metadata --filter-platform``) for
  the table keys, every key of the corpus and of the vendored index data, on a spread of
  targets;
* ``CARGO_CFG_*`` against what a build script really receives from ``cargo build``;
* merging of extra ``--cfg`` values against rustc's own print order; custom target JSON;
  the host triple.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from conftest import REPO_ROOT, is_ci_profile
from nocargo_py.cfg import (
    CfgBool,
    CfgExpr,
    CfgKeyValue,
    CfgName,
    Platform,
    cfg_env_vars,
    host_triple,
    list_targets,
    render,
    target_info,
)
from nocargo_py.cfg.targets import CARGO_CFG_QUERY
from nocargo_py.errors import ParseError
from test_cfg_corpus import corpus_target_keys, index_target_keys
from test_cfg_properties import SUSPICIOUS, expressions
from test_cfg_tables import ERROR_TABLE, EVAL_TABLE, HOST, VALID_TABLE

pytestmark = pytest.mark.slow

CARGO = shutil.which("cargo") or "cargo"
RUSTC = shutil.which("rustc") or "rustc"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC_BOOTSTRAP", "CARGO_BUILD_TARGET")}
    env["CARGO_TERM_COLOR"] = "never"
    env.update(extra)
    return env


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_PACKAGE = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'


def _make_package(directory: Path, name: str, extra: str = "") -> None:
    (directory / "src").mkdir(parents=True, exist_ok=True)
    (directory / "src" / "lib.rs").write_text("")
    (directory / "Cargo.toml").write_text(_PACKAGE.format(name=name) + extra)


class CargoManifestOracle:
    """Asks ``cargo metadata --no-deps`` what it makes of ``[target.KEY]`` keys."""

    def __init__(self, root: Path) -> None:
        self.root = root
        _make_package(root / "dep", "dep")
        _make_package(root / "top", "top")

    def _write(self, keys: list[str]) -> None:
        tables = "".join(
            f"\n[target.{toml_string(key)}.dependencies]\ndep = {{ path = \"../dep\" }}\n" for key in keys
        )
        (self.root / "top" / "Cargo.toml").write_text(_PACKAGE.format(name="top") + tables)

    def check(self, keys: list[str]) -> tuple[str | None, list[str]]:
        """(cargo's error text or None, printed targets of the dependency declarations)."""
        self._write(keys)
        proc = subprocess.run(
            [CARGO, "metadata", "--offline", "--no-deps", "--format-version", "1"],
            cwd=self.root / "top", capture_output=True, env=_clean_env(),
        )
        # decode by hand: text mode would turn a `\r` in cargo's message into `\n`
        stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
        if proc.returncode == 0:
            data = json.loads(stdout)
            return None, [d["target"] for d in data["packages"][0]["dependencies"]]
        marker = "Caused by:\n"
        assert marker in stderr, stderr
        cause = stderr.split(marker, 1)[1].rstrip("\n")
        lines = [line[2:] if line.startswith("  ") else line for line in cause.split("\n")]
        return "\n".join(lines), []


@pytest.fixture(scope="module")
def cargo_manifest(tmp_path_factory) -> CargoManifestOracle:
    return CargoManifestOracle(tmp_path_factory.mktemp("cfg-manifest"))


def ours(key: str) -> tuple[str | None, str | None]:
    """(our error headline or None, our printed platform or None)."""
    try:
        platform = Platform.parse(key)
    except ParseError as err:
        return err.headline(), None
    return None, str(platform)


# --- parse errors and printing vs cargo ---------------------------------------------


@pytest.mark.parametrize("key,source,message,span", ERROR_TABLE)
def test_error_table_against_cargo(cargo_manifest, key, source, message, span) -> None:
    error, _ = cargo_manifest.check([key])
    assert error == f"failed to parse `{source}` as a cfg expression: {message}"


def test_valid_table_against_cargo(cargo_manifest) -> None:
    keys = [key for key, _ in VALID_TABLE]
    error, printed = cargo_manifest.check(keys)
    assert error is None
    # cargo lists the declarations sorted by platform; compare as multisets
    assert sorted(printed) == sorted(printed_form for _, printed_form in VALID_TABLE)


@settings(max_examples=300 if is_ci_profile() else 40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(SUSPICIOUS, st.booleans())
def test_fuzzed_keys_against_cargo(cargo_manifest, text: str, as_cfg: bool) -> None:
    # cargo's terminal output strips most control characters (anstream), so its message
    # would not show them: leave those out of the comparison
    assume(all(ch in "\t\n\r\f" or unicodedata.category(ch) != "Cc" for ch in text))
    key = f"cfg({text})" if as_cfg else text
    error, printed = cargo_manifest.check([key])
    our_error, our_printed = ours(key)
    assert our_error == error
    if error is None:
        assert printed == [our_printed]


# --- evaluation vs rustc's cfg!() ---------------------------------------------------

R_PLAIN_NAMES = ["foo", "bar", "baz_1", "_q", "Zed", "unix", "windows", "debug_assertions",
                 "test", "all", "any", "not"]
R_KEYWORD_NAMES = ["fn", "match", "loop"]  # only valid raw in rustc
R_KEYS = ["k", "k2", "target_os", "target_family", "target_feature", "feature", "r"]
R_VALUES = ["", "a", "b", "linux", "unix", "sse2", "x y", "é ü", "(,)=", "'#"]


def _rustc_leaves() -> st.SearchStrategy[CfgExpr]:
    return st.one_of(
        st.builds(CfgName, st.sampled_from(R_PLAIN_NAMES), st.booleans()),
        st.builds(CfgName, st.sampled_from(R_KEYWORD_NAMES), st.just(True)),
        st.builds(CfgKeyValue, st.sampled_from(R_KEYS), st.sampled_from(R_VALUES), st.booleans()),
        st.builds(CfgBool, st.booleans()),
    )


R_EXPR = expressions(_rustc_leaves(), max_leaves=10)
R_CFG = st.one_of(
    st.sampled_from(R_PLAIN_NAMES).filter(lambda n: n not in ("all", "any", "not")),
    st.sampled_from(R_KEYWORD_NAMES).map(lambda n: "r#" + n),
    st.builds(lambda k, v: f'{k}="{v}"', st.sampled_from(R_KEYS), st.sampled_from(R_VALUES)),
)


def rustc_eval(exprs: list[CfgExpr], cfgs: list[str], workdir: Path) -> list[bool]:
    """Evaluate every expression with ``cfg!()`` in one program compiled with ``--cfg``s."""
    body = ",\n        ".join(f"cfg!({render(e)})" for e in exprs)
    src = workdir / "probe.rs"
    exe = workdir / "probe"
    src.write_text(
        "fn main() {\n"
        f"    let r: [bool; {len(exprs)}] = [\n        {body}\n    ];\n"
        "    let s: String = r.iter().map(|&b| if b { '1' } else { '0' }).collect();\n"
        '    println!("{}", s);\n'
        "}\n", encoding="utf-8")
    flags = [f for c in cfgs for f in ("--cfg", c)]
    proc = subprocess.run(
        [RUSTC, "--edition", "2021", "-A", "unexpected_cfgs", "-A", "explicit_builtin_cfgs_in_flags",
         "-C", "opt-level=0", "-C", "debuginfo=0", "-o", str(exe), str(src), *flags],
        capture_output=True, text=True, env=_clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip()
    return [ch == "1" for ch in out]


RUSTC_BATCH = 250


@settings(max_examples=24 if is_ci_profile() else 6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          # no shrinking: each step compiles a program; the failure lists the mismatches
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.lists(R_EXPR, min_size=RUSTC_BATCH, max_size=RUSTC_BATCH), st.lists(R_CFG, max_size=8))
def test_evaluation_against_rustc(tmp_path_factory, exprs: list[CfgExpr], cfgs: list[str]) -> None:
    workdir = tmp_path_factory.mktemp("rustc-eval")
    expected = rustc_eval(exprs, cfgs, workdir)
    target = target_info(HOST, extra_cfgs=cfgs)
    got = [Platform.parse(f"cfg({render(e)})").matches(target) for e in exprs]
    mismatches = [(render(e), want) for e, want, have in zip(exprs, expected, got) if want != have]
    assert not mismatches, (cfgs, mismatches[:5])


def test_rustc_differential_is_not_vacuous(tmp_path) -> None:
    # both outcomes occur, and the custom cfgs make a difference (fixed, readable cases)
    exprs = [CfgName("foo"), CfgName("fn", raw=True), CfgKeyValue("k", "x y"), CfgName("unix"),
             CfgName("all", raw=True)]
    assert rustc_eval(exprs, ["foo", "r#fn", 'k="x y"'], tmp_path) == [True, True, True, True, False]
    assert rustc_eval(exprs, [], tmp_path) == [False, False, False, True, False]


# --- the target database vs rustc ---------------------------------------------------


def _rustc_print_cfg(*args: str, env: dict[str, str] | None = None) -> str:
    """The cfg lines cargo gets from rustc (its query, minus the `proc_macro` it drops)."""
    out = subprocess.run([RUSTC, *CARGO_CFG_QUERY, *args], capture_output=True, text=True,
                         check=True, env=env or _clean_env(), stdin=subprocess.DEVNULL).stdout
    return "".join(line + "\n" for line in out.splitlines() if line != "proc_macro")


def test_cargo_query_differs_from_bare_print_cfg() -> None:
    # why the database is built from cargo's query and not from `rustc --print cfg`
    bare = subprocess.run([RUSTC, "--print", "cfg", "--target", "x86_64-unknown-linux-musl"],
                          capture_output=True, text=True, check=True).stdout
    assert 'target_feature="crt-static"' in bare.splitlines()
    assert 'target_feature="crt-static"' not in _rustc_print_cfg("--target", "x86_64-unknown-linux-musl")
    assert not target_info("x86_64-unknown-linux-musl").has("target_feature", "crt-static")


def test_target_list_matches_rustc() -> None:
    live = subprocess.run([RUSTC, "--print", "target-list"], capture_output=True, text=True,
                          check=True).stdout.split()
    assert list(list_targets()) == live
    assert list_targets(RUSTC) == tuple(live)


def test_target_database_matches_rustc_for_every_target() -> None:
    targets = list_targets()
    assert len(targets) > 250
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(lambda t: _rustc_print_cfg("--target", t), targets))
    mismatched = [t for t, out in zip(targets, outputs) if target_info(t).print_cfg() != out]
    assert not mismatched


def test_alphanumeric_table_is_up_to_date() -> None:
    # the Unicode table of Rust's char::is_alphanumeric (target-name validation) is what
    # this toolchain computes (the target database is checked above, target by target)
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gen_targets.py"), "--check",
                           "--only", "alphanumeric", "--rustc", RUSTC],
                          capture_output=True, text=True, env=_clean_env())
    assert proc.returncode == 0, proc.stderr


def test_live_rustc_target_info() -> None:
    for triple in [HOST, "wasm32-unknown-unknown", "aarch64-apple-darwin"]:
        assert target_info(triple, rustc=RUSTC) == target_info(triple)
    live = target_info(HOST, rustc=RUSTC, rustflags=["-C", "target-feature=+avx2"])
    assert "avx2" in live.features and "avx2" not in target_info(HOST).features
    assert live.print_cfg() == _rustc_print_cfg("--target", HOST, "-C", "target-feature=+avx2")


R_SPEC = st.one_of(
    st.from_regex(r"(r#)?[A-Za-z_][A-Za-z0-9_]{0,4}", fullmatch=True).filter(
        lambda s: s.removeprefix("r#") not in ("true", "false", "_", "crate", "self", "super", "Self")
        and s not in _RUST_KEYWORDS),
    st.builds(lambda k, v: f'{k}="{v}"', st.sampled_from(["a", "a0", "target_os", "zz", "A"]),
              st.text(st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")),
                      max_size=4)),
)
_RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "type", "unsafe", "use", "where", "while",
    "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
}


@settings(max_examples=60 if is_ci_profile() else 10, deadline=None)
@given(st.lists(R_SPEC, max_size=6))
def test_extra_cfgs_merge_like_rustc(specs: list[str]) -> None:
    flags = [f for s in specs for f in ("--cfg", s)]
    expected = _rustc_print_cfg("--target", "aarch64-unknown-linux-gnu", *flags)
    assert target_info("aarch64-unknown-linux-gnu", extra_cfgs=specs).print_cfg() == expected


# --- which target tables cargo applies ------------------------------------------------


class CargoPlatformOracle:
    """A package with one path dependency per key, asked with ``--filter-platform``."""

    def __init__(self, root: Path, keys: list[str]) -> None:
        self.root = root
        self.keys = list(dict.fromkeys(keys))
        self._cache: dict[tuple[str, str], set[str]] = {}
        tables = []
        for index, key in enumerate(self.keys):
            _make_package(root / f"d{index}", f"d{index}")
            tables.append(f"\n[target.{toml_string(key)}.dependencies]\n"
                          f"d{index} = {{ path = \"../d{index}\" }}\n")
        _make_package(root / "top", "top", "".join(tables))

    def applied(self, triple: str, rustflags: str = "") -> set[str]:
        """The keys whose tables cargo applies for ``triple`` (cached)."""
        if (triple, rustflags) not in self._cache:
            self._cache[triple, rustflags] = self._applied(triple, rustflags)
        return self._cache[triple, rustflags]

    def _applied(self, triple: str, rustflags: str) -> set[str]:
        env = _clean_env(RUSTFLAGS=rustflags) if rustflags else _clean_env()
        proc = subprocess.run(
            [CARGO, "metadata", "--offline", "--format-version", "1", "--filter-platform", triple],
            cwd=self.root / "top", capture_output=True, text=True, env=env,
        )
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        node = next(n for n in data["resolve"]["nodes"] if "/top#" in n["id"])
        return {self.keys[int(dep["name"][1:])] for dep in node["deps"]}


def _oracle_keys(corpus: Path) -> list[str]:
    extra = ['cfg(all(unix, not(target_os = "macos")))', 'cfg(target_arch = "wasm32")',
             "cfg(foo)", 'cfg(k = "v")', "cfg(not(foo))", 'cfg(any(k = "w", k = "v"))']
    return [row[0] for row in EVAL_TABLE] + corpus_target_keys(corpus) + extra + sorted(set(index_target_keys()))


ORACLE_TARGETS = sorted({row[1] for row in EVAL_TABLE} | {
    "x86_64-pc-windows-gnu", "i686-pc-windows-msvc", "aarch64-linux-android", "x86_64-unknown-freebsd",
    "riscv64gc-unknown-linux-gnu", "powerpc64-unknown-linux-gnu", "thumbv7em-none-eabihf",
    "aarch64-unknown-linux-musl", "x86_64-unknown-illumos", "wasm32-wasip2", "x86_64-unknown-redox",
    "armv7-linux-androideabi", "mips-unknown-linux-gnu", "x86_64-apple-ios",
})


@pytest.fixture(scope="module")
def cargo_platforms(tmp_path_factory, corpus_dir) -> CargoPlatformOracle:
    return CargoPlatformOracle(tmp_path_factory.mktemp("cfg-platforms"), _oracle_keys(corpus_dir))


@pytest.mark.parametrize("triple", ORACLE_TARGETS)
def test_applied_tables_match_cargo(cargo_platforms, triple: str) -> None:
    expected = cargo_platforms.applied(triple)
    target = target_info(triple)
    got = {key for key in cargo_platforms.keys if Platform.parse(key).matches(target)}
    assert got == expected


def test_applied_tables_match_cargo_with_rustflags(cargo_platforms) -> None:
    for triple in [HOST, "wasm32-unknown-unknown"]:
        expected = cargo_platforms.applied(triple, rustflags='--cfg foo --cfg k="v"')
        target = target_info(triple, extra_cfgs=["foo", 'k="v"'])
        got = {key for key in cargo_platforms.keys if Platform.parse(key).matches(target)}
        assert got == expected
        assert "cfg(foo)" in got and 'cfg(k = "v")' in got


def test_eval_table_against_cargo(cargo_platforms) -> None:
    by_target: dict[str, set[str]] = {}
    for key, triple, expected in EVAL_TABLE:
        applied = by_target.setdefault(triple, cargo_platforms.applied(triple))
        assert (key in applied) is expected, (key, triple)


def test_warnings_match_cargo_check(tmp_path) -> None:
    keys = [
        'cfg(all(test, not(debug_assertions), any(proc_macro, feature = "x"), unix))',
        'cfg(any(true = "x", r#false = "y", false))',
        "cfg(r#test)",
        'cfg(all(feature = "a", feature = "b", r#proc_macro))',
        "cfg(windows)",
        "x86_64-unknown-linux-gnu",
    ]
    _make_package(tmp_path / "dep", "dep")
    tables = "".join(f"\n[target.{toml_string(k)}.dependencies]\ndep = {{ path = \"../dep\" }}\n" for k in keys)
    _make_package(tmp_path / "top", "top", tables)
    proc = subprocess.run([CARGO, "check", "--offline"], cwd=tmp_path / "top", capture_output=True,
                          text=True, env=_clean_env(CARGO_TARGET_DIR=str(tmp_path / "target")))
    assert proc.returncode == 0, proc.stderr
    cargo_warnings: list[str] = []
    for line in proc.stderr.splitlines():
        if line.startswith("warning: "):
            cargo_warnings.append(line[len("warning: "):])
        elif line.startswith(" |") and cargo_warnings:
            cargo_warnings[-1] += "\n" + line
    manifest = tmp_path / "top" / "Cargo.toml"
    ours = [w for key in sorted(keys)
            for w in Platform.parse(key).warnings() + Platform.parse(key).keyword_warnings(manifest)]
    assert ours == cargo_warnings
    assert len(ours) == 9


# --- CARGO_CFG_* vs a real build script ---------------------------------------------

_BUILD_RS = r"""
use std::io::Write;
fn main() {
    let mut v: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("CARGO_CFG_")).collect();
    v.sort();
    let mut f = std::fs::File::create(std::env::var("CFG_DUMP").unwrap()).unwrap();
    for (k, val) in v { writeln!(f, "{}\t{}", k, val).unwrap(); }
    println!("cargo:rerun-if-env-changed=CFG_DUMP");
}
"""


@pytest.mark.parametrize("triple,release", [
    (HOST, False), (HOST, True), ("wasm32-unknown-unknown", False), ("aarch64-apple-darwin", False),
    ("x86_64-pc-windows-msvc", False), ("armv7-unknown-linux-gnueabihf", True),
    ("x86_64-unknown-linux-musl", False),
])
def test_cfg_env_vars_match_cargo(tmp_path_factory, triple: str, release: bool) -> None:
    root = tmp_path_factory.getbasetemp() / "cfg-env"
    if not root.exists():
        _make_package(root, "envprobe", 'build = "build.rs"\n\n[features]\nb-x = []\na = []\nzed = []\n')
        (root / "build.rs").write_text(_BUILD_RS)
    dump = tmp_path_factory.mktemp("dump") / "env.txt"
    rustflags = '--cfg foo --cfg k="v" --cfg k="w" --cfg feature="q"'
    cmd = [CARGO, "build", "--offline", "--features", "b-x,a", "--target", triple]
    if release:
        cmd.append("--release")
    subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                   env=_clean_env(RUSTFLAGS=rustflags, CFG_DUMP=str(dump)))
    # (the library itself may fail to build: only the host std is installed; the build
    # script ran before that)
    assert dump.exists()
    cargo_env = dict(line.split("\t", 1) for line in dump.read_text().splitlines())
    target = target_info(triple, extra_cfgs=["foo", 'k="v"', 'k="w"', 'feature="q"'])
    assert cfg_env_vars(target, features=["b-x", "a"], debug_assertions=not release) == cargo_env


# --- custom targets and the host ----------------------------------------------------


def test_custom_target_json(tmp_path) -> None:
    env = _clean_env(RUSTC_BOOTSTRAP="1")
    spec = subprocess.run([RUSTC, "-Zunstable-options", "--print", "target-spec-json", "--target",
                           "aarch64-unknown-linux-gnu"], capture_output=True, text=True, check=True,
                          env=env).stdout
    path = tmp_path / "my-board.json"
    path.write_text(spec)
    info = target_info(str(path), rustc=RUSTC)
    assert info.triple == "my-board"
    expected = _rustc_print_cfg("--target", "aarch64-unknown-linux-gnu", env=env)
    assert info.print_cfg() == expected
    assert info == target_info("my-board", custom_target_json=path)
    assert Platform.parse("my-board").matches(info)
    assert not Platform.parse("aarch64-unknown-linux-gnu").matches(info)
    assert Platform.parse('cfg(target_arch = "aarch64")').matches(info)


def test_host_triple() -> None:
    live = subprocess.run([RUSTC, "-vV"], capture_output=True, text=True, check=True).stdout
    host = next(line.split(": ", 1)[1] for line in live.splitlines() if line.startswith("host: "))
    assert host_triple(RUSTC) == host
    assert host_triple() == host
