"""Randomized differential tests: hypothesis builds package trees (files on disk, explicit
targets, auto* flags, dependency tables, features, target keys) and cargo is the oracle.

For every generated tree: cargo accepts it ⇔ nocargo-py accepts it, and when both accept,
the `metadata --no-deps` JSON is byte-identical. nocargo-py runs in-process here (the CLI
path is covered elsewhere); any exception other than NocargoError fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from conftest import is_ci_profile
from nocargo_py.errors import NocargoError
from nocargo_py.metadata import metadata_text
from nocargo_py.workspace import WorkspaceLoader, load_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo"),
]

EXAMPLES = 150 if is_ci_profile() else 25

CANDIDATE_FILES = [
    "src/lib.rs", "src/main.rs", "src/bin/a.rs", "src/bin/b.rs", "src/bin/p.rs",
    "src/bin/c/main.rs", "src/bin/d/helper.rs", "src/bin/.hidden.rs", "src/a.rs", "src/t.rs",
    "src/legacy.rs", "src/bench.rs", "src/bin/main.rs", "examples/x.rs", "examples/y/main.rs",
    "examples/a.rs", "tests/t.rs", "tests/u/main.rs", "benches/b.rs", "benches/bench.rs",
    "build.rs", "tools/build.rs", "other/thing.rs",
]
TARGET_NAMES = ["a", "b", "x", "t", "p", "legacy", "bench", "my-bin", "c"]
TARGET_PATHS = [None, None, None, "src/a.rs", "other/thing.rs", "src/bin/b.rs", "examples/x.rs",
                "tests/t.rs", "./src/../src/a.rs", "src/a.rs", "other/thing.rs"]


def _toml_str(s: str) -> str:
    return json.dumps(s)


@st.composite
def target_tables(draw, section: str) -> str:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        lines = [f"[[{section}]]"]
        if draw(st.booleans()) or True:
            lines.append(f"name = {_toml_str(draw(st.sampled_from(TARGET_NAMES)))}")
        path = draw(st.sampled_from(TARGET_PATHS)) if draw(st.integers(0, 19)) else "missing.rs"
        if path:
            lines.append(f"path = {_toml_str(path)}")
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"required-features = [{', '.join(_toml_str(f) for f in draw(st.lists(st.sampled_from(['f1', 'f2']), max_size=2)))}]")
        for key in ("test", "doc", "bench", "harness"):
            if draw(st.integers(0, 5)) == 0:
                lines.append(f"{key} = {'true' if draw(st.booleans()) else 'false'}")
        if section == "example" and draw(st.integers(0, 3)) == 0:
            lines.append(f"crate-type = [{_toml_str(draw(st.sampled_from(['cdylib', 'bin', 'staticlib'])))}]")
        out.append("\n".join(lines))
    return "\n".join(out)


# Per dependency name, forms that agree on the source (cargo rejects one name with two
# sources); once in a while a form cargo rejects.
DEP_FORMS = {
    "serde": ['"1"', '"^0.2.3"', '">= 1.2, < 2"', '{ version = "1", features = ["derive"] }',
              '{ version = "1", optional = true }'],
    "rand": ['"=1.0.0"', '"*"', '"1.*"', '{ version = "0.3", default-features = false, features = ["x"] }',
             '{ version = "1", package = "real-name" }'],
    "opt": ['"~1.2.3"', '{ version = "1", optional = true }', '{ version = "2", optional = true }'],
    "dep": ['{ path = "dep" }', '{ path = "dep", version = "0.1", optional = true }',
            '{ path = "./dep/", version = "0.1" }'],
    "my_dep": ['{ git = "https://example.com/r", tag = "v1" }',
               '{ git = "https://example.com/r", tag = "v1", optional = true }'],
}
INVALID_DEP_VALUES = ['"v1"', '"1 2"', '{ }', '{ version = "1", features = ["a/b"] }',
                      '{ git = "https://example.com/r", branch = "b", rev = "c" }']
DEP_NAMES = sorted(DEP_FORMS)


def mostly(valid: list, invalid: list, percent: int = 4):
    """Values cargo accepts, and now and then (about ``percent`` %) one it rejects.

    The switch is a number in the middle of 0..99 so that hypothesis' preference for
    boundary values does not turn "now and then" into "most of the time".
    """
    def pick(n: int):
        return st.sampled_from(invalid if 40 <= n < 40 + percent else valid)
    return st.integers(0, 99).flatmap(pick)


@st.composite
def dep_tables(draw, min_size: int = 0, dev: bool = False) -> dict:
    names = draw(st.lists(st.sampled_from(DEP_NAMES), unique=True, min_size=min_size, max_size=3))
    out = {}
    for n in names:
        forms = [f for f in DEP_FORMS[n] if not (dev and "optional" in f)] or DEP_FORMS[n]
        out[n] = draw(mostly(forms, INVALID_DEP_VALUES, percent=4))
    return out


TARGET_KEYS = mostly(["cfg(unix)", "cfg(all(unix,target_pointer_width=\"64\"))", "cfg(windows)",
                      "x86_64-pc-windows-msvc", "cfg(not(any(windows,target_os = \"macos\")))"],
                     ["cfg(unix, windows)", "cfg(test)"], percent=8)
FEATURE_VALUES = mostly(["dep:opt", "opt", "serde/std", "opt?/x", "f1", "dep:serde", "rand/x",
                         "f2", "my_dep?/y"], ["nope", "dep:nope"], percent=8)


@st.composite
def manifests(draw) -> tuple[str, list[str]]:
    files = draw(st.lists(st.sampled_from(CANDIDATE_FILES), unique=True, max_size=12))
    if "src/lib.rs" not in files and draw(st.integers(0, 9)) < 7:
        files.append("src/lib.rs")
    lines = ["[package]", 'name = "p"', 'version = "0.1.0"']
    edition = draw(st.sampled_from([None, "2015", "2018", "2021", "2024"]))
    if edition:
        lines.append(f'edition = "{edition}"')
    for flag in ("autolib", "autobins", "autoexamples", "autotests", "autobenches"):
        value = draw(st.sampled_from([None, None, True, False]))
        if value is not None:
            lines.append(f"{flag} = {'true' if value else 'false'}")
    build = draw(st.sampled_from([None, None, "false", "true", '"tools/build.rs"']))
    if build:
        lines.append(f"build = {build}")
    body = ["\n".join(lines)]
    if draw(st.integers(0, 3)) == 0:
        lib = ["[lib]"]
        name = draw(st.sampled_from([None, "p", "legacy", "other_name", None, "p", "other_name"]
                                    + (["bad-name"] if draw(st.integers(0, 9)) == 0 else [])))
        if name:
            lib.append(f'name = "{name}"')
        path = draw(st.sampled_from([None, "src/a.rs", "src/lib.rs", "src/lib.rs"]))
        if path:
            lib.append(f'path = "{path}"')
        kind = draw(st.sampled_from([None, "proc-macro = true", 'crate-type = ["cdylib", "rlib"]',
                                     'crate-type = ["staticlib"]', "doctest = false"]))
        if kind:
            lib.append(kind)
        body.append("\n".join(lib))
    for section in ("bin", "example", "test", "bench"):
        text = draw(target_tables(section))
        if text:
            body.append(text)
    for table in ("dependencies", "dev-dependencies", "build-dependencies"):
        entries = draw(dep_tables(dev=table == "dev-dependencies"))
        if entries:
            body.append(f"[{table}]\n" + "\n".join(f"{k} = {v}" for k, v in entries.items()))
    for key in draw(st.lists(TARGET_KEYS, unique=True, max_size=2)):
        kind = draw(st.sampled_from(["dependencies", "dev-dependencies", "build-dependencies"]))
        entries = draw(dep_tables(min_size=1, dev=kind == "dev-dependencies"))
        body.append(f"[target.'{key}'.{kind}]\n" + "\n".join(f"{k} = {v}" for k, v in entries.items()))
    features = draw(st.dictionaries(st.sampled_from(["f1", "f2", "default", "opt"]),
                                    st.lists(FEATURE_VALUES, max_size=2),
                                    max_size=3))
    if features:
        body.append("[features]\n" + "\n".join(
            f"{k} = [{', '.join(_toml_str(v) for v in vs)}]" for k, vs in features.items()))
    return "\n\n".join(body) + "\n", files


def _write(root: Path, manifest: str, files: list[str]) -> None:
    (root / "Cargo.toml").write_text(manifest)
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("fn main() {}\n")
    (root / "dep" / "src").mkdir(parents=True, exist_ok=True)
    (root / "dep" / "src" / "lib.rs").write_text("")
    (root / "dep" / "Cargo.toml").write_text('[package]\nname = "dep"\nversion = "0.1.0"\n')


def _cause(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = lines[-1] if lines else ""
    return text.split("`")[0][:40]


def _ours(root: Path) -> tuple[bool, str]:
    try:
        ws = load_workspace(None, root, strict=False, loader=WorkspaceLoader(cwd=root, strict=False))
    except NocargoError as err:
        return False, err.render()
    return True, metadata_text(ws)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(manifests())
def test_random_packages_match_cargo(case):
    manifest, files = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        root.mkdir()
        _write(root, manifest, files)
        env = {**os.environ, "CARGO_HOME": str(Path(tmp) / "home"), "RUSTUP_TOOLCHAIN": "stable"}
        theirs = subprocess.run(["cargo", "metadata", "--no-deps", "--offline",
                                 "--format-version", "1"], cwd=root, env=env,
                                capture_output=True, text=True)
        ok, ours = _ours(root)
        event("accepted" if theirs.returncode == 0 else "rejected: " + _cause(theirs.stderr))
        context = f"manifest:\n{manifest}\nfiles: {files}\ncargo: {theirs.stderr}\nours: {ours[:2000]}"
        assert (theirs.returncode == 0) == ok, context
        if ok:
            assert ours == theirs.stdout, context


# --- random workspaces ------------------------------------------------------------------

PACKAGE_DIRS = ["a", "b", "crates/c", "crates/d", "crates/e/f", "other/g", "../outside"]
MEMBER_PATTERNS = mostly(["crates/*", "a", "crates/**", "other/?", "b", "crates/e/f",
                          "crates/[cd]", "../outside"], ["nope-*", "missing"], percent=10)
EXCLUDES = ["crates/d", "other", "crates/e", "b"]


@st.composite
def workspaces(draw) -> tuple[dict[str, str], str]:
    dirs = draw(st.lists(st.sampled_from(PACKAGE_DIRS), unique=True, min_size=1, max_size=5))
    virtual = draw(st.booleans())
    files: dict[str, str] = {}
    ws = ["[workspace]"]
    members = draw(st.lists(MEMBER_PATTERNS, unique=True, max_size=3))
    members = [m for m in members if m.rstrip("/*?").split("/")[0] in
               {d.split("/")[0] for d in dirs} | {"nope-", "missing"}] or members[:1]
    if members or draw(st.booleans()):
        ws.append("members = [" + ", ".join(_toml_str(m) for m in members) + "]")
    excludes = draw(st.lists(st.sampled_from(EXCLUDES), unique=True, max_size=2))
    if excludes:
        ws.append("exclude = [" + ", ".join(_toml_str(e) for e in excludes) + "]")
    if draw(st.integers(0, 3)) == 0 and dirs:
        default = draw(st.lists(st.sampled_from(dirs), unique=True, min_size=1, max_size=2))
        ws.append("default-members = [" + ", ".join(_toml_str(d) for d in default) + "]")
    if draw(st.booleans()):
        ws.append(f'resolver = "{draw(st.sampled_from(["1", "2", "3"]))}"')
    root_pkg = ""
    if not virtual:
        root_pkg = '[package]\nname = "root"\nversion = "0.1.0"\nedition = "2021"\n'
        files["src/lib.rs"] = ""
    root_deps = []
    for i, d in enumerate(dirs):
        name = "pkg-" + d.replace("/", "-").replace(".", "")
        deps = draw(st.lists(st.sampled_from(dirs), unique=True, max_size=2))
        dep_lines = []
        for other in deps:
            if other == d:
                continue
            rel = os.path.relpath(os.path.join("/r", other), os.path.join("/r", d))
            dep_lines.append(f'{"pkg-" + other.replace("/", "-").replace(".", "")} = {{ path = {_toml_str(rel)} }}')
        edition = draw(st.sampled_from(["2018", "2021", "2024"]))
        text = f'[package]\nname = "{name}"\nversion = "0.1.{i}"\nedition = "{edition}"\n'
        if draw(st.integers(0, 7)) == 0:
            text += f'workspace = {_toml_str(os.path.relpath("/r", os.path.join("/r", d)))}\n'
        if dep_lines:
            text += "[dependencies]\n" + "\n".join(dep_lines) + "\n"
        files[f"{d}/Cargo.toml"] = text
        files[f"{d}/src/lib.rs"] = ""
        if not virtual and draw(st.integers(0, 2)) == 0:
            root_deps.append(f'{name} = {{ path = {_toml_str(d)} }}')
    root_text = root_pkg
    if root_deps:
        root_text += "[dependencies]\n" + "\n".join(root_deps) + "\n"
    files["Cargo.toml"] = root_text + "\n".join(ws) + "\n"
    run_in = draw(st.sampled_from(["."] + dirs))
    return files, run_in


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workspaces())
def test_random_workspaces_match_cargo(case):
    files, run_in = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws" / "root"
        for rel, content in files.items():
            path = Path(os.path.normpath(root / rel))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        cwd = Path(os.path.normpath(root / run_in))
        env = {**os.environ, "CARGO_HOME": str(Path(tmp) / "home"), "RUSTUP_TOOLCHAIN": "stable"}
        theirs = subprocess.run(["cargo", "metadata", "--no-deps", "--offline",
                                 "--format-version", "1"], cwd=cwd, env=env,
                                capture_output=True, text=True)
        ok, ours = _ours(cwd)
        event("accepted" if theirs.returncode == 0 else "rejected: " + _cause(theirs.stderr))
        context = (f"files: {json.dumps(files, indent=1)}\nrun in: {run_in}\n"
                   f"cargo: {theirs.stderr}\nours: {ours[:2000]}")
        assert (theirs.returncode == 0) == ok, context
        if ok:
            assert ours == theirs.stdout, context
