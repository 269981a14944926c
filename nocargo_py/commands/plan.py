"""``nocargo-py plan``: the build plan the Nix side consumes, or cargo's unit graph.

By default it prints the **build plan** — the JSON form of :class:`~nocargo_py.plan.Plan`
(``Plan.to_json()``, format in ``docs/plan-format.md``) that ``gen`` renders into
``Cargo.nix``: built by the same code (:func:`nocargo_py.commands.gen.build_plan`), with
the same flags (``-p``/``--workspace``/``--exclude``, ``--features``, ``--all-features``,
``--no-default-features``, ``--target`` repeatable, ``--host``). Like ``gen`` it plans
``cargo build`` and ``cargo test --no-run`` in the dev and release profiles of every
member (unless ``-p``); path sources are relative to the workspace root (where ``gen``
writes ``Cargo.nix``).

``plan --unit-graph`` prints exactly what ``cargo build --unit-graph`` prints
(``RUSTC_BOOTSTRAP=1 cargo build --unit-graph -Z unstable-options``, version 1, with the
nightly-only ``public``/``noprelude`` fields); with ``--tests`` it prints what
``cargo test --no-run --unit-graph`` prints. Same unit order, same indices: the two can be
diffed directly. Package selection follows cargo (default members), and ``--release``,
``--profile`` and ``--tests`` choose one profile and mode.

``plan --format resolved-units`` prints the resolved units (same selection as
``--unit-graph``) in nocargo's own JSON (format ``nocargo-resolved-units``, version 1)::

    {
      "format": "nocargo-resolved-units", "version": 1,
      "host": "<host triple>", "targets": ["<triple>", ...],   # [] = no --target
      "profile": "dev", "resolver": "2",
      "packages": {"<package id spec>": {"name", "version", "source" (lock string or
                   null for path packages), "manifest_path" (or null), "links",
                   "member": bool}},                       # every package with a unit
      "features": [{"package": "<spec>", "for": "normal" | "host", "features": [...],
                    "optional_deps": [...]}],              # resolved sets of those packages
      "units": [{"package": "<spec>", "target": {cargo target object}, "mode",
                 "platform": triple | null, "profile": {cargo profile object},
                 "features": [...],
                 "deps": [{"unit": <index>, "extern_crate_name": "..."}]}],
      "roots": [<index>, ...]
    }

Units are in the unit graph's order; ``packages`` and ``features`` are sorted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import NocargoError
from ..package import Workspace
from ..profiles import Profiles
from ..resolve.features import (
    FeatureRequest, FeatureResolution, FeaturesFor, PackageSelection, PlatformMatcher,
    platform_matcher, resolve_features,
)
from ..resolve.graph import ResolvedGraph, graph_from_path_workspace
from ..resolve.units import Intent, UnitGraph, build_unit_graph
from . import add_selection_args, help_text

__all__ = ["FORMATS", "PlanRequest", "add_resolution_args", "plan_json", "register",
           "resolve_from_args", "run"]

_EPILOG = """\
examples:
  nocargo-py plan --unit-graph                      # like cargo build --unit-graph
  nocargo-py plan --unit-graph --tests -p foo       # like cargo test --no-run --unit-graph -p foo
  nocargo-py plan --unit-graph --target aarch64-apple-darwin --release --all-features
  nocargo-py plan                                   # the build plan gen renders into Cargo.nix
  nocargo-py plan --target wasm32-unknown-unknown -p app
  nocargo-py plan --format resolved-units --release # nocargo's resolved-units JSON

