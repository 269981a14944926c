"""Real projects of the corpus, built end to end with our Nix and with cargo (issue 6).

The published crates.io versions of ripgrep (with ``pcre2``: C code compiled by
pcre2-sys's build script), fd (default features: jemalloc, built by tikv-jemalloc-sys's
build script with the bundled ``configure`` and ``make``, tools the built-in override in
``nix/overrides.nix`` provides) and hyperfine are fetched once into the download cache, their
``.crate`` files added to the Nix store, ``Cargo.nix`` generated from the shipped
``Cargo.lock``, and the binary built by ``nix-build`` (host-pkgs stand-in for nixpkgs,
dev profile) and by ``cargo build`` offline against the same files. Both binaries are run
— ``--version`` and real uses — and must behave the same, byte for byte (only timings are
normalised); ripgrep's and fd's own test suites run under both (``tests.<package>``,
``cargo test``).
See ``tests/realworld.py``.

Budget (2 cores, cold caches, downloads included): about 2 minutes per project (+1 for
each test suite; fd's jemalloc, configured and made by a build script, adds about 1.5 to
the Nix build, where ``NUM_JOBS`` is 1, and 1 to cargo's); the builds are shared by every
test of a project, even across xdist workers. The release profile costs 2.5-3.5x as
much, so the dev profile is used.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from realworld import PROJECTS, Built, BuildError, build_both, run_tests_both
from nocargo_py.toml_util import load_toml

pytestmark = [pytest.mark.slow, pytest.mark.nix, pytest.mark.network]

NAMES = sorted(PROJECTS)


@pytest.fixture(scope="session")
def work_root(tmp_path_factory) -> Path:
    """One directory for all xdist workers, so a project is built once per session
    (``$NOCARGO_CORPUS_BUILD_DIR`` keeps the builds across sessions, for development)."""
    keep = os.environ.get("NOCARGO_CORPUS_BUILD_DIR")
    if keep:
        return Path(keep)
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "corpus-build"


@pytest.fixture(scope="session")
def build(work_root: Path):
    """``build(name) -> Built`` (dev profile), built on first use."""
    done: dict[str, Built | BuildError] = {}

    def get(name: str) -> Built:
        if name not in done:
            try:
                done[name] = build_both(name, work_root / name, release=False)
            except BuildError as err:
                done[name] = err
        result = done[name]
        if isinstance(result, BuildError):
            pytest.fail(str(result), pytrace=False)
        return result

    return get


def run(exe: Path, *args: str, cwd: Path | None = None) -> tuple[int, bytes, bytes]:
    proc = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": str(cwd or "/"),
                               "NO_COLOR": "1", "TERM": "dumb"})
    return proc.returncode, proc.stdout, proc.stderr


def both(b: Built, *args: str, cwd: Path | None = None) -> tuple[int, bytes, bytes]:
    """Run the Nix-built and the cargo-built binary; assert the same status and output."""
    ours = run(b.nix_exe, *args, cwd=cwd)
    theirs = run(b.cargo_exe, *args, cwd=cwd)
    assert ours == theirs, (args, ours, theirs)
    return ours


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small directory tree to search."""
    root = tmp_path / "tree"
    files = {
        "README.md": "# demo\nfoobar is here\n",
        "src/main.rs": "fn main() {\n    println!(\"hello foobar\");\n}\n",
        "src/lib.rs": "pub fn foo() -> u32 { 42 }\n// foobaz\n",
        "docs/notes.txt": "Hello world\nhello again\nnothing\n",
        "docs/skip.log": "foobar in an ignored file\n",
        "deep/a/b/c.txt": "foo\nbar\nfoobar\n",
        ".ignore": "*.log\n",
        ".hidden/secret.txt": "foobar hidden\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("name", NAMES)
def test_project_is_the_corpus_project_and_fits_rustc(name: str, build, corpus_dir: Path) -> None:
    b = build(name)
    corpus = load_toml(corpus_dir / b.project.corpus / "Cargo.toml").data
    assert corpus["package"]["name"] == b.project.crate
    published = load_toml(b.root / "Cargo.toml").data["package"]
    assert published["version"] == b.project.version
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True)
    have = tuple(int(x) for x in rustc.stdout.split()[1].split("-")[0].split("."))
    need = tuple(int(x) for x in published["rust-version"].split("."))
    assert need <= have[:len(need)]


