"""Why is a package in the graph, and why is a feature on?

:func:`explain` walks the causes the feature resolver recorded (the *first* activation of
each package, optional dependency and feature; :class:`~.features.Cause`) back to the
command line and prints the chain of dependency edges and feature values, one step per
line. Cargo has only ``cargo tree -e features -i PKG``; this prints one concrete path per
question instead of the whole inverted tree.
"""

from __future__ import annotations

from ..errors import NocargoError
from ..source import PackageId
from .features import Cause, FeatureResolution, FeaturesFor
from .graph import ResolvedGraph, package_id_key
from .pkgspec import PackageIdSpec

__all__ = ["explain", "find_package"]


def find_package(graph: ResolvedGraph, resolution: FeatureResolution, spec: str) -> PackageId:
    """The package named by ``spec`` (``name``, ``name@version``…) among those built."""
    parsed = PackageIdSpec.parse(spec)
    built = [pid for pid in resolution.resolve_edges
             if any(key[0] == pid for key in resolution.features)]
    matches = [pid for pid in built if parsed.matches(pid)]
    if not matches:
        known = [pid for pid in graph.packages if parsed.matches(pid)]
        if known:
            raise NocargoError(
                f"package `{spec}` is not built for this request",
                notes=("it is in the resolved graph but nothing activates it with the "
                       "selected packages, features and targets",))
        raise NocargoError(f"package ID specification `{spec}` did not match any packages")
    if len(matches) > 1:
        listing = ", ".join(f"{p.name}@{p.version}" for p in sorted(matches, key=package_id_key))
        raise NocargoError(f"`{spec}` is ambiguous: it matches {listing}",
                           notes=("add a version: `name@version`",))
    return matches[0]


def _label(pid: PackageId, fk: FeaturesFor | None, decoupled: bool) -> str:
    text = f"{pid.name} v{pid.version}"
    if fk is FeaturesFor.HOST and decoupled:
        text += " (host)"
    return text


class _Explainer:
    def __init__(self, resolution: FeatureResolution) -> None:
        self.res = resolution
        self.lines: list[str] = []
        self.seen: set[tuple] = set()

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def package(self, pid: PackageId, fk: FeaturesFor, depth: int) -> None:
        key = ("pkg", pid, fk)
        label = _label(pid, fk, self.res.decouple_host)
        if key in self.seen:
            self.emit(depth, f"{label} (see above)")
            return
        self.seen.add(key)
        cause = self.res.package_causes.get((pid, fk))
        if cause is None:
            self.emit(depth, f"{label}: not activated")
            return
        if cause.package is None:
            self.emit(depth, f"{label} <- workspace member {cause.via}")
            return
        parent_fk = cause.fk if cause.fk is not None else FeaturesFor.NORMAL
        parent = _label(cause.package, parent_fk, self.res.decouple_host)
        self.emit(depth, f"{label} <- {cause.via} of {parent}")
        if cause.via.startswith("optional dependency"):
            dep_name = cause.via.split("`")[1]
            dep_cause = self.res.dep_causes.get((cause.package, parent_fk, dep_name))
            if dep_cause is not None:
                self.cause(cause.package, parent_fk, dep_cause, depth + 1,
                           f"`{dep_name}` of {parent} is activated")
        self.package(cause.package, parent_fk, depth + 1)

    def feature(self, pid: PackageId, fk: FeaturesFor, feature: str, depth: int) -> None:
        key = ("feat", pid, fk, feature)
        label = f"feature `{feature}` of {_label(pid, fk, self.res.decouple_host)}"
        if key in self.seen:
            self.emit(depth, f"{label} (see above)")
            return
        self.seen.add(key)
        cause = self.res.feature_causes.get((pid, fk, feature))
        if cause is None:
            self.emit(depth, f"{label}: not enabled")
            return
        self.cause(pid, fk, cause, depth, label)

    def cause(self, pid: PackageId, fk: FeaturesFor, cause: Cause, depth: int, label: str) -> None:
        if cause.package is None:
            self.emit(depth, f"{label} <- {cause.via}")
            return
        parent_fk = cause.fk if cause.fk is not None else FeaturesFor.NORMAL
        parent = _label(cause.package, parent_fk, self.res.decouple_host)
        if cause.package == pid and cause.feature is not None:
            self.emit(depth, f"{label} <- listed in feature `{cause.feature}`")
            self.feature(pid, parent_fk, cause.feature, depth + 1)
            return
        if cause.feature is not None:
            self.emit(depth, f"{label} <- feature `{cause.feature}` of {parent}")
            self.feature(cause.package, parent_fk, cause.feature, depth + 1)
            return
        self.emit(depth, f"{label} <- {cause.via} of {parent} (its declaration's "
                         "`features`/`default-features`)")
        self.package(cause.package, parent_fk, depth + 1)


def explain(graph: ResolvedGraph, resolution: FeatureResolution, spec: str,
            feature: str | None = None) -> str:
    """A human-readable explanation (several lines, no trailing newline)."""
    pid = find_package(graph, resolution, spec)
    if feature is not None:
        summary = graph.packages[pid].summary
        if feature not in summary.features:
            raise NocargoError(f"package `{pid.name} v{pid.version}` has no feature `{feature}`",
                               notes=("features: " + ", ".join(sorted(summary.features)),)
                               if summary.features else ())
    sets = [fk for fk in (FeaturesFor.NORMAL, FeaturesFor.HOST)
            if (pid, fk) in resolution.features]
    out: list[str] = []
    for fk in sets:
        ex = _Explainer(resolution)
        where = "for the host (build scripts and proc-macros)" if fk is FeaturesFor.HOST \
            else "for the target"
        if not resolution.decouple_host:
            where = "(resolver 1: one feature set)"
        enabled = resolution.features[(pid, fk)]
        if feature is None:
            out.append(f"{pid.name} v{pid.version} is built {where}; features: "
                       f"{', '.join(enabled) if enabled else '(none)'}")
            ex.package(pid, fk, 1)
        else:
            if feature not in enabled:
                out.append(f"feature `{feature}` of {pid.name} v{pid.version} is off {where}")
                continue
            out.append(f"feature `{feature}` of {pid.name} v{pid.version} is on {where}")
            ex.feature(pid, fk, feature, 1)
        out.extend(ex.lines)
    return "\n".join(out)
