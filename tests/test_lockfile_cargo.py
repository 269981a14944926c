"""Cargo.lock against live cargo (slow tier): our writer must produce cargo's bytes.

Each test builds a throw-away workspace whose dependencies come from local sources — a
loopback sparse registry standing in for crates.io (source replacement) plus an alternative
sparse registry, local ``file://`` git repositories and path packages — runs
``cargo generate-lockfile`` (or lets ``cargo metadata`` rewrite the lock) and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cargo_registry import LocalRegistries, cargo, git, have_cargo, write_package
from conftest import is_ci_profile
from nocargo_py.errors import NocargoError
from nocargo_py.lockfile import (
    LOCK_PATH_SOURCE,
    lockfile_from_graph,
    parse_lockfile,
    rewrite_lock_version,
    write_lockfile,
)
from nocargo_py.source import PackageId, SourceId

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_cargo(), reason="cargo is not installed"),
]


def _git_repo(path: Path, branches: list[str]) -> None:
    write_package(path, "gitdep", "0.2.0", edition="2018")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "commit", "-qm", "first")
    git(path, "tag", "v0.2.0")
    for i, branch in enumerate(branches):
        git(path, "checkout", "-q", "-b", branch, "main")
        (path / "src" / "lib.rs").write_text(f"// {i}\n")
        git(path, "commit", "-qam", f"commit {i}")


WEIRD_BRANCH = "feat/x+y"
QUOTE_BRANCH = "it's\"q"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One workspace locked by cargo with rust-version 1.40/1.41/1.53/none (v1..v4)."""
    root = tmp_path_factory.mktemp("lockscenario")
    with LocalRegistries(root / "registries") as regs:
        regs.publish("cio", "foo", "1.0.0")
        regs.publish("cio", "foo", "2.0.0")
        regs.publish("cio", "bar", "0.5.1", [("foo", "^1")])
        regs.publish("alt", "foo", "1.0.0")
        regs.publish("alt", "altonly", "0.1.0", [("bar", "^0.5", "cio")])
        repo = root / "lkgit"
        _git_repo(repo, [WEIRD_BRANCH, "master", QUOTE_BRANCH])
        ws = root / "ws"
        write_package(ws / "foo", "foo", "1.0.0", edition="2018")
        outputs = {}
        for version, rust_version in ((1, "1.40"), (2, "1.41"), (3, "1.53"), (4, None)):
            rv = f'rust-version = "{rust_version}"\n' if rust_version else ""
            write_package(ws, "app", "0.1.0", edition="2018", extra=f"""{rv}
[dependencies]
foo = {{ path = "foo" }}
foo_r = {{ package = "foo", version = "1" }}
foo2 = {{ package = "foo", version = "2" }}
foo_alt = {{ package = "foo", version = "1", registry = "alt" }}
bar = "0.5"
altonly = {{ version = "0.1", registry = "alt" }}
gitdep = {{ git = "file://{repo}", tag = "v0.2.0" }}
gitdep_b = {{ package = "gitdep", git = "file://{repo}", branch = "{WEIRD_BRANCH}" }}
gitdep_m = {{ package = "gitdep", git = "file://{repo}", branch = "master" }}
gitdep_q = {{ package = "gitdep", git = "file://{repo}", branch = {json.dumps(QUOTE_BRANCH)} }}
""")
            (ws / "Cargo.lock").unlink(missing_ok=True)
            cargo(ws, regs.home, "generate-lockfile")
            outputs[version] = (ws / "Cargo.lock").read_text()
        yield outputs


def test_cargo_v4_round_trip_and_git_query_encoding(scenario) -> None:
    text = scenario[4]
    lock = parse_lockfile(text)
    assert lock.version == 4
    assert write_lockfile(lock) == text
    assert "?branch=feat%2Fx%2By#" in text and "?branch=it%27s%22q#" in text
    refs = {p.source.reference.value for p in lock.find_all("gitdep") if not p.source.reference.is_default()}
    assert refs == {"v0.2.0", WEIRD_BRANCH, "master", QUOTE_BRANCH}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_writer_reproduces_cargo_for_older_versions(scenario, version: int) -> None:
    """The v4 graph written as v1/v2/v3 gives exactly what cargo writes for that version."""
    v4 = parse_lockfile(scenario[4])
    assert write_lockfile(v4.with_version(version)) == scenario[version]
    assert f"?branch={WEIRD_BRANCH}#" in scenario[version]  # raw before v4
    back = parse_lockfile(scenario[version])
    assert back.version == version
    # same graph except what v1-v3 cannot carry: `+` is read back as a space (cargo does so too)
    changed = {p.id for p in v4.packages} ^ {p.id for p in back.packages}
    assert {(pid.name, pid.source.reference.value) for pid in changed} == {
        ("gitdep", WEIRD_BRANCH), ("gitdep", WEIRD_BRANCH.replace("+", " "))}


