"""The build plan: JSON round trip, determinism, validation of cross references."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nocargo_py.errors import NocargoError
from nocargo_py.plan import (
    DepEdge, GitSource, Graph, LinksDep, PackagePlan, PathSource, Plan, RegistrySource,
    TargetPlan, Unit, UnitKind, Uplift, plan_from_json,
)

SHA = "a" * 64


def small_plan(**unit_changes) -> Plan:
    """A hand-built plan: registry lib <- local bin, with a build script on the lib."""
    units = {
        "dep-1.0.0-bs": Unit(id="dep-1.0.0-bs", package="dep-1.0.0", kind=UnitKind.BUILD_SCRIPT_COMPILE,
                             crate_name="build_script_build", target_name="build-script-build",
                             src_path="build.rs", host=True, args=("--crate-name", "build_script_build"),
                             uplift=(Uplift("build_script_build-x", "bin/build-script-build"),),
                             executable="bin/build-script-build"),
        "dep-1.0.0-run": Unit(id="dep-1.0.0-run", package="dep-1.0.0", kind=UnitKind.BUILD_SCRIPT_RUN,
                              crate_name="build_script_build", target_name="build-script-build",
                              build_script="dep-1.0.0-bs", env={"TARGET": "x86_64-unknown-linux-gnu"},
                              rustflags=("-Cfoo",)),
        "dep-1.0.0-lib": Unit(id="dep-1.0.0-lib", package="dep-1.0.0", kind=UnitKind.LIB,
                              crate_name="dep", target_name="dep", src_path="src/lib.rs",
                              crate_types=("lib",), args=("--crate-name", "dep", "--cap-lints", "allow"),
                              env={"CARGO_PKG_NAME": "dep"}, build_script_run="dep-1.0.0-run",
                              link_search_from=("dep-1.0.0-run",), link_libs=True,
                              extern_file="libdep-h.rlib"),
        "app-bin": Unit(**{**dict(
            id="app-bin", package="app-0.1.0", kind=UnitKind.BIN, crate_name="app",
            target_name="app", src_path="src/main.rs", args=("--crate-name", "app"),
            deps=(DepEdge("dep-1.0.0-lib", "dep_renamed"),),
            dependency_closure=("dep-1.0.0-lib",), link_search_from=("dep-1.0.0-run",),
            uplift=(Uplift("app-h", "bin/app"),), executable="bin/app"), **unit_changes}),
    }
    graph = Graph(units=tuple(sorted(units)), members={"app": ("app-bin",)}, root="app")
    return Plan(
        host="x86_64-unknown-linux-gnu",
        targets=(TargetPlan("x86_64-unknown-linux-gnu", graph, graph),),
        packages={
            "dep-1.0.0": PackagePlan("dep", "1.0.0", RegistrySource("https://x/dep-1.0.0.crate", SHA),
                                     root="dep-1.0.0", links="dep"),
            "app-0.1.0": PackagePlan("app", "0.1.0", PathSource("", ("target", "Cargo.nix"))),
        },
        units=units,
    )


def test_json_round_trip_is_exact() -> None:
    plan = small_plan().validate()
    text = plan.to_json()
    again = plan_from_json(text)
    assert again == plan
    assert again.to_json() == text
    data = json.loads(text)
    assert data["packages"]["dep-1.0.0"]["source"] == {"kind": "registry", "sha256": SHA,
                                                       "url": "https://x/dep-1.0.0.crate"}
    assert data["units"]["app-bin"]["deps"] == [{"extern_name": "dep_renamed", "kind": "normal",
                                                 "unit": "dep-1.0.0-lib"}]


def test_git_source_round_trips() -> None:
    plan = small_plan()
    pkgs = dict(plan.packages)
    pkgs["dep-1.0.0"] = dataclasses.replace(pkgs["dep-1.0.0"], source=GitSource("https://g/r", "b" * 40, "main", True), root="sub/dep")
    plan = dataclasses.replace(plan, packages=pkgs).validate()
    assert plan_from_json(plan.to_json()) == plan


@pytest.mark.parametrize("change, message", [
    (dict(deps=(DepEdge("nope", "x"),)), "dependency refers to unknown unit `nope`"),
    (dict(deps=(DepEdge("dep-1.0.0-run", "x"),)), "is a build-script-run unit, expected lib"),
    (dict(deps=(DepEdge("dep-1.0.0-lib", "bad-name"),)), "invalid extern name `bad-name`"),
    (dict(dependency_closure=("dep-1.0.0-bs",)), "is a build-script-compile unit, expected lib"),
    (dict(link_search_from=("dep-1.0.0-lib",)), "is a lib unit, expected build-script-run"),
    (dict(executable="bin/other"), "needs an `executable`"),
    (dict(env={"A=B": "x"}), "invalid environment variable name `A=B`"),
    (dict(link_arg_kinds=("everything",)), "unknown link-arg kind `everything`"),
    (dict(uplift=(Uplift("app-h", "../escape"),), executable="../escape"), "invalid uplift"),
])
def test_validation_errors_name_the_unit_and_the_problem(change, message) -> None:
    with pytest.raises(NocargoError) as err:
        small_plan(**change).validate()
    assert "app-bin" in str(err.value) and message in str(err.value)


def test_validation_of_names_sources_and_graphs() -> None:
    plan = small_plan()
    bad_id = dict(plan.units)
    bad_id[".hidden"] = dataclasses.replace(bad_id["app-bin"], id=".hidden")
    with pytest.raises(NocargoError, match="not a valid Nix store name"):
        dataclasses.replace(plan, units=bad_id).validate()
    pkgs = dict(plan.packages)
    pkgs["dep-1.0.0"] = dataclasses.replace(pkgs["dep-1.0.0"], source=RegistrySource("u", "xyz"))
    with pytest.raises(NocargoError, match="checksum `xyz` is not 64 hex digits"):
        dataclasses.replace(plan, packages=pkgs).validate()
    pkgs["dep-1.0.0"] = dataclasses.replace(pkgs["dep-1.0.0"], source=PathSource("/abs"))
    with pytest.raises(NocargoError, match="must be relative"):
        dataclasses.replace(plan, packages=pkgs).validate()
    t = plan.targets[0]
    missing = dataclasses.replace(t.dev, units=("app-bin",))
    with pytest.raises(NocargoError, match="needs `dep-1.0.0-lib`, which is not in the graph"):
        dataclasses.replace(plan, targets=(dataclasses.replace(t, dev=missing),)).validate()
    no_root = dataclasses.replace(t.dev, root="other")
    with pytest.raises(NocargoError, match="root package `other` is not a member"):
        dataclasses.replace(plan, targets=(dataclasses.replace(t, release=no_root),)).validate()
    run = dict(plan.units)
    run["dep-1.0.0-run"] = dataclasses.replace(run["dep-1.0.0-run"],
                                               links_deps=(LinksDep("z", "DEP_Z-", "dep-1.0.0-run"),))
    with pytest.raises(NocargoError, match="invalid links env prefix"):
        dataclasses.replace(plan, units=run).validate()


def test_malformed_json_is_a_user_error() -> None:
    with pytest.raises(NocargoError, match="malformed plan JSON"):
        plan_from_json('{"version": 1}')
