"""Resolution: the resolved package graph, cargo's feature resolver and the unit graph.

* :mod:`.graph` — :class:`ResolvedGraph` (packages + dependency edges), built from a
  path-only workspace (:func:`graph_from_path_workspace`) or from ``Cargo.lock``
  (:func:`graph_from_lockfile`); the version resolver produces the same type.
* :mod:`.features` — :func:`resolve_features` (resolver 1/2/3, command-line selection).
* :mod:`.units` — :func:`build_unit_graph` (cargo's unit graph, ``--unit-graph`` JSON).
* :mod:`.explain` — :func:`explain` (why a package is built, why a feature is on).
* :mod:`.pkgspec` — package ID specifications (``-p``, profile overrides).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# What each public name is defined in. They are imported on first use (PEP 562), so that a
# command that only locks (`lock`, `update`) does not load the feature resolver and the
# unit graph, nor `gen` the conflict explanations it never prints.
_EXPORTS = {
    **dict.fromkeys(("Cause", "CliFeatures", "FeatureRequest", "FeatureResolution",
                     "FeaturesFor", "PackageSelection", "PlatformMatcher",
                     "default_platform_matcher", "platform_matcher", "resolve_features"),
                   ".features"),
    **dict.fromkeys(("Edge", "ResolvedGraph", "ResolvedPackage", "graph_from_lockfile",
                     "graph_from_path_workspace", "package_id_key"), ".graph"),
    **dict.fromkeys(("PackageIdSpec", "PartialVersion"), ".pkgspec"),
    **dict.fromkeys(("CompileMode", "Intent", "Unit", "UnitDep", "UnitFor", "UnitGraph",
                     "build_unit_graph"), ".units"),
    # Version resolution (creating/updating Cargo.lock): :mod:`.versions`
    # (resolve_with_previous), :mod:`.solver` (cargo's backtracking search), :mod:`.provider`
    # (the PackageRegistry seam), :mod:`.lockgen` (a workspace's Cargo.lock: read, resolve,
    # decide whether to write).
    **dict.fromkeys(("LockOutcome", "ensure_lockfile", "inputs_from_workspace",
                     "lock_workspace"), ".lockgen"),
    **dict.fromkeys(("LockInputs", "VersionResolution", "resolve_versions"), ".versions"),
}

__all__ = [
    "Cause",
    "CliFeatures",
    "CompileMode",
    "Edge",
    "FeatureRequest",
    "FeatureResolution",
    "FeaturesFor",
    "Intent",
    "LockInputs",
    "LockOutcome",
    "PackageIdSpec",
    "PackageSelection",
    "PartialVersion",
    "PlatformMatcher",
    "ResolvedGraph",
    "ResolvedPackage",
    "Unit",
    "UnitDep",
    "UnitFor",
    "UnitGraph",
    "VersionResolution",
    "build_unit_graph",
    "default_platform_matcher",
    "ensure_lockfile",
    "graph_from_lockfile",
    "graph_from_path_workspace",
    "inputs_from_workspace",
    "lock_workspace",
    "package_id_key",
    "platform_matcher",
    "resolve_features",
    "resolve_versions",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - what the names are, for type checkers
    from .features import (
        Cause, CliFeatures, FeatureRequest, FeatureResolution, FeaturesFor, PackageSelection,
        PlatformMatcher, default_platform_matcher, platform_matcher, resolve_features,
    )
    from .graph import (
        Edge, ResolvedGraph, ResolvedPackage, graph_from_lockfile, graph_from_path_workspace,
        package_id_key,
    )
    from .lockgen import LockOutcome, ensure_lockfile, inputs_from_workspace, lock_workspace
    from .pkgspec import PackageIdSpec, PartialVersion
    from .units import (
        CompileMode, Intent, Unit, UnitDep, UnitFor, UnitGraph, build_unit_graph,
    )
    from .versions import LockInputs, VersionResolution, resolve_versions