def test_master_and_default_branch_collide_in_v1_v2_as_in_cargo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_repo(repo, ["master"])
    home = tmp_path / "home"
    for rust_version, version in (("1.40", 1), ("1.41", 2), ("1.53", 3)):
        ws = write_package(tmp_path / f"ws{version}", "app", "0.1.0", edition="2018", extra=f"""
rust-version = "{rust_version}"
[dependencies]
m = {{ package = "gitdep", git = "file://{repo}", branch = "master" }}
h = {{ package = "gitdep", git = "file://{repo}" }}
""")
        proc = cargo(ws, home, "generate-lockfile", check=False)
        if version == 3:
            assert proc.returncode == 0
            lock = parse_lockfile((ws / "Cargo.lock").read_text())
            for old in (1, 2):
                with pytest.raises(NocargoError, match="package collision in the lockfile"):
                    write_lockfile(lock.with_version(old))
        else:
            assert proc.returncode != 0 and "package collision in the lockfile" in proc.stderr


def test_patch_unused_and_replace_match_cargo(tmp_path: Path) -> None:
    with LocalRegistries(tmp_path / "registries") as regs:
        for name, version in (("foo", "1.0.0"), ("foo", "1.0.1"), ("zed", "0.1.0"), ("aaa", "3.0.0")):
            regs.publish("cio", name, version)
        regs.publish("cio", "bar", "0.5.1", [("foo", "^1")])
        patched = write_package(tmp_path / "patched", "app", "0.1.0", extra="""
[dependencies]
bar = "0.5"
zed = "0.1"
aaa = "3"
[patch.crates-io]
zed = { path = "pz" }
aaa = { path = "pa" }
foo = { path = "pf" }
""")
        write_package(patched / "pz", "zed", "0.2.0")
        write_package(patched / "pa", "aaa", "0.1.0")
        write_package(patched / "pf", "foo", "1.0.1")
        cargo(patched, regs.home, "generate-lockfile")
        replaced = write_package(tmp_path / "replaced", "app", "0.1.0", extra="""
[dependencies]
bar = "0.5"
foo = "=1.0.0"
[replace]
"foo:1.0.0" = { path = "rf" }
""")
        write_package(replaced / "rf", "foo", "1.0.0")
        cargo(replaced, regs.home, "generate-lockfile")

        crates_io = SourceId.crates_io()
        ck = regs.checksums
        # patched: built from what we know independently of cargo's file
        foo_path = PackageId("foo", "1.0.1", LOCK_PATH_SOURCE)
        app = PackageId("app", "0.1.0", LOCK_PATH_SOURCE)
        bar = PackageId("bar", "0.5.1", crates_io)
        zed = PackageId("zed", "0.1.0", crates_io)
        aaa = PackageId("aaa", "3.0.0", crates_io)
        expected = lockfile_from_graph(
            {app: [bar, zed, aaa], bar: [foo_path], foo_path: [], zed: [], aaa: []},
            checksums={bar: ck[("cio", "bar", "0.5.1")], zed: ck[("cio", "zed", "0.1.0")],
                       aaa: ck[("cio", "aaa", "3.0.0")]},
            patch_unused=[PackageId("aaa", "0.1.0", LOCK_PATH_SOURCE), PackageId("zed", "0.2.0", LOCK_PATH_SOURCE)],
        )
        assert write_lockfile(expected) == (patched / "Cargo.lock").read_text()
        # replaced
        foo_reg = PackageId("foo", "1.0.0", crates_io)
        foo_rep = PackageId("foo", "1.0.0", LOCK_PATH_SOURCE)
        expected = lockfile_from_graph(
            {app: [bar, foo_reg], bar: [foo_reg], foo_reg: [foo_rep], foo_rep: []},
            checksums={bar: ck[("cio", "bar", "0.5.1")], foo_reg: ck[("cio", "foo", "1.0.0")]},
            replacements={foo_reg: foo_rep},
        )
        assert write_lockfile(expected) == (replaced / "Cargo.lock").read_text()


