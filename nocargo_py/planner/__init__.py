"""The planner: resolved workspace -> :class:`~nocargo_py.plan.Plan` (what Nix builds).

:func:`plan_workspace` runs, for every generated target, the four cargo-like invocations
the generated ``Cargo.nix`` offers (``cargo build`` and ``cargo test --no-run --tests``,
each in the dev and release profiles) through the feature resolver and the unit graph
(:mod:`nocargo_py.resolve`), then turns every unit into a plan unit with exactly the rustc
arguments and environment ``cargo build -v`` would use (:mod:`.build`).

Modules: :mod:`.flags` (profile/LTO/check-cfg/lint flags), :mod:`.settings` (rustflags,
linker, ``[env]``, cfg sets per compile kind), :mod:`.sources` (package sources and
facts), :mod:`.outputs` (file names), :mod:`.build` (the unit mapping).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from ..config import CargoConfig
from ..errors import NocargoError
from ..package import Workspace
from ..plan import Plan
from ..profiles import Profiles
from ..resolve.features import (
    FeatureRequest, PackageSelection, platform_matcher, resolve_features,
)
from ..resolve.graph import ResolvedGraph
from ..resolve.units import Intent, UnitGraphCache, build_unit_graph, untestable_message
from ..shell import Shell
from .build import GraphInput, TargetInput, build_plan, envify
from .settings import BuildSettings, load_build_settings
from .sources import PackageFacts, SourceProvider, crate_facts, env_path_sources, package_facts

__all__ = [
    "BuildSettings",
    "PackageFacts",
    "PlanOptions",
    "SourceProvider",
    "crate_facts",
    "envify",
    "plan_workspace",
]


@dataclass(frozen=True)
class PlanOptions:
    """What to plan: package selection, features, targets (``None`` = the host without
    ``--target``; several = one plan per target, the first is the default)."""

    selection: PackageSelection = PackageSelection(workspace=True)
    features: tuple[str, ...] = ()
    all_features: bool = False
    no_default_features: bool = False
    targets: tuple[str | None, ...] = (None,)


def plan_workspace(ws: Workspace, graph: ResolvedGraph, *, nix_file: Path, host: str,
                   options: PlanOptions = PlanOptions(), config: CargoConfig | None = None,
                   env: Mapping[str, str] | None = None,
                   provider: SourceProvider | None = None,
                   shell: Shell | None = None, trace: dict | None = None) -> Plan:
    """The build plan of ``ws`` (see the module docstring). ``nix_file`` is where the
    generated file will live (path sources are relative to its directory); ``trace``: see
    :func:`.build.build_plan`."""
    if not options.targets:
        raise NocargoError("no target to plan")
    if len(set(options.targets)) != len(options.targets):
        raise NocargoError("the same --target was given twice")
    config_profiles = config.profiles() if config is not None else None
    inputs: list[TargetInput] = []
    seen_warnings: set[str] = set()
    targeted: dict = {}  # the targeted resolve, shared by every request over this graph
    used = set()
    for target in options.targets:
        settings = load_build_settings(host, target, config, env)
        for w in settings.warnings:
            if w not in seen_warnings and shell is not None:
                shell.warn(w)
            seen_warnings.add(w)
        matcher = platform_matcher({k: ks.info for k, ks in settings.kinds.items()}, host)
        gis = {}
        for intent in (Intent.BUILD, Intent.TEST):
            request = FeatureRequest(
                host=host, selection=options.selection, features=tuple(options.features),
                all_features=options.all_features,
                no_default_features=options.no_default_features,
                targets=(target,) if target is not None else (), dev_units=intent is Intent.TEST)
            res = resolve_features(graph, ws, request, platform_matches=matcher,
                                   targeted=targeted)
            shared = UnitGraphCache(res, matcher)  # dev and release differ in profiles only
            for profile in ("dev", "release"):
                name = profile if not (intent is Intent.TEST and profile == "dev") else "test"
                profiles = Profiles.new(ws.profiles, name, host, config_profiles=config_profiles)
                # tests: `cargo test --tests` (no doctests, no examples: nothing builds them)
                untestable: list = []
                ug = build_unit_graph(graph, ws, res, profiles, intent=intent,
                                      explicit_targets=target is not None,
                                      platform_matches=matcher,
                                      tests_only=intent is Intent.TEST, cache=shared,
                                      untestable=untestable)
                for pid in untestable:  # `cargo test -p` refuses them: no tests, a warning
                    msg = f"{untestable_message(pid)}; the plan has no tests for it"
                    if msg not in seen_warnings and shell is not None:
                        shell.warn(msg)
                    seen_warnings.add(msg)
                used.update(u.pkg.package_id for u in ug.units)
                gis[(intent, profile)] = GraphInput(ug, res, intent)
        inputs.append(TargetInput(
            triple=target if target is not None else host, settings=settings,
            dev_build=gis[(Intent.BUILD, "dev")], dev_test=gis[(Intent.TEST, "dev")],
            release_build=gis[(Intent.BUILD, "release")],
            release_test=gis[(Intent.TEST, "release")]))
    facts = package_facts(graph, ws, nix_file, provider, used)
    plan = build_plan(ws, facts, inputs, host, trace)
    env_paths = inputs[0].settings.env_paths  # config-wide: the same for every target
    if not env_paths:
        return plan
    return replace(plan, env_paths=env_path_sources(env_paths, ws, nix_file))
