"""Feature resolver: fixed workspaces whose expected features were observed with cargo 1.95.

Each expectation below was read off ``RUSTC_BOOTSTRAP=1 cargo build --unit-graph
-Z unstable-options`` (or ``cargo test --no-run …``) on the same workspace; the slow
differential test (``test_unit_graph_vs_cargo.py``) checks thousands of random cases
live. These run without cargo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.resolve import (
    FeatureRequest, FeaturesFor, PackageSelection, graph_from_path_workspace, resolve_features,
)
from nocargo_py.workspace import load_workspace

HOST = "x86_64-unknown-linux-gnu"

APP = """\
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
lib = { path = "../lib", features = ["a"] }
opt = { path = "../opt", optional = true }
pm = { path = "../pm" }

[target.'cfg(windows)'.dependencies]
lib = { path = "../lib", features = ["win"] }

[build-dependencies]
lib = { path = "../lib", default-features = false }
bd = { path = "../bd", features = ["b"] }

[dev-dependencies]
lib = { path = "../lib", features = ["devf"] }

[features]
default = ["x"]
x = ["opt?/o2"]
y = ["dep:opt"]
z = ["opt/o1"]
"""

FILES = {
    "Cargo.toml": '[workspace]\nmembers = ["app", "lib", "opt", "bd", "pm"]\nresolver = "RESOLVER"\n',
    "app/Cargo.toml": APP,
    "app/src/main.rs": "",
    "app/build.rs": "",
    "lib/Cargo.toml": '[package]\nname = "lib"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[features]\ndefault = ["d"]\nd = []\na = []\nw = []\nwin = []\n'
                      'devf = []\npmf = []\n',
    "lib/src/lib.rs": "",
    "opt/Cargo.toml": '[package]\nname = "opt"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[features]\no1 = []\no2 = []\n',
    "opt/src/lib.rs": "",
    "bd/Cargo.toml": '[package]\nname = "bd"\nversion = "0.1.0"\nedition = "2021"\n'
                     '[dependencies]\nlib = { path = "../lib", default-features = false, '
                     'features = ["w"] }\n[features]\nb = []\n',
    "bd/src/lib.rs": "",
    "pm/Cargo.toml": '[package]\nname = "pm"\nversion = "0.1.0"\nedition = "2021"\n'
                     '[lib]\nproc-macro = true\n[dependencies]\nlib = { path = "../lib", '
                     'default-features = false, features = ["pmf"] }\n',
    "pm/src/lib.rs": "",
}


def write(root: Path, files: dict[str, str], **subst: str) -> Path:
    for rel, text in files.items():
        for key, value in subst.items():
            text = text.replace(key, value)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def resolve(root: Path, manifest: str = "Cargo.toml", **kw):
    ws = load_workspace(root / manifest, root)
    graph = graph_from_path_workspace(ws)
    request = FeatureRequest(host=HOST, **kw)
    return graph, resolve_features(graph, ws, request)


def feats(graph, res, name: str, fk: FeaturesFor = FeaturesFor.NORMAL):
    (pid,) = [p for p in graph.packages if p.name == name]
    return res.activated_features(pid, fk)


APP_ONLY = PackageSelection(packages=("app",))


@pytest.fixture
def v2(tmp_path):
    return write(tmp_path, FILES, RESOLVER="2")


@pytest.fixture
def v1(tmp_path):
    return write(tmp_path, FILES, RESOLVER="1")


def test_v2_host_features_are_separate(v2):
    graph, res = resolve(v2, selection=APP_ONLY)
    assert feats(graph, res, "app") == ("default", "x")
    # build-dependency (no defaults) + bd's `w` + the proc-macro's `pmf`: one host set
    assert feats(graph, res, "lib", FeaturesFor.HOST) == ("pmf", "w")
    assert feats(graph, res, "lib") == ("a", "d", "default")
    assert feats(graph, res, "bd", FeaturesFor.HOST) == ("b",)
    assert feats(graph, res, "pm", FeaturesFor.HOST) == ()
    # `opt?/o2` alone does not activate `opt`
    assert feats(graph, res, "opt") is None


def test_weak_feature_applies_once_the_dependency_is_activated(v2):
    graph, res = resolve(v2, selection=APP_ONLY, features=("z,y",))
    assert feats(graph, res, "app") == ("default", "x", "y", "z")
    assert feats(graph, res, "opt") == ("o1", "o2")
    graph, res = resolve(v2, selection=APP_ONLY, features=("x y",))
    assert feats(graph, res, "opt") == ("o2",)


def test_dev_dependency_features_only_with_dev_units_in_v2(v2):
    graph, res = resolve(v2, selection=APP_ONLY, no_default_features=True, dev_units=True)
    assert feats(graph, res, "app") == ()
    assert feats(graph, res, "lib") == ("a", "d", "default", "devf")


def test_inactive_platform_ignored_in_v2_but_leaks_in_v1(v1, tmp_path):
    graph, res = resolve(v1, selection=APP_ONLY)
    # resolver 1: one set; windows-only and dev-dependency features leak into a Linux build
    assert feats(graph, res, "lib") == ("a", "d", "default", "devf", "pmf", "w", "win")
    assert feats(graph, res, "lib", FeaturesFor.HOST) == feats(graph, res, "lib")


def test_v2_target_specific_features_follow_target(v2):
    graph, res = resolve(v2, selection=APP_ONLY, targets=("x86_64-pc-windows-msvc",))
    assert feats(graph, res, "lib") == ("a", "d", "default", "win")
    assert feats(graph, res, "lib", FeaturesFor.HOST) == ("pmf", "w")


def test_dep_syntax_hides_the_implicit_feature(v2):
    # the member has an optional dependency `opt`, so the name is accepted on the command
    # line, but `dep:opt` removed the implicit feature: cargo's resolver rejects it
    with pytest.raises(NocargoError, match="does not have feature `opt`"):
        resolve(v2, selection=APP_ONLY, features=("opt",))


def test_cli_features_new_behaviour_errors(v2):
    with pytest.raises(NocargoError, match="none of the selected packages contains"):
        resolve(v2, selection=PackageSelection(workspace=True), features=("nope",))
    with pytest.raises(NocargoError, match="cannot specify features for packages outside"):
        resolve(v2, selection=PackageSelection(packages=("nothing",)), features=("x",))


def test_cli_rejects_dep_syntax_and_double_slash(v2):
    with pytest.raises(NocargoError, match="explicit `dep:` syntax"):
        resolve(v2, selection=APP_ONLY, features=("dep:opt",))
    with pytest.raises(NocargoError, match="multiple slashes"):
        resolve(v2, selection=APP_ONLY, features=("lib/a/b",))


def test_member_slash_feature_targets_that_member(v2):
    graph, res = resolve(v2, selection=PackageSelection(packages=("app", "opt")),
                         features=("opt/o1",), no_default_features=True)
    assert feats(graph, res, "opt") == ("o1",)
    assert feats(graph, res, "app") == ()


def test_old_cli_behaviour_applies_features_to_the_current_package(tmp_path):
    # resolver 1 with a root package: `--features` goes to the package in the current
    # directory only; other `-p` members get their defaults (cargo's "old" behaviour)
    files = {
        "Cargo.toml": '[package]\nname = "root"\nversion = "0.1.0"\n[workspace]\n'
                      'members = ["m"]\n[features]\nr = []\ndefault = ["r"]\n',
        "src/lib.rs": "",
        "m/Cargo.toml": '[package]\nname = "m"\nversion = "0.1.0"\n[features]\ndefault = ["md"]\n'
                        'md = []\nr = []\n',
        "m/src/lib.rs": "",
    }
    write(tmp_path, files)
    graph, res = resolve(tmp_path, selection=PackageSelection(packages=("m",)),
                         no_default_features=True)
    # root is the current package: it is part of the resolve and loses its defaults;
    # m keeps its defaults although --no-default-features was given
    assert feats(graph, res, "root") == ()
    assert feats(graph, res, "m") == ("default", "md")
    with pytest.raises(NocargoError, match="does not have the feature `md`"):
        resolve(tmp_path, selection=PackageSelection(packages=("m",)), features=("md",))


def test_optional_dependency_of_a_dev_dependency_member(tmp_path):
    # A feature of member `c` that names its dev-dependency (`d/f`) is honoured by the
    # feature resolver, but cargo's dependency resolver only follows a member's
    # dev-dependencies with the member's *own* command-line features: `b`'s optional `x`
    # stays out of the graph although `b`'s feature `x` is on (seen with cargo 1.95).
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["a", "b", "c", "x"]\nresolver = "1"\n',
        "a/Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\n[dependencies]\n'
                        'c = { path = "../c" }\n',
        "a/src/lib.rs": "",
        "b/Cargo.toml": '[package]\nname = "b"\nversion = "0.1.0"\n[dependencies]\n'
                        'x = { path = "../x", optional = true }\n',
        "b/src/lib.rs": "",
        "c/Cargo.toml": '[package]\nname = "c"\nversion = "0.1.0"\n[features]\n'
                        'default = ["b/x"]\n[dev-dependencies]\nb = { path = "../b" }\n',
        "c/src/lib.rs": "",
        "x/Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n',
        "x/src/lib.rs": "",
    }
    write(tmp_path, files)
    graph, res = resolve(tmp_path, selection=PackageSelection(workspace=True),
                         no_default_features=True)
    (b,) = [p for p in graph.packages if p.name == "b"]
    assert feats(graph, res, "b") == ("x",)
    assert [dep_id.name for dep_id, _ in res.deps(b)] == []
