"""What the resolvers need to know about one package version: :class:`Summary`.

A summary is built either from a ``Cargo.toml`` (workspace members, path and git
packages) or from a registry index line. Both go through :func:`build_feature_map`, so
implicit features of optional dependencies and ``dep:`` suppression follow one rule.

Feature values (strings inside ``[features]`` lists) are parsed by
:func:`parse_feature_value` into one of :class:`FeatureRef`, :class:`DepRef`,
:class:`DepFeatureRef`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Mapping, Sequence

from .errors import NocargoError
from .source import PackageId, SourceId

__all__ = [
    "DepKind",
    "Dependency",
    "DepFeatureRef",
    "DepRef",
    "FeatureRef",
    "FeatureValue",
    "Summary",
    "build_feature_map",
    "parse_feature_value",
]


class DepKind(enum.Enum):
    """A dependency's kind, as in the ``[dependencies]`` table it was declared in."""

    NORMAL = "normal"
    DEV = "dev"
    BUILD = "build"

    @property
    def metadata_name(self) -> str | None:
        """``kind`` as ``cargo metadata`` writes it (``null`` for normal)."""
        return None if self is DepKind.NORMAL else self.value


@dataclass(frozen=True)
class Dependency:
    """One declared dependency edge (one entry of one dependency table).

    ``name`` is the real package name; ``rename`` is the table key whenever the entry has a
    ``package = "…"`` field — even if equal to the package name, as cargo records it
    (``None`` otherwise). ``name_in_toml`` is what
    features refer to (``dep:x``, ``x/feat``) and what the extern name derives from.

    ``req`` is the version requirement text exactly as cargo reports it (``"^1.2"``, ``"*"``
    for path deps without a version); parse it with :mod:`nocargo_py.semver_req`.
    ``any_version`` is set when the manifest gives no ``version`` (a path or git dependency):
    cargo's ``OptVersionReq::Any``, which matches every version, pre-releases included
    (``req`` is still ``"*"``, as cargo prints it); use :meth:`matches_version`.
    ``target`` is the platform key as written (``"cfg(unix)"`` or a triple) or ``None``.
    ``source`` is where the dependency is looked up (registry, path dir, git repo + ref).
    ``registry`` is the alternative registry's index URL for metadata output, or ``None``.
    ``path`` is the absolute directory of a path dependency (metadata prints it).
    """

    name: str
    req: str
    source: SourceId
    kind: DepKind = DepKind.NORMAL
    rename: str | None = None
    target: str | None = None
    optional: bool = False
    default_features: bool = True
    features: tuple[str, ...] = ()
    registry: str | None = None
    path: str | None = None
    public: bool | None = None
    artifact: tuple[str, ...] | None = None
    any_version: bool = False

    def __hash__(self) -> int:
        # The dataclass hash (every field), computed once: the version resolver keys its
        # query memo by dependencies.
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(tuple(getattr(self, f) for f in _DEPENDENCY_FIELDS))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def name_in_toml(self) -> str:
        return self.rename if self.rename is not None else self.name

    def matches_version(self, version: str) -> bool:
        """Does ``version`` satisfy the requirement (``any_version``: always; otherwise
        ``req`` with cargo's pre-release rule; an unparsable text never matches)?"""
        return self.any_version or _req_matches(self.req, version)


_DEPENDENCY_FIELDS = tuple(f.name for f in fields(Dependency))


@dataclass(frozen=True)
class FeatureRef:
    """``"name"``: enable feature ``name`` of the same package."""

    feature: str

    def __str__(self) -> str:
        return self.feature


@dataclass(frozen=True)
class DepRef:
    """``"dep:name"``: activate optional dependency ``name`` (its name in TOML)."""

    dep_name: str

    def __str__(self) -> str:
        return f"dep:{self.dep_name}"


@dataclass(frozen=True)
class DepFeatureRef:
    """``"name/feat"`` (or weak ``"name?/feat"``): feature ``feat`` of dependency ``name``."""

    dep_name: str
    dep_feature: str
    weak: bool = False

    def __str__(self) -> str:
        return f"{self.dep_name}{'?' if self.weak else ''}/{self.dep_feature}"


FeatureValue = FeatureRef | DepRef | DepFeatureRef


@lru_cache(maxsize=65536)
def parse_feature_value(text: str) -> FeatureValue:
    """Parse one feature value string as cargo's ``FeatureValue::new`` does (cached: the
    values are immutable and the same strings recur across every package's features).

    Splits on the first ``/``; ``dep:`` prefix marks an optional-dependency activation.
    Validation of names against the package happens in :func:`build_feature_map`.
    """
    dep, slash, feat = text.partition("/")
    if slash:
        weak = dep.endswith("?")
        if weak:
            dep = dep[:-1]
        if dep.startswith("dep:"):
            raise NocargoError(
                f"feature value `{text}` is not allowed to use explicit `dep:` syntax"
                " with a `/` (use `{}/{}` instead)".format(dep[4:], feat)
            )
        return DepFeatureRef(dep, feat, weak)
    if text.startswith("dep:"):
        return DepRef(text[4:])
    return FeatureRef(text)


@dataclass(frozen=True)
class Summary:
    """A package version as the resolvers see it.

    ``features`` is the *effective* feature map: the declared ``[features]`` table plus
    the implicit ``name = ["dep:name"]`` features of optional dependencies, values parsed.
    ``declared_features`` keeps the table as written (what ``cargo metadata`` prints).
    ``has_lib``/``proc_macro``/``has_build_script`` matter to the unit graph; for registry
    packages they are filled from the crate's manifest or left at their defaults.
    """

    package_id: PackageId
    dependencies: tuple[Dependency, ...]
    features: Mapping[str, tuple[FeatureValue, ...]]
    declared_features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    links: str | None = None
    rust_version: str | None = None
    checksum: str | None = None
    yanked: bool = False

    @property
    def name(self) -> str:
        return self.package_id.name

    @property
    def version(self) -> str:
        return self.package_id.version

    @property
    def source(self) -> SourceId:
        return self.package_id.source


