"""Rendering plans as Nix: escaping helpers, determinism, round trips through nix-instantiate."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from nocargo_py.errors import NocargoError
from nocargo_py.render import library_files, render_cargo_nix
from nocargo_py.render.bash import Ref, bash_array
from nocargo_py.render.nix import nix_attr_name, nix_relative_path, nix_string, to_nix
from nocargo_py.render.units import UnitViews

from test_plan import SHA, small_plan

REPO = Path(__file__).resolve().parent.parent
HOST_PKGS = REPO / "nix" / "host-pkgs.nix"
HAVE_NIX = shutil.which("nix-instantiate") is not None

# Strings Nix can hold: anything but NUL (and lone surrogates, which are not UTF-8).
nix_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))
tricky = st.sampled_from(["${", "$${", "\\${", "''", "''${", "\\", '"', "$", "\n", "\r\n", "\t",
                          "${x}", "$\\{", "\\\\${y}", "é", "💥", "\x01", "\x7f", "or", "in"])
strings = st.one_of(nix_text, st.lists(st.one_of(tricky, nix_text), max_size=6).map("".join))


def nix_eval(expr: str, cwd: Path | None = None) -> object:
    proc = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E", expr],
                          capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_nix_string_escapes() -> None:
    assert nix_string("plain") == '"plain"'
    assert nix_string('a"b\\c') == '"a\\"b\\\\c"'
    assert nix_string("${x}") == '"\\${x}"'
    assert nix_string("$${x}") == '"$\\${x}"'
    assert nix_string("a\nb\tc\r") == '"a\\nb\\tc\\r"'
    assert nix_string("$") == '"$"'
    with pytest.raises(NocargoError, match="NUL"):
        nix_string("a\0b")


def test_attr_names_and_paths() -> None:
    assert nix_attr_name("foo-bar_1'") == "foo-bar_1'"
    assert nix_attr_name("1abc") == '"1abc"'
    assert nix_attr_name("or") == '"or"' and nix_attr_name("let") == '"let"'
    assert nix_attr_name("a.b") == '"a.b"' and nix_attr_name("") == '""'
    assert nix_relative_path("").text == "./."
    assert nix_relative_path("a b/${x}").text == '(./. + "/a b/\\${x}")'
    with pytest.raises(NocargoError, match="absolute path"):
        nix_relative_path("/etc")


def test_to_nix_is_sorted_and_deterministic() -> None:
    value = {"b": [1, -2, True, None], "a": {"z": "x", "y": []}, "c": {}}
    assert to_nix(value) == to_nix(dict(reversed(list(value.items()))))
    assert to_nix(value) == ('{\n  a = {\n    y = [ ];\n    z = "x";\n  };\n'
                             '  b = [ 1 (-2) true null ];\n  c = { };\n}')


def test_render_is_deterministic_and_self_contained() -> None:
    plan = small_plan()
    text = render_cargo_nix(plan)
    assert text == render_cargo_nix(small_plan())
    assert str(REPO) not in text and "/tmp" not in text and "/nix/store" not in text
    assert "import ./" not in text and "<nocargo" not in text
    for rel, body in library_files().items():
        if rel.endswith(".nix"):
            assert body.rstrip("\n") in text, rel
    assert 'target ? "x86_64-unknown-linux-gnu"' in text


@given(env=st.dictionaries(strings.filter(lambda k: k and "=" not in k), strings, max_size=4),
       args=st.lists(strings, max_size=4), exclude=st.lists(strings, max_size=3),
       path=st.sampled_from(["", "..", "sub dir/${x}", "a/b"]))
def test_direct_writer_prints_what_to_nix_prints(env, args, exclude, path) -> None:
    """render_cargo_nix prints plan parts (graphs, sources) straight from the dataclasses
    (write_nix); it must be the text of the documented route: to_nix of the plan's JSON
    data, path sources as Nix path expressions."""
    plan = small_plan(env=env, args=tuple(args))
    pkgs = dict(plan.packages)
    pkgs["app-0.1.0"] = dataclasses.replace(
        pkgs["app-0.1.0"], env=env,
        source=dataclasses.replace(pkgs["app-0.1.0"].source, path=path, exclude=tuple(exclude)))
    plan = dataclasses.replace(plan, packages=pkgs)
    from nocargo_py.render import _path_as_nix
    from nocargo_py.render.nix import write_nix
    data = plan.to_data()
    data["packages"]["app-0.1.0"]["source"]["path"] = nix_relative_path(path)
    assert write_nix(plan, indent=1, replace=_path_as_nix) == to_nix(data, indent=1)
    assert write_nix(plan.to_data()) == to_nix(plan.to_data())


@given(st.lists(strings, max_size=6), strings)
def test_bash_words_read_back_exactly(values: list[str], suffix: str) -> None:
    """What the builder `eval`s gives back every string, and output paths at their index."""
    text = bash_array("a", [*values, Ref(1, suffix)])
    proc = subprocess.run(["bash", "-c", 'refs=(/r0 "/r 1"); eval "$1"; printf "%s\\0" "${a[@]}"',
                           "-", text], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().split("\0")[:-1] == [*values, "/r 1" + suffix]


@given(st.dictionaries(st.one_of(strings, strings.map("CARGO_PKG_".__add__))
                       .filter(lambda k: k and "=" not in k), strings, max_size=6))
def test_package_env_reads_back_exactly(env: dict[str, str]) -> None:
    """A package's data holds its `CARGO_PKG_*` variables without the prefix; the builder
    (nix/builder/common.sh) puts it back: every variable comes back exactly, once."""
    from nocargo_py.plan import PackagePlan, RegistrySource
    from nocargo_py.render.units import package_data
    data = package_data(PackagePlan("p", "1.0.0", RegistrySource("u", "0" * 64), env=env))
    proc = subprocess.run(["bash", "-c", 'pkgEnv=() cargoPkgEnv=(); eval "$1"; '
                           'envArgs=("${pkgEnv[@]}"); '
                           'for w in "${cargoPkgEnv[@]}"; do envArgs+=("CARGO_PKG_$w"); done; '
                           'printf "%s\\0" "${envArgs[@]}"', "-", data],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.decode().split("\0")[:-1] if env else []
    assert sorted(words) == sorted(f"{k}={v}" for k, v in env.items())
    assert ("pkgEnv=" in data) == any(not k.startswith("CARGO_PKG_") for k in env)


def test_closure_is_printed_only_when_the_builder_cannot_derive_it() -> None:
    derived = small_plan()  # app-bin: closure = its one dependency
    assert "closureIds" not in UnitViews(derived).view(derived.units["app-bin"]).data
    odd = small_plan(deps=())  # the same closure without the dependency
    assert "closureIds=(dep-1.0.0-lib)" in UnitViews(odd).view(odd.units["app-bin"]).data


def test_render_validates_the_plan() -> None:
    with pytest.raises(NocargoError, match="unknown unit"):
        render_cargo_nix(small_plan(dependency_closure=("missing",)))


@pytest.mark.nix
@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate")
@given(st.lists(strings, min_size=1, max_size=8))
def test_strings_survive_the_nix_round_trip(values: list[str]) -> None:
    assert nix_eval(to_nix(values)) == values


@pytest.mark.nix
@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate")
@given(st.dictionaries(strings, strings, max_size=6))
def test_attr_names_survive_the_nix_round_trip(value: dict[str, str]) -> None:
    assert nix_eval(to_nix(value)) == value


@pytest.mark.nix
@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate")
@given(env=st.dictionaries(strings.filter(lambda k: k and "=" not in k), strings, max_size=4),
       args=st.lists(strings, max_size=4), exclude=st.lists(strings, max_size=3))
def test_untrusted_plan_strings_reach_the_derivation_unchanged(tmp_path_factory, env, args, exclude) -> None:
    """Render a whole Cargo.nix with hostile env/args and read them back from the unit
    as its builder does."""
    plan = small_plan(env=env, args=tuple(args))
    pkgs = dict(plan.packages)
    pkgs["app-0.1.0"] = dataclasses.replace(
        pkgs["app-0.1.0"], source=dataclasses.replace(pkgs["app-0.1.0"].source, exclude=tuple(exclude)))
    plan = dataclasses.replace(plan, packages=pkgs)
    d = tmp_path_factory.mktemp("render")
    (d / "Cargo.nix").write_text(render_cargo_nix(plan))
    data = nix_eval(f"let c = import {d}/Cargo.nix {{ pkgs = import {HOST_PKGS} {{ }}; }}; "
                    f'in c.units."app-bin".unitData')
    # What the builder reads back from the unit's data (`eval` in nix/builder/common.sh).
    proc = subprocess.run(["bash", "-c", 'eval "$1"; printf "%s\\0" "${#rustcArgs[@]}" '
                           '"${rustcArgs[@]}" "${unitEnv[@]}"', "-", data],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.decode().split("\0")[:-1]
    n = int(words[0])
    assert words[1:1 + n] == list(args)
    assert words[1 + n:] == [f"{k}={v}" for k, v in sorted(env.items())]


@pytest.mark.nix
@pytest.mark.skipif(not HAVE_NIX, reason="needs nix-instantiate")
def test_registry_fetch_has_the_output_path_of_nix_fetchurl(tmp_path: Path) -> None:
    """The `.crate` fetch is `<nix/fetchurl.nix>`'s fixed-output derivation less the
    attributes `builtin:fetchurl` never reads: the same output path (which is also what
    `nix-store --add-fixed sha256` of the cached file gives)."""
    (tmp_path / "Cargo.nix").write_text(render_cargo_nix(small_plan()))
    ours, fetchurl = nix_eval(
        f"let c = import {tmp_path}/Cargo.nix {{ pkgs = import {HOST_PKGS} {{ }}; }}; in "
        f'[ c.units."dep-1.0.0-bs".src (import <nix/fetchurl.nix> {{ '
        f'url = "https://x/dep-1.0.0.crate"; sha256 = "{SHA}"; name = "dep-1.0.0.crate"; }}).outPath ]')
    assert ours == fetchurl and ours.endswith("-dep-1.0.0.crate")