The --unit-graph output matches `RUSTC_BOOTSTRAP=1 cargo build --unit-graph -Z unstable-options`.
"""


def add_resolution_args(parser: argparse.ArgumentParser) -> None:
    """The cargo-style selection, feature, target and profile flags (plan and explain)."""
    add_selection_args(parser, "build", "the default members")
    c = parser.add_argument_group("compilation")
    c.add_argument("--target", action="append", default=[], metavar="TRIPLE",
                   help="build for this target triple (repeatable; default: the host)")
    c.add_argument("--host", metavar="TRIPLE", default=None,
                   help="the host triple (default: rustc's host, from the target database)")
    c.add_argument("--release", "-r", action="store_true", help="use the release profile")
    c.add_argument("--profile", metavar="NAME", default=None, help="use this profile")
    c.add_argument("--tests", action="store_true",
                   help="plan tests too, like `cargo test --no-run` (dev-dependencies, test "
                        "harnesses, examples, doctests; profile `test`)")


@dataclass(frozen=True)
class PlanRequest:
    """Everything the command line decided, resolved."""

    ws: Workspace
    graph: ResolvedGraph
    resolution: FeatureResolution
    profiles: Profiles
    intent: Intent
    explicit_targets: bool
    targets: tuple[str, ...]
    #: ``[target]`` tables per compile kind, with each kind's rustflags (as ``gen``)
    platform_matches: PlatformMatcher


def _profile_name(args: argparse.Namespace) -> str:
    default = "test" if args.tests else "dev"
    if args.profile is not None:
        if args.release:
            raise NocargoError(f"conflicting usage of --profile={args.profile} and --release",
                               notes=("The `--release` flag is the same as `--profile=release`.",
                                      "Remove one flag or the other to continue."))
        if args.profile == "doc":
            raise NocargoError("profile `doc` is reserved and not allowed to be explicitly specified")
        return args.profile
    return "release" if args.release else default


def load_graph(ws: Workspace, ctx) -> ResolvedGraph:
    """The resolved graph of ``ws``: directly for path-only workspaces; otherwise from
    ``Cargo.lock`` (created or updated by the version resolver unless ``--locked``, as
    cargo does) through the planner's
    :func:`~nocargo_py.planner.inputs.load_resolved_graph`, with registry crates at the
    source paths cargo gives them (``$CARGO_HOME/registry/src/…``), so unit graphs compare."""
    from ..planner.inputs import is_path_only, load_resolved_graph

    if is_path_only(ws):
        return graph_from_path_workspace(ws)
    from ..index import Registries

    registries = Registries.from_options(ctx.options, ctx.shell, cwd=Path.cwd())
    try:
        graph, _ = load_resolved_graph(ws, registries, ctx.options, ctx.shell,
                                       cargo_src_paths=True)
    finally:
        registries.close()
    return graph


def resolve_from_args(args: argparse.Namespace, ctx) -> PlanRequest:
    """Load the workspace and run the resolvers for the flags of :func:`add_resolution_args`."""
    from ..cfg import host_triple
    from ..workspace import WorkspaceLoader, load_workspace

    loader = WorkspaceLoader(ctx.shell, cwd=Path.cwd())
    ws = load_workspace(ctx.options.manifest_path, Path.cwd(), ctx.shell, loader=loader)
    loader.emit_warnings(ctx.shell)  # manifest warnings, as cargo's build commands print them
    graph = load_graph(ws, ctx)
    host = args.host or host_triple()
    from ..config import load_config

    config = load_config(Path.cwd(), shell=ctx.shell)
    targets = tuple(args.target) or _config_targets(config)
    matcher = _platform_matcher(host, targets, config)
    request = FeatureRequest(
        host=host,
        selection=PackageSelection(tuple(args.package), bool(args.workspace), tuple(args.exclude)),
        features=tuple(args.features),
        all_features=bool(args.all_features),
        no_default_features=bool(args.no_default_features),
        targets=targets,
        dev_units=bool(args.tests),
    )
    resolution = resolve_features(graph, ws, request, platform_matches=matcher)
    profiles = Profiles.new(ws.profiles, _profile_name(args), host,
                            **_config_profile_settings(config))
    _validate_profile_overrides(profiles, resolution, ctx)
    intent = Intent.TEST if args.tests else Intent.BUILD
    return PlanRequest(ws, graph, resolution, profiles, intent, bool(targets), targets, matcher)


def _platform_matcher(host: str, targets: tuple[str, ...], config) -> PlatformMatcher:
    """Each compile kind's cfg set with its rustflags, as ``gen`` plans them."""
    from ..planner.settings import load_build_settings

    infos = {}
    for target in targets or (None,):
        settings = load_build_settings(host, target, config)
        infos.update((kind, ks.info) for kind, ks in settings.kinds.items())
    return platform_matcher(infos, host)


def _config_targets(config) -> tuple[str, ...]:
    """``build.target`` (string or list; ``CARGO_BUILD_TARGET``): cargo's default targets."""
    value = config.get("build.target")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise NocargoError("invalid configuration for key `build.target`: expected a string or "
                       "an array of strings")


def _config_profile_settings(config) -> dict:
    """``[profile]`` tables of ``.cargo/config.toml`` (merged over the manifest's, as cargo
    does) and the incremental override (``CARGO_INCREMENTAL``, else ``build.incremental``)."""
    import os

    profiles = config.profiles()
    incremental = None
    env = os.environ.get("CARGO_INCREMENTAL")
    if env is not None:
        incremental = env == "1"
    else:
        value = config.get("build.incremental")
        if isinstance(value, bool):
            incremental = value
    return {"config_profiles": profiles, "incremental": incremental}


