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

from .features import (
    Cause,
    CliFeatures,
    FeatureRequest,
    FeatureResolution,
    FeaturesFor,
    PackageSelection,
    PlatformMatcher,
    default_platform_matcher,
    resolve_features,
)
from .graph import (
    Edge,
    ResolvedGraph,
    ResolvedPackage,
    graph_from_lockfile,
    graph_from_path_workspace,
    package_id_key,
)
from .pkgspec import PackageIdSpec, PartialVersion
from .units import CompileMode, Intent, Unit, UnitDep, UnitFor, UnitGraph, build_unit_graph

__all__ = [
    "Cause",
    "CliFeatures",
    "CompileMode",
    "Edge",
    "FeatureRequest",
    "FeatureResolution",
    "FeaturesFor",
    "Intent",
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
    "build_unit_graph",
    "default_platform_matcher",
    "graph_from_lockfile",
    "graph_from_path_workspace",
    "package_id_key",
    "resolve_features",
]

# Version resolution (creating/updating Cargo.lock): :mod:`.versions` (resolve_with_previous),
# :mod:`.solver` (cargo's backtracking search), :mod:`.provider` (the PackageRegistry seam),
# :mod:`.lockgen` (a workspace's Cargo.lock: read, resolve, decide whether to write).
from .lockgen import LockOutcome, ensure_lockfile, inputs_from_workspace, lock_workspace  # noqa: E402
from .versions import LockInputs, VersionResolution, resolve_versions  # noqa: E402

__all__ += [
    "LockInputs",
    "LockOutcome",
    "VersionResolution",
    "ensure_lockfile",
    "inputs_from_workspace",
    "lock_workspace",
    "resolve_versions",
]
