"""``plan`` and ``explain`` through the command line: errors, the own JSON format, explain.

Error texts are the ones cargo 1.95 prints for the same input (checked by hand with
``cargo build --unit-graph``); exit status 101 and no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.resolve.pkgspec import PackageIdSpec
from nocargo_py.source import PackageId, SourceId

FIXTURES = Path(__file__).parent / "fixtures" / "unit_graph"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _basic(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "basic"
    shutil.copytree(FIXTURES / "basic", root)
    return root


def test_ambiguous_profile_override_is_an_error(cli, tmp_path):
    root = _write(tmp_path, {
        "Cargo.toml": '[package]\nname = "foo"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[profile.dev.package.foo]\nopt-level = 1\n'
                      '[profile.dev.package."foo@0.1.0"]\nopt-level = 2\n',
        "src/lib.rs": "",
    })
    result = cli("plan", "--unit-graph", cwd=root)
    assert result.returncode == 101
    assert (f"error: multiple package overrides in profile `dev` match package "
            f"`foo v0.1.0 ({root})`") in result.stderr
    assert "found package specs: foo, foo@0.1.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--profile", "nope"], "error: profile `nope` is not defined"),
    (["--profile", "doc"], "error: profile `doc` is reserved and not allowed to be explicitly specified"),
    (["--exclude", "a"], "error: --exclude can only be used together with --workspace"),
    (["-p", "zzz"], "error: package ID specification `zzz` did not match any packages"),
    (["--features", "dep:b"], "error: feature `dep:b` is not allowed to use explicit `dep:` syntax"),
    (["-p", "a", "--features", "nope"], "error: the package 'a' does not contain this feature: nope"),
])
def test_plan_user_errors(cli, tmp_path, args, message):
    result = cli("plan", "--unit-graph", *args, cwd=_basic(tmp_path))
    assert result.returncode == 101, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_json_format(cli, tmp_path):
    root = _basic(tmp_path)
    result = cli("plan", "--format", "resolved-units", "-p", "a", "--host",
                 "x86_64-unknown-linux-gnu", cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "nocargo-resolved-units" and data["version"] == 1
    assert data["profile"] == "dev" and data["resolver"] == "2" and data["targets"] == []
    graph = json.loads(cli("plan", "--unit-graph", "-p", "a", "--host",
                           "x86_64-unknown-linux-gnu", cwd=root).stdout)
    assert [u["package"] for u in data["units"]] == [u["pkg_id"] for u in graph["units"]]
    assert data["roots"] == graph["roots"]
    b_sets = {(f["for"], tuple(f["features"])) for f in data["features"]
              if f["package"].endswith("/b#0.1.0")}
    assert b_sets == {("normal", ("default", "x")), ("host", ("default",))}
    # deterministic: the same input gives the same bytes
    again = cli("plan", "--format", "resolved-units", "-p", "a", "--host",
                "x86_64-unknown-linux-gnu", cwd=root)
    assert again.stdout == result.stdout


def test_explain_package_and_feature(cli, tmp_path):
    root = _basic(tmp_path)
    result = cli("explain", "b", "x", "-p", "a", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "feature `x` of b v0.1.0 is on for the target",
        "  feature `x` of b v0.1.0 <- dependency `b` of a v0.1.0 (its declaration's "
        "`features`/`default-features`)",
        "    a v0.1.0 <- workspace member selected on the command line",
        "feature `x` of b v0.1.0 is off for the host (build scripts and proc-macros)",
    ]
    result = cli("explain", "m", "-p", "a", cwd=root)
    assert result.stdout.splitlines()[:2] == [
        "m v0.1.0 is built for the host (build scripts and proc-macros); features: (none)",
        "  m v0.1.0 (host) <- dependency `mm` of a v0.1.0",
    ]
    missing = cli("explain", "b", "nope", "-p", "a", cwd=root)
    assert missing.returncode == 101
    assert "error: package `b v0.1.0` has no feature `nope`" in missing.stderr


def test_explain_optional_dependency_chain(cli, tmp_path):
    root = _write(tmp_path, {
        "Cargo.toml": '[package]\nname = "top"\nversion = "0.1.0"\nedition = "2021"\n'
                      '[dependencies]\nopt = { path = "opt", optional = true }\n'
                      '[features]\ndefault = ["fancy"]\nfancy = ["opt/shiny"]\n',
        "src/lib.rs": "",
        "opt/Cargo.toml": '[package]\nname = "opt"\nversion = "0.1.0"\n[features]\nshiny = []\n',
        "opt/src/lib.rs": "",
    })
    result = cli("explain", "opt", "shiny", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "feature `shiny` of opt v0.1.0 is on for the target",
        "  feature `shiny` of opt v0.1.0 <- feature `fancy` of top v0.1.0",
        "    feature `fancy` of top v0.1.0 <- listed in feature `default`",
        "      feature `default` of top v0.1.0 <- selected on the command line",
    ]


@pytest.mark.parametrize("spec, pid, expected", [
    ("foo", PackageId("foo", "1.2.3", SourceId.crates_io()), True),
    ("foo@1", PackageId("foo", "1.2.3", SourceId.crates_io()), True),
    ("foo@1.3", PackageId("foo", "1.2.3", SourceId.crates_io()), False),
    ("foo:1.2.3", PackageId("foo", "1.2.3", SourceId.crates_io()), True),
    ("foo@1", PackageId("foo", "1.2.3-beta", SourceId.crates_io()), False),
    ("foo@1.2.3-beta", PackageId("foo", "1.2.3-beta", SourceId.crates_io()), True),
    ("bar", PackageId("foo", "1.2.3", SourceId.crates_io()), False),
    ("https://github.com/rust-lang/crates.io-index#foo@1.2.3",
     PackageId("foo", "1.2.3", SourceId.crates_io()), True),
    ("registry+https://github.com/rust-lang/crates.io-index#foo@1.2.3",
     PackageId("foo", "1.2.3", SourceId.crates_io()), True),
    ("path+file:///w/foo#1.2.3", PackageId("foo", "1.2.3", SourceId.for_path("/w/foo")), True),
    ("path+file:///w/foo#bar@1.2.3", PackageId("bar", "1.2.3", SourceId.for_path("/w/foo")), True),
    ("file:///w/other#1.2.3", PackageId("foo", "1.2.3", SourceId.for_path("/w/foo")), False),
])
def test_package_id_specs(spec, pid, expected):
    assert PackageIdSpec.parse(spec).matches(pid) is expected


def test_package_id_spec_errors():
    with pytest.raises(NocargoError, match="invalid version"):
        PackageIdSpec.parse("foo@x.y")
    with pytest.raises(NocargoError, match="unsupported source protocol"):
        PackageIdSpec.parse("ftp+https://x/y#foo")
    ids = [PackageId("foo", "1.0.0", SourceId.crates_io()),
           PackageId("foo", "2.0.0", SourceId.crates_io())]
    with pytest.raises(NocargoError, match="is ambiguous"):
        PackageIdSpec.parse("foo").query(ids)
    assert PackageIdSpec.parse("foo@2").query(ids) == ids[1]