METADATA = {
    "plain": "x", "with space key": "v", 'dq"key': 'has "dq"', "sq'key": "it's", "bs\\key": "c:\\path",
    "both'\"": "both ' and \"", "tab\tkey": "tab\there", "nl": "line1\nline2", "nl-bs": "a\\b\nc",
    "nl-3dq": 'a"""b\nc', "ctrl": "bell\x07", "cr": "cr\rx", "three-sq": "a'''b", "unicode-é": "ünï",
    "del": "x\x7fy", "trailing-dq": 'ends"', "sq-and-bs": "it's a \\", "2dq": 'a""b', "ml-end": 'x\ny""',
    "empty": "", "": "emptykey", "sq-nl": "it's\nx", "sq-bs-nl-3sq": "a\\'''\nb",
}


def _toml_basic(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def test_metadata_strings_and_header_comments_as_cargo_rewrites_them(tmp_path: Path) -> None:
    """Cargo keeps unknown [metadata] and extra top comments; we must print them as it does."""
    home = tmp_path / "home"
    ws = write_package(tmp_path / "ws", "app", "0.1.0", extra='[dependencies]\na = { path = "a" }\n')
    write_package(ws / "a", "a", "0.1.0")
    write_package(ws / "b", "b", "0.1.0")
    cargo(ws, home, "generate-lockfile", "--offline")
    text = (ws / "Cargo.lock").read_text()
    meta = "[metadata]\n" + "".join(f"{_toml_basic(k)} = {_toml_basic(v)}\n" for k, v in METADATA.items())
    lines = text.split("\n")
    seeded = "# note before\n" + "\n".join(lines[:2]) + "\n# after\n" + "\n".join(lines[2:]) + "\n" + meta
    (ws / "Cargo.lock").write_text(seeded)
    # a new dependency makes cargo rewrite the file (keeping metadata and comments)
    (ws / "Cargo.toml").write_text((ws / "Cargo.toml").read_text() + 'b = { path = "b" }\n')
    cargo(ws, home, "metadata", "--offline", "--format-version", "1")
    out = (ws / "Cargo.lock").read_text()
    lock = parse_lockfile(out)
    assert lock.metadata_dict == METADATA
    assert lock.header_comments[0] == "# note before" and lock.header_comments[-1] == "# after"
    assert write_lockfile(lock) == out


def test_version_cargo_writes_when_it_rewrites_a_lock(tmp_path: Path) -> None:
    """Unchanged resolve: file untouched; changed: max(current, default for rust-version)."""
    home = tmp_path / "home"
    ws = tmp_path / "ws"
    write_package(ws / "a", "a", "0.1.0", edition="2018")
    write_package(ws / "b", "b", "0.1.0", edition="2018")
    observed = []
    for rust_version in (None, "1.40", "1.41", "1.53", "1.82", "1.83"):
        rv = f'rust-version = "{rust_version}"\n' if rust_version else ""
        for start in (1, 2, 3, 4):
            write_package(ws, "app", "0.1.0", edition="2018", extra=f'{rv}[dependencies]\na = {{ path = "a" }}\n')
            (ws / "Cargo.lock").unlink(missing_ok=True)
            cargo(ws, home, "generate-lockfile", "--offline")
            seeded = write_lockfile(parse_lockfile((ws / "Cargo.lock").read_text()).with_version(start))
            (ws / "Cargo.lock").write_text(seeded)
            cargo(ws, home, "metadata", "--offline", "--format-version", "1")
            untouched = (ws / "Cargo.lock").read_text() == seeded
            (ws / "Cargo.toml").write_text((ws / "Cargo.toml").read_text() + 'b = { path = "b" }\n')
            cargo(ws, home, "metadata", "--offline", "--format-version", "1")
            out = (ws / "Cargo.lock").read_text()
            after = parse_lockfile(out).version
            observed.append((rust_version, start, untouched, after))
            assert write_lockfile(parse_lockfile(out)) == out
    assert all(untouched for _, _, untouched, _ in observed)
    assert [after for *_, after in observed] == [rewrite_lock_version(s, rv) for rv, s, _, _ in observed]


# ---------------------------------------------------------------------------------------
# property: random registry graphs, written from the graph alone, equal cargo's lock file
# ---------------------------------------------------------------------------------------

CRATE_NAMES = ["a", "b-c", "d_e", "fgh", "serde"]
CRATE_VERSIONS = ["0.0.3", "0.1.0", "0.10.0", "0.9.0", "1.0.0", "2.0.0-rc.1", "10.0.0"]  # distinct compat classes


@st.composite
def registry_graphs(draw):
    """(crates, root deps, path package) where crates are (reg, name, version, deps) in
    dependency order; every requirement is `=version`, so the resolution is known."""
    count = draw(st.integers(1, 7))
    crates: list[tuple[str, str, str, list[int]]] = []
    seen = set()
    for _ in range(count):
        key = (draw(st.sampled_from(["cio", "alt"])), draw(st.sampled_from(CRATE_NAMES)),
               draw(st.sampled_from(CRATE_VERSIONS)))
        if key in seen:
            continue
        seen.add(key)
        deps = draw(st.lists(st.integers(0, len(crates) - 1), unique=True, max_size=3)) if crates else []
        crates.append((*key, deps))
    roots = draw(st.lists(st.integers(0, len(crates) - 1), min_size=1, unique=True, max_size=len(crates)))
    path_pkg = draw(st.one_of(st.none(), st.tuples(st.sampled_from(CRATE_NAMES), st.sampled_from(CRATE_VERSIONS))))
    return crates, roots, path_pkg


@settings(max_examples=25 if is_ci_profile() else 4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=registry_graphs())
def test_property_writer_equals_cargo_on_random_registry_graphs(tmp_path_factory, case) -> None:
    crates, roots, path_pkg = case
    root = tmp_path_factory.mktemp("randlock")
    with LocalRegistries(root / "registries") as regs:
        alt = SourceId.for_registry(regs.sparse_url("alt"))
        ids = [PackageId(name, version, SourceId.crates_io() if reg == "cio" else alt)
               for reg, name, version, _ in crates]
        graph: dict[PackageId, list[PackageId]] = {}
        for (reg, name, version, deps), pid in zip(crates, ids):
            edges = []
            used = set()
            for i in deps:
                dreg, dname, _, _ = crates[i]
                if (dname, dreg) not in used:  # one version of a name per registry per crate
                    used.add((dname, dreg))
                    edges.append(i)
            regs.publish(reg, name, version, [(crates[i][1], f"={crates[i][2]}", crates[i][0]) for i in edges])
            graph[pid] = [ids[i] for i in edges]
        lines = ["[dependencies]"]
        for n, i in enumerate(roots):
            reg, name, version, _ = crates[i]
            registry = ', registry = "alt"' if reg == "alt" else ""
            lines.append(f'dep{n} = {{ package = "{name}", version = "={version}"{registry} }}')
        app = PackageId("app", "0.1.0", LOCK_PATH_SOURCE)
        app_deps = [ids[i] for i in roots]
        ws = root / "ws"
        if path_pkg is not None:
            write_package(ws / "local", path_pkg[0], path_pkg[1])
            lines.append(f'local = {{ path = "local", package = "{path_pkg[0]}" }}')
            local = PackageId(path_pkg[0], path_pkg[1], LOCK_PATH_SOURCE)
            graph[local] = []
            app_deps.append(local)
        write_package(ws, "app", "0.1.0", extra="\n".join(lines) + "\n")
        cargo(ws, regs.home, "generate-lockfile")
        cargo_text = (ws / "Cargo.lock").read_text()

        reachable: dict[PackageId, list[PackageId]] = {app: app_deps}
        todo = list(app_deps)
        while todo:
            pid = todo.pop()
            if pid in reachable:
                continue
            reachable[pid] = graph[pid]
            todo.extend(graph[pid])
        checksums = {}
        for (reg, name, version, _), pid in zip(crates, ids):
            checksums[pid] = regs.checksums[(reg, name, version)]
        expected = lockfile_from_graph(reachable, checksums=checksums)
        assert write_lockfile(expected) == cargo_text
        assert parse_lockfile(cargo_text) == expected