def build_feature_map(
    declared: Mapping[str, Sequence[str]],
    dependencies: Sequence[Dependency],
    *,
    validate: bool = True,
) -> dict[str, tuple[FeatureValue, ...]]:
    """Cargo's ``build_feature_map``: parse values and add implicit optional-dep features.

    For every optional dependency ``d`` (by TOML name) a feature ``d = ["dep:d"]`` is
    added unless a feature ``d`` is declared or ``"dep:d"`` appears in some value.
    With ``validate`` (manifests; index data is not re-validated by cargo beyond what it
    needs) the rules of the Cargo Book are enforced and a :class:`NocargoError` names the
    offending feature.
    """
    if validate:
        for dep in dependencies:
            if dep.optional and dep.kind is DepKind.DEV:
                raise NocargoError(
                    f"dev-dependencies are not allowed to be optional: `{dep.name_in_toml}`"
                )
    parsed: dict[str, tuple[FeatureValue, ...]] = {
        name: tuple(parse_feature_value(v) for v in values) for name, values in declared.items()
    }
    dep_names: dict[str, list[Dependency]] = {}
    for dep in dependencies:
        dep_names.setdefault(dep.name_in_toml, []).append(dep)
    explicitly_dep = {
        v.dep_name for values in parsed.values() for v in values if isinstance(v, DepRef)
    }
    feature_map = dict(parsed)
    for name, deps in dep_names.items():
        if not any(d.optional for d in deps):
            continue
        if name in feature_map or name in explicitly_dep:
            continue
        feature_map[name] = (DepRef(name),)

    if not validate:
        return feature_map

    for feature, values in parsed.items():
        if feature.startswith("dep:"):
            raise NocargoError(
                f"feature named `{feature}` is not allowed to start with `dep:`"
            )
        if "/" in feature:
            raise NocargoError(f"feature named `{feature}` is not allowed to contain slashes")
        for value in values:
            _validate_value(feature, value, feature_map, dep_names, explicitly_dep)
    # Every optional dependency must be named by some feature value: `dep:d`, `d/x` or
    # `d?/x` (the implicit `d = ["dep:d"]` counts) — checked against cargo 1.95:
    # "optional dependency `d` is not included in any feature".
    used = {
        v.dep_name
        for values in feature_map.values()
        for v in values
        if isinstance(v, (DepRef, DepFeatureRef))
    }
    for name, deps in dep_names.items():
        if any(d.optional for d in deps) and name not in used:
            raise NocargoError(
                f"optional dependency `{name}` is not included in any feature",
                notes=(f"Make sure that `dep:{name}` is included in one of features in the "
                       "[features] table.",),
            )

    return feature_map


def _validate_value(
    feature: str,
    value: FeatureValue,
    feature_map: Mapping[str, tuple[FeatureValue, ...]],
    dep_names: Mapping[str, list[Dependency]],
    explicitly_dep: set[str],
) -> None:
    if isinstance(value, FeatureRef):
        if value.feature in feature_map:
            return
        deps = dep_names.get(value.feature)
        if deps is None:
            raise NocargoError(
                f"feature `{feature}` includes `{value}` which is neither a dependency nor "
                "another feature"
            )
        if any(d.optional for d in deps):
            raise NocargoError(
                f"feature `{feature}` includes `{value}`, but `{value}` is an optional "
                "dependency without an implicit feature",
                notes=(f"Use `dep:{value}` to enable the dependency.",),
            )
        raise NocargoError(
            f"feature `{feature}` includes `{value}`, but `{value}` is not an optional "
            "dependency",
            notes=(
                "A non-optional dependency of the same name is defined; consider adding "
                "`optional = true` to its definition.",
            ),
        )
    if isinstance(value, DepRef):
        deps = dep_names.get(value.dep_name)
        if deps is None:
            raise NocargoError(
                f"feature `{feature}` includes `{value}`, but `{value.dep_name}` is not listed "
                "as a dependency"
            )
        if not any(d.optional for d in deps):
            raise NocargoError(
                f"feature `{feature}` includes `{value}`, but `{value.dep_name}` is not an "
                "optional dependency",
                notes=(
                    "A non-optional dependency of the same name is defined; consider adding "
                    "`optional = true` to its definition.",
                ),
            )
        return
    # DepFeatureRef
    deps = dep_names.get(value.dep_name)
    if deps is None:
        if value.dep_name in feature_map:
            raise NocargoError(
                f"feature `{feature}` includes `{value}` with a `/`, but `{value.dep_name}` is "
                "not a dependency",
                notes=(
                    f"To enable features on the feature `{value.dep_name}`, list it directly.",
                ),
            )
        raise NocargoError(
            f"feature `{feature}` includes `{value}`, but `{value.dep_name}` is not a dependency"
        )
    if value.weak and not any(d.optional for d in deps):
        raise NocargoError(
            f"feature `{feature}` includes `{value}` with a `?`, but `{value.dep_name}` is not "
            "an optional dependency",
            notes=(
                "A non-optional dependency of the same name is defined; consider removing the "
                f"`?` or changing the dependency to be optional",
            ),
        )


@lru_cache(maxsize=4096)
def _req_matches(req: str, version: str) -> bool:
    from .semver_req import Version, VersionReq

    try:
        return VersionReq.parse(req).matches(Version.parse(version))
    except NocargoError:
        return False