def _validate_profile_overrides(profiles: Profiles, resolution: FeatureResolution, ctx) -> None:
    """Cargo's ``validate_packages``: ambiguous overrides are errors, unused ones warnings."""
    from ..resolve.pkgspec import PackageIdSpec

    ids = list(resolution.resolve_edges)
    by_profile: dict[str, list[str]] = {}
    for name, spec in profiles.package_override_specs():
        by_profile.setdefault(name, []).append(spec)
    for name, specs in by_profile.items():
        parsed = [(s, PackageIdSpec.parse(s)) for s in specs]
        found: set[str] = set()
        for pid in ids:
            matching = [s for s, p in parsed if p.matches(pid)]
            if len(matching) > 1:
                where = f" ({pid.source.url})" if pid.source.is_path() else ""
                raise NocargoError(
                    f"multiple package overrides in profile `{name}` match package "
                    f"`{pid.name} v{pid.version}{where}`",
                    notes=("found package specs: " + ", ".join(sorted(matching)),))
            found.update(matching)
        if name == profiles.requested:
            for s, _ in parsed:
                if s not in found:
                    ctx.shell.warn(f"profile package spec `{s}` in profile `{name}` did not "
                                   "match any packages")


def plan_json(req: PlanRequest, ug: UnitGraph) -> dict:
    """nocargo's resolved-units JSON (format documented in this module's docstring)."""
    res = req.resolution
    built = {u.package_id for u in ug.units}
    packages = {}
    for pid, pkg in req.graph.packages.items():
        if pid not in built:
            continue
        packages[pid.to_spec()] = {
            "name": pid.name,
            "version": pid.version,
            "source": None if pid.source.is_path() else pid.source.to_lock_string(),
            "manifest_path": str(pkg.manifest_path) if pkg.manifest_path else None,
            "links": pkg.links,
            "member": req.graph.is_member(pid),
        }
    features = []
    for (pid, fk), feats in sorted(res.features.items(),
                                   key=lambda kv: (kv[0][0].to_spec(), int(kv[0][1]))):
        if pid not in built:
            continue
        features.append({
            "package": pid.to_spec(),
            "for": "host" if fk is FeaturesFor.HOST else "normal",
            "features": list(feats),
            "optional_deps": sorted(res.activated_deps.get((pid, fk), ())),
        })
    units_json = ug.to_json()["units"]
    units = []
    for u in units_json:
        units.append({
            "package": u["pkg_id"], "target": u["target"], "mode": u["mode"],
            "platform": u["platform"], "profile": u["profile"], "features": u["features"],
            "deps": [{"unit": d["index"], "extern_crate_name": d["extern_crate_name"]}
                     for d in u["dependencies"]],
        })
    return {
        "format": "nocargo-resolved-units",
        "version": 1,
        "host": res.host,
        "targets": list(req.targets),
        "profile": req.profiles.requested,
        "resolver": res.resolver,
        "packages": dict(sorted(packages.items())),
        "features": features,
        "units": units,
        "roots": list(ug.roots),
    }


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``plan`` subcommand."""
    parser = subparsers.add_parser(
        "plan",
        parents=parents,
        help="print the build plan (JSON; `--unit-graph`: cargo's unit graph)",
        description=help_text("\n\n".join(__doc__.split("\n\n")[:3])),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    out = parser.add_argument_group("output")
    out.add_argument("--unit-graph", action="store_true",
                     help="print the JSON of `cargo build --unit-graph` (version 1)")
    out.add_argument("--format", choices=FORMATS, default=None,
                     help="`plan`: the build plan of gen (the default); `resolved-units`: "
                          "nocargo's resolved-units JSON")
    add_resolution_args(parser)
    parser.set_defaults(func=run)


#: ``--format`` values; ``plan`` is the default (without ``--unit-graph``).
FORMATS = ("plan", "resolved-units")

#: flags that choose one profile or mode: the build plan has dev and release, build and tests
_UNIT_GRAPH_ONLY = (("release", "--release"), ("profile", "--profile"), ("tests", "--tests"))


def run(args: argparse.Namespace, ctx) -> int:
    """Run the command; returns the exit status."""
    if args.unit_graph and args.format is not None:
        raise NocargoError("`--unit-graph` cannot be combined with `--format`")
    if not args.unit_graph and (args.format or "plan") == "plan":
        for attr, flag in _UNIT_GRAPH_ONLY:
            if getattr(args, attr):
                raise NocargoError(
                    f"`{flag}` applies to `--unit-graph` and `--format resolved-units` only",
                    notes=("the build plan (the default output, what gen renders) has the dev "
                           "and release profiles of `cargo build` and `cargo test --no-run`",))
        from .gen import build_plan

        _, build = build_plan(args, ctx)
        sys.stdout.write(build.validate().to_json())
        return 0
    req = resolve_from_args(args, ctx)
    ug = build_unit_graph(req.graph, req.ws, req.resolution, req.profiles, intent=req.intent,
                          explicit_targets=req.explicit_targets,
                          platform_matches=req.platform_matches)
    data = ug.to_json() if args.unit_graph else plan_json(req, ug)
    sys.stdout.write(json.dumps(data, separators=(",", ":") if args.unit_graph else None,
                                indent=None if args.unit_graph else 1) + "\n")
    return 0