@pytest.mark.parametrize("name", NAMES)
def test_nix_build_fetches_only_the_added_crate_files(name: str, build) -> None:
    b = build(name)
    # Every .crate the build needed is one we added with `nix-store --add-fixed`: same
    # store path, so nothing was downloaded during the build (checked before it, too).
    assert b.fetches and set(b.fetches) <= set(b.added)
    assert len(b.added) == b.crates
    assert all(Path(p).name.endswith(".crate") for p in b.added)


@pytest.mark.parametrize("name", NAMES)
def test_version_matches_cargo(name: str, build) -> None:
    b = build(name)
    status, out, _ = both(b, "--version")
    assert status == 0 and out.decode().startswith(f"{b.project.crate.removesuffix('-find')} "
                                                   f"{b.project.version}")


def test_ripgrep_searches_like_cargo(build, tree: Path) -> None:
    b = build("ripgrep")
    status, out, _ = both(b, "-n", "--sort", "path", "foobar", cwd=tree)
    assert status == 0
    assert out == (b"README.md:2:foobar is here\n"
                   b"deep/a/b/c.txt:3:foobar\n"
                   b"src/main.rs:2:    println!(\"hello foobar\");\n")
    both(b, "--files", "--sort", "path", "--hidden", cwd=tree)
    both(b, "-c", "-i", "--sort", "path", "hello", cwd=tree)
    both(b, "--vimgrep", "--sort", "path", "-w", "foo", cwd=tree)
    both(b, "-l", "-uuu", "--sort", "path", "foobar", cwd=tree)
    status, out, _ = both(b, "no-such-text-anywhere", cwd=tree)
    assert (status, out) == (1, b"")
    status, _, err = both(b, "(unclosed", cwd=tree)
    assert status == 2 and b"regex parse error" in err


def test_ripgrep_pcre2_from_c_code_built_by_build_script(build, tree: Path) -> None:
    b = build("ripgrep")
    status, out, _ = both(b, "--pcre2-version")
    assert status == 0 and b"(JIT is available)" in out
    # Look-ahead and back-references: only the PCRE2 engine has them.
    status, out, _ = both(b, "-P", "-n", "--sort", "path", r"foo(?=ba[rz])", cwd=tree)
    assert status == 0 and out.count(b"\n") == 4 and b"src/lib.rs:2:// foobaz" in out
    both(b, "-P", "-o", "--sort", "path", r"(o)\1", cwd=tree)
    # The bundled PCRE2 is linked statically in both (no system libpcre2).
    for exe in (b.nix_exe, b.cargo_exe):
        dyn = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True,
                             check=True).stdout
        assert "pcre2" not in dyn
        syms = subprocess.run(["nm", str(exe)], capture_output=True, text=True, check=True).stdout
        assert "pcre2_compile_8" in syms


_CASE = re.compile(r"^test (\S+) \.\.\. (\w+)$", re.M)
_RESULT = re.compile(r"^test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored; "
                     r"(\d+) measured; (\d+) filtered out", re.M)


#: Projects whose own test suites run (hyperfine's passes too, by hand: 102 tests, but its
#: dev-dependencies cost ~80 s per toolchain, beyond this file's budget).
SUITES = {"ripgrep": 446, "fd": 241}  # test cases each runs (cargo test)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_own_test_suite_passes_like_under_cargo(name: str, build) -> None:
    """`tests.<package>` (unit and integration tests; ripgrep's run the `rg` binary found
    next to their own directory, as cargo lays it out; fd's run `echo`) against
    `cargo test`: the same cases, all passing, the same result lines."""
    b = build(name)
    try:
        logs, cargo_out = run_tests_both(b)
    except BuildError as err:
        pytest.fail(str(err), pytrace=False)
    ours, theirs = sorted(_CASE.findall(logs)), sorted(_CASE.findall(cargo_out))
    assert ours == theirs
    assert len(ours) == SUITES[name] and {status for _, status in ours} == {"ok"}
    assert sorted(_RESULT.findall(logs)) == sorted(_RESULT.findall(cargo_out))


def _lines(out: bytes) -> list[bytes]:
    # fd prints results in the order its worker threads find them: compare as a set.
    return sorted(out.splitlines())


def test_fd_finds_like_cargo(build, tree: Path) -> None:
    b = build("fd")
    cases = [("-t", "f"), ("-e", "txt"), ("-H", "foo"), ("-t", "d"), ("-g", "*.rs", "src"),
             ("-I", "-e", "log"), ("-e", "txt", "-x", "wc", "-l")]
    for args in cases:
        ours, theirs = run(b.nix_exe, *args, cwd=tree), run(b.cargo_exe, *args, cwd=tree)
        assert ours[0] == theirs[0] == 0 and ours[2] == theirs[2], (args, ours, theirs)
        assert _lines(ours[1]) == _lines(theirs[1]), args
    assert _lines(run(b.nix_exe, "-e", "txt", cwd=tree)[1]) == [
        b"deep/a/b/c.txt", b"docs/notes.txt"]
    status, out, _ = both(b, "--gen-completions", "bash")
    assert status == 0 and b"complete -F _fd" in out
    status, out, _ = both(b, "no-such-file-name", cwd=tree)
    assert (status, out) == (0, b"")
    status, out, _ = both(b, "-q", "no-such-file-name", cwd=tree)  # --quiet: found or not
    assert (status, out) == (1, b"")


def test_fd_allocates_with_jemalloc_like_cargo(build) -> None:
    """fd's default `use-jemalloc`: the jemalloc that tikv-jemalloc-sys's build script
    configured and made is linked into both binaries, statically, and is the allocator
    at run time (its prefixed `MALLOC_CONF` asks for statistics at exit)."""
    b = build("fd")
    for exe in (b.nix_exe, b.cargo_exe):
        syms = subprocess.run(["nm", str(exe)], capture_output=True, text=True,
                              check=True).stdout
        assert " T _rjem_malloc\n" in syms and " T _rjem_mallocx\n" in syms, exe
        dyn = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True,
                             check=True).stdout
        assert "jemalloc" not in dyn
        env = {"PATH": "/usr/bin:/bin", "_RJEM_MALLOC_CONF": "stats_print:true"}
        proc = subprocess.run([str(exe), "--version"], capture_output=True, timeout=60, env=env)
        assert proc.returncode == 0, exe
        assert proc.stdout == f"fd {b.project.version}\n".encode(), exe
        assert b"___ Begin jemalloc statistics ___" in proc.stderr, exe


_TIME = re.compile(rb"[0-9]+(?:\.[0-9]+)?\s*(?:ns|\xc2\xb5s|ms|s)\b|\[(?:ns|\xc2\xb5s|ms|s)\]")


def _normalise_timings(out: bytes) -> bytes:
    """Timings (value + unit, and the unit in table headers) become `T`; the padding that
    depends on their width is collapsed. Nothing else changes."""
    out = _TIME.sub(b"T", out)
    out = re.sub(rb"[0-9]+\.[0-9]+", b"N", out)  # relative speed, e.g. 1.00
    return re.sub(rb" +", b" ", out)


def test_hyperfine_benchmarks_like_cargo(build, tmp_path: Path) -> None:
    b = build("hyperfine")
    results = []
    for i, exe in enumerate((b.nix_exe, b.cargo_exe)):
        export = tmp_path / f"{i}.json"
        status, out, _ = run(exe, "--runs", "2", "-N", "--style", "basic", "--export-json",
                             str(export), "--export-markdown", "/dev/stdout", "echo hello",
                             cwd=tmp_path)
        assert status == 0
        data = json.loads(export.read_text())
        for r in data["results"]:
            for key in ("mean", "stddev", "median", "user", "system", "min", "max"):
                assert isinstance(r.pop(key), float)
            assert len(r.pop("times")) == 2 and len(r.pop("memory_usage_byte")) == 2
        results.append((_normalise_timings(out), data))
    assert results[0] == results[1]
    text, data = results[0]
    assert data == {"results": [{"command": "echo hello", "exit_codes": [0, 0]}]}
    assert b"Benchmark 1: echo hello" in text and b"2 runs" in text
    # A failing command: same error, same status.
    status, _, err = both(b, "--runs", "2", "-N", "--style", "none", "false", cwd=tmp_path)
    assert status == 1 and b"non-zero exit code" in err
