"""One ``Cargo.toml`` → a typed, validated :class:`Manifest` (before workspace inheritance).

:func:`parse_manifest` checks every key cargo reads for its type and value (names,
versions, requirements, editions, rust-version, dependency forms, target tables, profiles)
and raises a :class:`~nocargo_py.errors.NocargoError` pointing at the file, key and
line:column. Keys cargo does not know are collected in :attr:`Manifest.warnings` as
``unused manifest key: …`` (cargo warns, it does not fail).

Fields that may be inherited from the workspace (``version.workspace = true``) hold the
:data:`INHERIT` marker; dependencies with ``workspace = true`` are
:class:`DependencySpec` s with ``inherit=True``. Resolving those is the job of
:mod:`nocargo_py.workspace`, which also turns specs into :class:`~nocargo_py.summary.Dependency`
and targets into :class:`~nocargo_py.package.Target` (via :mod:`nocargo_py.targets`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import NocargoError, ParseError
from .semver_req import Version, VersionReq
from .toml_util import TomlDocument, describe_value, load_toml

__all__ = [
    "INHERIT",
    "DependencySpec",
    "EDITIONS",
    "Manifest",
    "PackageSpec",
    "PlatformDeps",
    "ProfileSpec",
    "RustVersion",
    "TargetSpec",
    "WorkspaceSpec",
    "edition_default_resolver",
    "parse_dependency_value",
    "parse_edition",
    "parse_manifest",
    "parse_manifest_bytes",
    "parse_manifest_text",
    "validate_feature_name",
    "validate_package_name",
]


class _Inherit(enum.Enum):
    INHERIT = "workspace"

    def __repr__(self) -> str:
        return "INHERIT"


INHERIT = _Inherit.INHERIT
"""Marker for ``key.workspace = true`` in ``[package]``."""

EDITIONS = ("2015", "2018", "2021", "2024")
_EDITION_FIRST_VERSION = {"2018": (1, 31, 0), "2021": (1, 56, 0), "2024": (1, 85, 0)}
_EDITION_RESOLVER = {"2015": "1", "2018": "1", "2021": "2", "2024": "3"}

KeyPath = tuple


def edition_default_resolver(edition: str) -> str:
    """The resolver an edition implies (2015/2018 → "1", 2021 → "2", 2024 → "3")."""
    return _EDITION_RESOLVER[edition]


def parse_edition(text: str) -> str:
    """Validate an edition string as cargo's ``Edition::from_str``; returns it."""
    if text in EDITIONS:
        return text
    if text.isdigit() and 2024 < int(text) < 2050:
        raise NocargoError(
            f"this version of Cargo is older than the `{text}` edition, and only supports "
            "`2015`, `2018`, `2021`, and `2024` editions."
        )
    raise NocargoError(
        f"supported edition values are `2015`, `2018`, `2021`, or `2024`, but `{text}` is unknown"
    )


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


def _is_xid_start(ch: str) -> bool:
    return ch.isidentifier() and ch != "_"


def _is_xid_continue(ch: str) -> bool:
    return ("a" + ch).isidentifier()


def validate_package_name(name: str, what: str = "package name") -> None:
    """cargo's ``validate_package_name`` (also used for dependency keys); raises on bad names."""
    if not name:
        raise NocargoError(f"{what} cannot be empty")
    first = name[0]
    if first.isdigit():
        raise NocargoError(
            f"invalid character `{first}` in {what}: `{name}`, the name cannot start with a digit"
        )
    if not (_is_xid_start(first) or first == "_"):
        raise NocargoError(
            f"invalid character `{first}` in {what}: `{name}`, the first character must be a "
            "Unicode XID start character (most letters or `_`)"
        )
    for ch in name[1:]:
        if not (_is_xid_continue(ch) or ch == "-"):
            raise NocargoError(
                f"invalid character `{ch}` in {what}: `{name}`, characters must be Unicode XID "
                "characters (numbers, `-`, `_`, or most letters)"
            )


def validate_feature_name(name: str) -> None:
    """cargo's feature-name rule (``[features]`` keys)."""
    if not name:
        raise NocargoError("feature name cannot be empty")
    first = name[0]
    if not (_is_xid_start(first) or first == "_" or first.isdigit()):
        raise NocargoError(
            f"invalid character `{first}` in feature name: `{name}`, the first character must "
            "be a Unicode XID start character or digit (most letters or `_` or `0` to `9`)"
        )
    for ch in name[1:]:
        if not (_is_xid_continue(ch) or ch in "-+."):
            raise NocargoError(
                f"invalid character `{ch}` in feature name: `{name}`, characters must be Unicode "
                "XID characters, '-', `+`, or `.` (numbers, `+`, `-`, `_`, `.`, or most letters)"
            )


# --------------------------------------------------------------------------------------
# rust-version
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RustVersion:
    """``package.rust-version``: ``major[.minor[.patch]]`` (no pre-release, no build)."""

    major: int
    minor: int | None = None
    patch: int | None = None

    @classmethod
    def parse(cls, text: str) -> "RustVersion":
        """Parse as cargo's ``RustVersion``; messages match cargo's."""
        if any(c in text for c in "^=~><*"):
            raise NocargoError('unexpected version requirement, expected a version like "1.32"')
        m = re.fullmatch(r"(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?(?:\.(0|[1-9][0-9]*))?(-[^+]*)?(\+.*)?", text)
        if not m:
            raise NocargoError('expected a version like "1.32"')
        if m.group(4):
            raise NocargoError('unexpected prerelease field, expected a version like "1.32"')
        if m.group(5):
            raise NocargoError('unexpected build field, expected a version like "1.32"')
        major = int(m.group(1))
        minor = int(m.group(2)) if m.group(2) is not None else None
        patch = int(m.group(3)) if m.group(3) is not None else None
        if patch is not None and minor is None:  # pragma: no cover - regex forbids it
            raise NocargoError('expected a version like "1.32"')
        return cls(major, minor, patch)

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor or 0, self.patch or 0)

    def __str__(self) -> str:
        out = str(self.major)
        if self.minor is not None:
            out += f".{self.minor}"
            if self.patch is not None:
                out += f".{self.patch}"
        return out


# --------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DependencySpec:
    """One entry of a dependency table, as written (before inheritance/resolution).

    ``key`` is where it sits in the TOML (for error locations). ``inherit`` marks
    ``{ workspace = true, ... }``; then only ``features``, ``optional``,
    ``default_features`` and ``public`` are meaningful.
    """

    name_in_toml: str
    key: KeyPath
    simple: bool = False
    inherit: bool = False
    version: str | None = None
    path: str | None = None
    base: str | None = None
    git: str | None = None
    branch: str | None = None
    tag: str | None = None
    rev: str | None = None
    registry: str | None = None
    registry_index: str | None = None
    package: str | None = None
    optional: bool | None = None
    default_features: bool | None = None
    default_features_underscore: bool | None = None
    features: tuple[str, ...] | None = None
    public: bool | None = None
    artifact: tuple[str, ...] | None = None
    lib: bool | None = None
    target: str | None = None

    @property
    def effective_default_features(self) -> bool | None:
        """``default-features`` (preferred) or the legacy ``default_features``."""
        if self.default_features is not None:
            return self.default_features
        return self.default_features_underscore


@dataclass(frozen=True)
class PlatformDeps:
    """The dependency tables under one ``[target.'<key>']``."""

    key: str
    dependencies: tuple[DependencySpec, ...] | None = None
    dev_dependencies: tuple[DependencySpec, ...] | None = None
    build_dependencies: tuple[DependencySpec, ...] | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A ``[lib]`` / ``[[bin]]`` / ``[[example]]`` / ``[[test]]`` / ``[[bench]]`` table."""

    key: KeyPath
    name: str | None = None
    path: str | None = None
    crate_type: tuple[str, ...] | None = None
    crate_type_underscore: tuple[str, ...] | None = None
    test: bool | None = None
    doctest: bool | None = None
    bench: bool | None = None
    doc: bool | None = None
    doc_scrape_examples: bool | None = None
    proc_macro: bool | None = None
    proc_macro_underscore: bool | None = None
    harness: bool | None = None
    required_features: tuple[str, ...] | None = None
    edition: str | None = None
    filename: str | None = None

    @property
    def crate_types(self) -> tuple[str, ...] | None:
        return self.crate_type if self.crate_type is not None else self.crate_type_underscore

    @property
    def is_proc_macro(self) -> bool | None:
        return self.proc_macro if self.proc_macro is not None else self.proc_macro_underscore


@dataclass(frozen=True)
class PackageSpec:
    """``[package]`` as written. Inheritable fields may be :data:`INHERIT`."""

    name: str
    version: Any = None  # Version | INHERIT | None
    edition: Any = None  # str | INHERIT | None
    rust_version: Any = None  # RustVersion | INHERIT | None
    authors: Any = None
    description: Any = None
    documentation: Any = None
    homepage: Any = None
    repository: Any = None
    readme: Any = None  # str | bool | INHERIT | None
    license: Any = None
    license_file: Any = None
    keywords: Any = None
    categories: Any = None
    publish: Any = None  # bool | tuple[str] | INHERIT | None
    include: Any = None
    exclude: Any = None
    build: Any = None  # str | bool | tuple[str] | None
    links: str | None = None
    workspace: str | None = None
    default_run: str | None = None
    autolib: bool | None = None
    autobins: bool | None = None
    autoexamples: bool | None = None
    autotests: bool | None = None
    autobenches: bool | None = None
    resolver: str | None = None
    metadata: Any = None
    default_target: str | None = None
    forced_target: str | None = None
    metabuild: Any = None


@dataclass(frozen=True)
class WorkspaceSpec:
    """``[workspace]``: membership, inheritable ``package``/``dependencies``, resolver."""

    members: tuple[str, ...] | None = None
    default_members: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    resolver: str | None = None
    package: Mapping[str, Any] = field(default_factory=dict)
    dependencies: Mapping[str, DependencySpec] | None = None
    metadata: Any = None
    lints: Any = None


@dataclass(frozen=True)
class ProfileSpec:
    """One ``[profile.<name>]`` table (or a ``build-override`` / ``package.<spec>`` layer).

    Values are as written (``None`` = unset); ``package`` maps package-id specs (or ``"*"``)
    to override layers.
    """

    opt_level: Any = None  # an int (range checked with the profiles) | "s" | "z"
    debug: Any = None  # bool | int | str
    split_debuginfo: str | None = None
    strip: Any = None  # bool | str
    debug_assertions: bool | None = None
    overflow_checks: bool | None = None
    lto: Any = None  # bool | str
    panic: str | None = None
    incremental: bool | None = None
    codegen_units: int | None = None
    rpath: bool | None = None
    inherits: str | None = None
    trim_paths: Any = None
    build_override: "ProfileSpec | None" = None
    package: tuple[tuple[str, "ProfileSpec"], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Manifest:
    """A parsed ``Cargo.toml`` (typed and validated, inheritance not yet applied)."""

    path: Path
    doc: TomlDocument = field(repr=False, compare=False)
    package: PackageSpec | None
    workspace: WorkspaceSpec | None
    lib: TargetSpec | None = None
    bins: tuple[TargetSpec, ...] | None = None
    examples: tuple[TargetSpec, ...] | None = None
    tests: tuple[TargetSpec, ...] | None = None
    benches: tuple[TargetSpec, ...] | None = None
    dependencies: tuple[DependencySpec, ...] | None = None
    dev_dependencies: tuple[DependencySpec, ...] | None = None
    build_dependencies: tuple[DependencySpec, ...] | None = None
    platforms: tuple[PlatformDeps, ...] = ()
    features: Mapping[str, tuple[str, ...]] | None = None
    patch: Mapping[str, tuple[DependencySpec, ...]] = field(default_factory=dict)
    replace: tuple[tuple[str, DependencySpec], ...] = ()
    profiles: Mapping[str, ProfileSpec] = field(default_factory=dict)
    cargo_features: tuple[str, ...] = ()
    uses_project_key: bool = False
    lints: Any = None
    warnings: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def is_virtual(self) -> bool:
        return self.package is None

    def all_dependency_specs(self) -> list[tuple[str, str | None, DependencySpec]]:
        """Every dependency entry as (kind, platform, spec) in cargo's order.

        Cargo's order: ``[dependencies]``, ``[dev-dependencies]``, ``[build-dependencies]``
        (each sorted by name), then each ``[target.<key>]`` (sorted by key) with normal,
        build, dev tables.
        """
        out: list[tuple[str, str | None, DependencySpec]] = []
        for kind, table in (("normal", self.dependencies), ("dev", self.dev_dependencies),
                            ("build", self.build_dependencies)):
            for spec in table or ():
                out.append((kind, None, spec))
        for plat in self.platforms:
            for kind, table in (("normal", plat.dependencies), ("build", plat.build_dependencies),
                                ("dev", plat.dev_dependencies)):
                for spec in table or ():
                    out.append((kind, plat.key, spec))
        return out


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


class _P:
    """Typed field access on one TOML document, with cargo-like error messages."""

    def __init__(self, doc: TomlDocument) -> None:
        self.doc = doc
        self.warnings: list[str] = []

    def fail(self, message: str, key: KeyPath, notes=()) -> NocargoError:
        return self.doc.error(message, key, notes)

    def type_error(self, value: Any, expected: str, key: KeyPath) -> NocargoError:
        return self.fail(f"invalid type: {describe_value(value)}, expected {expected}", key)

    def unused(self, table: Mapping[str, Any], known: set[str], key: KeyPath) -> None:
        prefix = ".".join(str(k) for k in key)
        for name in table:
            if name not in known:
                self.warnings.append(f"unused manifest key: {prefix + '.' if prefix else ''}{name}")

    # -- scalar readers -----------------------------------------------------------------
    def table(self, value: Any, key: KeyPath) -> dict:
        if not isinstance(value, dict):
            raise self.type_error(value, "a map", key)
        return value

    def string(self, value: Any, key: KeyPath, expected: str = "a string") -> str:
        if not isinstance(value, str):
            raise self.type_error(value, expected, key)
        return value

    def boolean(self, value: Any, key: KeyPath) -> bool:
        if not isinstance(value, bool):
            raise self.type_error(value, "a boolean", key)
        return value

    def integer(self, value: Any, key: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.type_error(value, "an integer", key)
        return value

    def strings(self, value: Any, key: KeyPath, expected: str = "a sequence") -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.type_error(value, expected, key)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.type_error(item, "a string", key + (i,))
        return tuple(value)

    def opt(self, table: Mapping[str, Any], name: str, key: KeyPath, reader) -> Any:
        if name not in table:
            return None
        return reader(table[name], key + (name,))

    # -- inheritable fields -----------------------------------------------------------------
    def inheritable(self, table: Mapping[str, Any], name: str, key: KeyPath, reader,
                    expected: str) -> Any:
        if name not in table:
            return None
        value = table[name]
        k = key + (name,)
        if isinstance(value, dict):
            if "workspace" not in value:
                raise self.fail("missing field `workspace`", k)
            ws = value["workspace"]
            if not isinstance(ws, bool):
                raise self.type_error(ws, "a boolean", k + ("workspace",))
            if not ws:
                raise self.fail("`workspace` cannot be false", k + ("workspace",))
            self.unused(value, {"workspace"}, ("package", name))
            return INHERIT
        try:
            return reader(value, k)
        except NocargoError as err:
            if err.message.startswith("invalid type:") and not isinstance(value, (dict,)):
                raise self.type_error(value, expected, k) from None
            raise


_PACKAGE_KEYS = {
    "edition", "rust-version", "name", "version", "authors", "build", "metabuild",
    "default-target", "forced-target", "links", "exclude", "include", "publish", "workspace",
    "im-a-teapot", "autolib", "autobins", "autoexamples", "autotests", "autobenches",
    "default-run", "description", "homepage", "documentation", "readme", "keywords",
    "categories", "license", "license-file", "repository", "resolver", "metadata",
}
_TOP_KEYS = {
    "cargo-features", "package", "project", "profile", "lib", "bin", "example", "test", "bench",
    "dependencies", "dev-dependencies", "dev_dependencies", "build-dependencies",
    "build_dependencies", "features", "target", "replace", "patch", "workspace", "badges",
    "lints", "hints",
}
_DEP_KEYS = {
    "version", "registry", "registry-index", "path", "base", "git", "branch", "tag", "rev",
    "features", "optional", "default-features", "default_features", "package", "public",
    "artifact", "lib", "target",
}
_INHERITED_DEP_KEYS = {"workspace", "features", "optional", "default-features",
                       "default_features", "public"}
_TARGET_KEYS = {
    "name", "crate-type", "crate_type", "path", "filename", "test", "doctest", "bench", "doc",
    "doc-scrape-examples", "proc-macro", "proc_macro", "harness", "required-features",
    "edition", "plugin",
}
_WORKSPACE_KEYS = {"members", "exclude", "default-members", "resolver", "metadata", "package",
                   "dependencies", "lints"}
_WS_PACKAGE_KEYS = {
    "version", "authors", "description", "homepage", "documentation", "readme", "keywords",
    "categories", "license", "license-file", "repository", "publish", "edition", "badges",
    "exclude", "include", "rust-version",
}
_PROFILE_KEYS = {
    "opt-level", "lto", "codegen-backend", "codegen-units", "debug", "split-debuginfo",
    "debug-assertions", "rpath", "panic", "overflow-checks", "incremental", "dir-name",
    "inherits", "strip", "rustflags", "trim-paths", "build-override", "package", "hint-mostly-unused",
    "frame-pointers",
}


def parse_manifest(path: Path | str) -> Manifest:
    """Read and validate the ``Cargo.toml`` at ``path``."""
    doc = load_toml(path)
    return _parse(doc)


def parse_manifest_bytes(raw: bytes, path: Path | str) -> Manifest:
    """Validate the bytes of a manifest (``path`` is used for messages and as the root)."""
    from .toml_util import parse_toml_bytes

    return _parse(parse_toml_bytes(raw, path))


def parse_manifest_text(text: str, path: Path | str) -> Manifest:
    """Validate a manifest given as text (``path`` is used for messages and as the root)."""
    from .toml_util import parse_toml

    return _parse(parse_toml(text, path))


def _parse(doc: TomlDocument) -> Manifest:
    p = _P(doc)
    data = doc.data
    p.unused(data, _TOP_KEYS, ())

    package_table = None
    uses_project = False
    if "package" in data:
        package_table = p.table(data["package"], ("package",))
        pkey: KeyPath = ("package",)
    elif "project" in data:
        package_table = p.table(data["project"], ("project",))
        pkey = ("project",)
        uses_project = True
    package = _parse_package(p, package_table, pkey) if package_table is not None else None

    workspace = None
    if "workspace" in data:
        workspace = _parse_workspace(p, p.table(data["workspace"], ("workspace",)))

    if package is None and workspace is None:
        raise NocargoError(
            "manifest is missing either a `[package]` or a `[workspace]`",
            location=doc.location(),
        )
    if workspace is not None and package is not None and package.workspace is not None:
        raise doc.error(
            "cannot configure both `package.workspace` and `[workspace]`, only one can be specified",
            ("package", "workspace"),
        )

    cargo_features = p.opt(data, "cargo-features", (), p.strings) or ()

    lib = None
    if "lib" in data:
        lib = _parse_target(p, p.table(data["lib"], ("lib",)), ("lib",))
    bins = _parse_target_list(p, data, "bin")
    examples = _parse_target_list(p, data, "example")
    tests = _parse_target_list(p, data, "test")
    benches = _parse_target_list(p, data, "bench")

    deps = _parse_dep_table(p, data, "dependencies", ())
    dev = _parse_dep_table(p, data, "dev-dependencies", ())
    dev_u = _parse_dep_table(p, data, "dev_dependencies", ())
    build = _parse_dep_table(p, data, "build-dependencies", ())
    build_u = _parse_dep_table(p, data, "build_dependencies", ())
    edition_for_underscores = _edition_hint(package)
    dev = _underscore_table(p, dev, dev_u, "dev-dependencies", package, "package",
                            edition_for_underscores)
    build = _underscore_table(p, build, build_u, "build-dependencies", package, "package",
                              edition_for_underscores)

    platforms: list[PlatformDeps] = []
    if "target" in data:
        targets = p.table(data["target"], ("target",))
        for tkey in sorted(targets):
            ttable = p.table(targets[tkey], ("target", tkey))
            base = ("target", tkey)
            p.unused(ttable, {"dependencies", "dev-dependencies", "dev_dependencies",
                              "build-dependencies", "build_dependencies"}, base)
            t_deps = _parse_dep_table(p, ttable, "dependencies", base)
            t_dev = _underscore_table(
                p, _parse_dep_table(p, ttable, "dev-dependencies", base),
                _parse_dep_table(p, ttable, "dev_dependencies", base), "dev-dependencies",
                tkey, "platform target", edition_for_underscores)
            t_build = _underscore_table(
                p, _parse_dep_table(p, ttable, "build-dependencies", base),
                _parse_dep_table(p, ttable, "build_dependencies", base), "build-dependencies",
                tkey, "platform target", edition_for_underscores)
            platforms.append(PlatformDeps(tkey, t_deps, t_dev, t_build))

    features = None
    if "features" in data:
        ftable = p.table(data["features"], ("features",))
        parsed: dict[str, tuple[str, ...]] = {}
        for fname in sorted(ftable):
            try:
                validate_feature_name(fname)
            except NocargoError as err:
                raise p.fail(err.message, ("features", fname)) from None
            parsed[fname] = p.strings(ftable[fname], ("features", fname))
        features = parsed

    patch: dict[str, tuple[DependencySpec, ...]] = {}
    if "patch" in data:
        ptable = p.table(data["patch"], ("patch",))
        for source in sorted(ptable):
            entries = p.table(ptable[source], ("patch", source))
            specs = []
            for name in sorted(entries):
                specs.append(_parse_dep(p, name, entries[name], ("patch", source, name)))
            patch[source] = tuple(specs)

    replace: list[tuple[str, DependencySpec]] = []
    if "replace" in data:
        rtable = p.table(data["replace"], ("replace",))
        for spec in sorted(rtable):
            replace.append((spec, _parse_dep(p, spec.split("@")[0].split(":")[0], rtable[spec],
                                             ("replace", spec), validate_name=False)))

    profiles: dict[str, ProfileSpec] = {}
    if "profile" in data:
        prof = p.table(data["profile"], ("profile",))
        for pname in sorted(prof):
            _validate_profile_name(p, pname)
            profiles[pname] = _parse_profile(p, p.table(prof[pname], ("profile", pname)),
                                             ("profile", pname), pname)

    if "badges" in data:
        badges = p.table(data["badges"], ("badges",))
        for bname, bval in badges.items():
            p.table(bval, ("badges", bname))

    lints = data.get("lints")
    if lints is not None:
        p.table(lints, ("lints",))

    if package is None:
        for section in ("lib", "bin", "example", "test", "bench", "dependencies",
                        "dev-dependencies", "build-dependencies", "features", "target",
                        "badges", "lints"):
            if section in data:
                raise doc.error(
                    f"this virtual manifest specifies a `{section}` section, which is not allowed",
                    (section,),
                )

    return Manifest(
        path=doc.path,
        doc=doc,
        package=package,
        workspace=workspace,
        lib=lib,
        bins=bins,
        examples=examples,
        tests=tests,
        benches=benches,
        dependencies=deps,
        dev_dependencies=dev,
        build_dependencies=build,
        platforms=tuple(platforms),
        features=features,
        patch=patch,
        replace=tuple(replace),
        profiles=profiles,
        cargo_features=tuple(cargo_features),
        uses_project_key=uses_project,
        lints=lints,
        warnings=tuple(p.warnings),
    )


def _edition_hint(package: PackageSpec | None) -> str:
    """The package's own edition when written literally (for the 2024 underscore rules)."""
    if package is not None and isinstance(package.edition, str):
        return package.edition
    return "2015"


def _underscore_table(p: _P, new, old, new_name: str, name_ctx, kind: str, edition: str):
    """cargo's ``deprecated_underscore`` for ``dev_dependencies``/``build_dependencies``."""
    if old is None:
        return new
    old_name = new_name.replace("-", "_")
    where = name_ctx.name if isinstance(name_ctx, PackageSpec) else (name_ctx or "")
    if edition >= "2024":
        raise p.fail(
            f"`{old_name}` is unsupported as of the 2024 edition; instead use `{new_name}`\n"
            f"(in the `{where}` {kind})", (old_name,))
    if new is not None:
        p.warnings.append(
            f"`{old_name}` is redundant with `{new_name}`, preferring `{new_name}` in the "
            f"`{where}` {kind}")
        return new
    p.warnings.append(
        f"`{old_name}` is deprecated in favor of `{new_name}` and will not work in the 2024 "
        f"edition\n(in the `{where}` {kind})")
    return old


def _parse_package(p: _P, t: dict, key: KeyPath) -> PackageSpec:
    p.unused(t, _PACKAGE_KEYS, key)
    if "name" not in t:
        raise p.fail("missing field `package.name`", key)
    name = p.string(t["name"], key + ("name",))
    try:
        validate_package_name(name)
    except NocargoError as err:
        raise p.fail(err.message, key + ("name",)) from None

    def version_reader(value, k):
        text = p.string(value, k, "SemVer version")
        try:
            return Version.parse(text)
        except ParseError as err:
            raise p.fail(err.message, k) from None

    def edition_reader(value, k):
        return p.string(value, k, "a string or workspace")

    def rv_reader(value, k):
        text = p.string(value, k, "a string or workspace")
        try:
            return RustVersion.parse(text)
        except NocargoError as err:
            raise p.fail(err.message, k) from None

    def str_reader(value, k):
        return p.string(value, k, "a string or workspace")

    def list_reader(value, k):
        return p.strings(value, k, "a sequence or workspace")

    def readme_reader(value, k):
        if isinstance(value, (str, bool)):
            return value
        raise p.type_error(value, "a boolean or a string", k)

    def publish_reader(value, k):
        if isinstance(value, bool):
            return value
        if isinstance(value, list):
            return p.strings(value, k)
        raise p.type_error(value, "a boolean or vector of strings", k)

    def build_reader(value, k):
        if isinstance(value, (str, bool)):
            return value
        if isinstance(value, list):
            return p.strings(value, k)
        raise p.type_error(value, "a boolean or a string", k)

    def bool_reader(value, k):
        return p.boolean(value, k)

    def plain_str(value, k):
        return p.string(value, k)

    def resolver_reader(value, k):
        text = p.string(value, k)
        if text not in ("1", "2", "3"):
            raise p.fail(
                f"`resolver` setting `{text}` is not valid, valid options are \"1\", \"2\" or \"3\"",
                k)
        return text

    metabuild = t.get("metabuild")
    if metabuild is not None and not isinstance(metabuild, (str, list)):
        raise p.type_error(metabuild, "a string or a sequence", key + ("metabuild",))

    spec = PackageSpec(
        name=name,
        version=p.inheritable(t, "version", key, version_reader, "SemVer version"),
        edition=p.inheritable(t, "edition", key, edition_reader, "a string or workspace"),
        rust_version=p.inheritable(t, "rust-version", key, rv_reader, "a string or workspace"),
        authors=p.inheritable(t, "authors", key, list_reader, "a sequence or workspace"),
        description=p.inheritable(t, "description", key, str_reader, "a string or workspace"),
        documentation=p.inheritable(t, "documentation", key, str_reader, "a string or workspace"),
        homepage=p.inheritable(t, "homepage", key, str_reader, "a string or workspace"),
        repository=p.inheritable(t, "repository", key, str_reader, "a string or workspace"),
        readme=p.inheritable(t, "readme", key, readme_reader, "a boolean or a string"),
        license=p.inheritable(t, "license", key, str_reader, "a string or workspace"),
        license_file=p.inheritable(t, "license-file", key, str_reader, "a string or workspace"),
        keywords=p.inheritable(t, "keywords", key, list_reader, "a sequence or workspace"),
        categories=p.inheritable(t, "categories", key, list_reader, "a sequence or workspace"),
        publish=p.inheritable(t, "publish", key, publish_reader, "a boolean or vector of strings"),
        include=p.inheritable(t, "include", key, list_reader, "a sequence or workspace"),
        exclude=p.inheritable(t, "exclude", key, list_reader, "a sequence or workspace"),
        build=p.opt(t, "build", key, build_reader),
        links=p.opt(t, "links", key, plain_str),
        workspace=p.opt(t, "workspace", key, plain_str),
        default_run=p.opt(t, "default-run", key, plain_str),
        autolib=p.opt(t, "autolib", key, bool_reader),
        autobins=p.opt(t, "autobins", key, bool_reader),
        autoexamples=p.opt(t, "autoexamples", key, bool_reader),
        autotests=p.opt(t, "autotests", key, bool_reader),
        autobenches=p.opt(t, "autobenches", key, bool_reader),
        resolver=p.opt(t, "resolver", key, resolver_reader),
        metadata=t.get("metadata"),
        default_target=p.opt(t, "default-target", key, plain_str),
        forced_target=p.opt(t, "forced-target", key, plain_str),
        metabuild=metabuild,
    )
    if isinstance(spec.edition, str):
        try:
            parse_edition(spec.edition)
        except NocargoError as err:
            raise p.fail(f"failed to parse the `edition` key: {err.message}",
                         key + ("edition",)) from None
    return spec


def _parse_workspace(p: _P, t: dict) -> WorkspaceSpec:
    key = ("workspace",)
    p.unused(t, _WORKSPACE_KEYS, key)
    members = p.opt(t, "members", key, p.strings)
    default_members = p.opt(t, "default-members", key, p.strings)
    exclude = p.opt(t, "exclude", key, p.strings) or ()

    def resolver_reader(value, k):
        text = p.string(value, k)
        if text not in ("1", "2", "3"):
            raise p.fail(
                f"`resolver` setting `{text}` is not valid, valid options are \"1\", \"2\" or \"3\"",
                k)
        return text

    resolver = p.opt(t, "resolver", key, resolver_reader)
    package: dict[str, Any] = {}
    if "package" in t:
        pt = p.table(t["package"], key + ("package",))
        pk = key + ("package",)
        p.unused(pt, _WS_PACKAGE_KEYS, pk)
        for name, value in pt.items():
            k = pk + (name,)
            if name == "version":
                text = p.string(value, k, "SemVer version")
                try:
                    package[name] = Version.parse(text)
                except ParseError as err:
                    raise p.fail(err.message, k) from None
            elif name == "rust-version":
                try:
                    package[name] = RustVersion.parse(p.string(value, k))
                except NocargoError as err:
                    raise p.fail(err.message, k) from None
            elif name in ("authors", "keywords", "categories", "include", "exclude"):
                package[name] = p.strings(value, k)
            elif name == "readme":
                if not isinstance(value, (str, bool)):
                    raise p.type_error(value, "a boolean or a string", k)
                package[name] = value
            elif name == "publish":
                if isinstance(value, bool):
                    package[name] = value
                elif isinstance(value, list):
                    package[name] = p.strings(value, k)
                else:
                    raise p.type_error(value, "a boolean or vector of strings", k)
            elif name == "edition":
                text = p.string(value, k)
                try:
                    parse_edition(text)
                except NocargoError as err:
                    raise p.fail(f"failed to parse the `edition` key: {err.message}", k) from None
                package[name] = text
            elif name == "badges":
                package[name] = p.table(value, k)
            elif name in _WS_PACKAGE_KEYS:
                package[name] = p.string(value, k)
    deps = None
    if "dependencies" in t:
        dt = p.table(t["dependencies"], key + ("dependencies",))
        deps = {}
        for name in sorted(dt):
            spec = _parse_dep(p, name, dt[name], key + ("dependencies", name))
            if spec.inherit:
                raise p.fail(f"`workspace.dependencies.{name}` cannot inherit from the workspace "
                             "(`workspace = true` is only for members)", spec.key)
            if spec.optional:
                raise p.fail(f"{name} is optional, but workspace dependencies cannot be optional",
                             spec.key + ("optional",))
            if spec.public:
                raise p.fail(f"{name} is public, but workspace dependencies cannot be public",
                             spec.key + ("public",))
            deps[name] = spec
    lints = t.get("lints")
    if lints is not None:
        p.table(lints, key + ("lints",))
    return WorkspaceSpec(
        members=members,
        default_members=default_members,
        exclude=tuple(exclude),
        resolver=resolver,
        package=package,
        dependencies=deps,
        metadata=t.get("metadata"),
        lints=lints,
    )


def _parse_dep_table(p: _P, table: Mapping[str, Any], name: str, base: KeyPath):
    if name not in table:
        return None
    t = p.table(table[name], base + (name,))
    out = []
    for dep_name in sorted(t):
        out.append(_parse_dep(p, dep_name, t[dep_name], base + (name, dep_name)))
    return tuple(out)


_DEP_EXPECTED = ('a version string like "0.9.8" or a detailed dependency like '
                 '{ version = "0.9.8" }')


def parse_dependency_value(doc: TomlDocument, name: str, value: Any, key: KeyPath
                           ) -> DependencySpec:
    """One dependency value (``"1.0"`` or a detailed table, plain data) read as a manifest
    entry is; errors are located at ``key`` of ``doc``. Unknown keys are ignored (cargo
    reads ``[patch]`` tables of ``.cargo/config.toml`` this way, without warnings)."""
    return _parse_dep(_P(doc), name, value, key)


def _parse_dep(p: _P, name: str, value: Any, key: KeyPath, *, validate_name: bool = True
               ) -> DependencySpec:
    if validate_name:
        try:
            validate_package_name(name)
        except NocargoError as err:
            raise p.fail(err.message, key) from None
    if isinstance(value, str):
        return DependencySpec(name, key, simple=True, version=value)
    if not isinstance(value, dict):
        raise p.type_error(value, _DEP_EXPECTED, key)
    t = value
    if "workspace" in t:
        ws = t["workspace"]
        if not isinstance(ws, bool):
            raise p.type_error(ws, "a boolean", key + ("workspace",))
        if not ws:
            raise p.fail("`workspace` cannot be false", key + ("workspace",))
        p.unused(t, _INHERITED_DEP_KEYS, key)
        return DependencySpec(
            name, key, inherit=True,
            optional=p.opt(t, "optional", key, p.boolean),
            default_features=p.opt(t, "default-features", key, p.boolean),
            default_features_underscore=p.opt(t, "default_features", key, p.boolean),
            features=p.opt(t, "features", key, p.strings),
            public=p.opt(t, "public", key, p.boolean),
        )
    p.unused(t, _DEP_KEYS, key)

    def artifact_reader(v, k):
        if isinstance(v, str):
            return (v,)
        return p.strings(v, k, "a string or a sequence")

    return DependencySpec(
        name, key,
        version=p.opt(t, "version", key, p.string),
        path=p.opt(t, "path", key, p.string),
        base=p.opt(t, "base", key, p.string),
        git=p.opt(t, "git", key, p.string),
        branch=p.opt(t, "branch", key, p.string),
        tag=p.opt(t, "tag", key, p.string),
        rev=p.opt(t, "rev", key, p.string),
        registry=p.opt(t, "registry", key, p.string),
        registry_index=p.opt(t, "registry-index", key, p.string),
        package=p.opt(t, "package", key, p.string),
        optional=p.opt(t, "optional", key, p.boolean),
        default_features=p.opt(t, "default-features", key, p.boolean),
        default_features_underscore=p.opt(t, "default_features", key, p.boolean),
        features=p.opt(t, "features", key, p.strings),
        public=p.opt(t, "public", key, p.boolean),
        artifact=p.opt(t, "artifact", key, artifact_reader),
        lib=p.opt(t, "lib", key, p.boolean),
        target=p.opt(t, "target", key, p.string),
    )


def _parse_target_list(p: _P, data: Mapping[str, Any], name: str):
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, list):
        raise p.type_error(value, "a sequence", (name,))
    out = []
    for i, item in enumerate(value):
        out.append(_parse_target(p, p.table(item, (name, i)), (name, i)))
    return tuple(out)


def _parse_target(p: _P, t: dict, key: KeyPath) -> TargetSpec:
    p.unused(t, _TARGET_KEYS, key)
    if t.get("plugin") is not None:
        p.boolean(t["plugin"], key + ("plugin",))
    edition = p.opt(t, "edition", key, p.string)
    if edition is not None:
        try:
            parse_edition(edition)
        except NocargoError as err:
            raise p.fail(f"failed to parse the `edition` key: {err.message}",
                         key + ("edition",)) from None
    return TargetSpec(
        key=key,
        name=p.opt(t, "name", key, p.string),
        path=p.opt(t, "path", key, p.string),
        crate_type=p.opt(t, "crate-type", key, p.strings),
        crate_type_underscore=p.opt(t, "crate_type", key, p.strings),
        test=p.opt(t, "test", key, p.boolean),
        doctest=p.opt(t, "doctest", key, p.boolean),
        bench=p.opt(t, "bench", key, p.boolean),
        doc=p.opt(t, "doc", key, p.boolean),
        doc_scrape_examples=p.opt(t, "doc-scrape-examples", key, p.boolean),
        proc_macro=p.opt(t, "proc-macro", key, p.boolean),
        proc_macro_underscore=p.opt(t, "proc_macro", key, p.boolean),
        harness=p.opt(t, "harness", key, p.boolean),
        required_features=p.opt(t, "required-features", key, p.strings),
        edition=edition,
        filename=p.opt(t, "filename", key, p.string),
    )


# --------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------

_RESERVED_PROFILE_NAMES = ("build", "check", "clean", "config", "fetch", "fix", "install",
                           "metadata", "package", "publish", "report", "root", "run", "rust",
                           "rustc", "rustdoc", "target", "tmp", "uninstall")


def _validate_profile_name(p: _P, name: str) -> None:
    """cargo-util-schemas' ``validate_profile_name`` (checked against cargo 1.95)."""
    key = ("profile", name)
    see = "See https://doc.rust-lang.org/cargo/reference/profiles.html for more on configuring profiles."
    for ch in name:
        if not (ch.isalnum() or ch in "-_"):
            raise p.fail(
                f"invalid character `{ch}` in profile name: `{name}`, allowed characters are "
                "letters, numbers, underscore, and hyphen", key)
    lower = name.lower()
    if lower == "debug":
        raise p.fail(f"profile name `{name}` is reserved", key, notes=(
            "To configure the default development profile, use the name `dev` as in [profile.dev]",
            see))
    if lower == "build-override":
        raise p.fail(f"profile name `{name}` is reserved", key, notes=(
            "To configure build dependency settings, use [profile.dev.build-override] and "
            "[profile.release.build-override]", see))
    if lower in _RESERVED_PROFILE_NAMES or lower.startswith("cargo"):
        raise p.fail(f"profile name `{name}` is reserved", key,
                     notes=("Please choose a different name.", see))
    if name == "doc":
        p.warnings.append("profile `doc` is deprecated and has no effect")


def _parse_profile(p: _P, t: dict, key: KeyPath, name: str, *, layer: str | None = None
                   ) -> ProfileSpec:
    p.unused(t, _PROFILE_KEYS, key)

    def opt_level(v, k):
        if isinstance(v, int) and not isinstance(v, bool):
            return v  # range checked when profiles are computed, as in cargo
        if isinstance(v, str):  # cargo's TomlOptLevel: only "s" and "z" as strings
            if v not in ("s", "z"):
                raise p.fail(f"must be `0`, `1`, `2`, `3`, `s` or `z`, but found the string: \"{v}\"", k)
            return v
        raise p.type_error(v, "an optimization level", k)

    def debug(v, k):
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            if v not in (0, 1, 2):
                raise p.fail(f"invalid value: integer `{v}`, expected a boolean, 0, 1, 2, "
                             "\"none\", \"limited\", \"full\", \"line-tables-only\", or "
                             "\"line-directives-only\"", k)
            return v
        if isinstance(v, str):
            if v not in ("none", "limited", "full", "line-tables-only", "line-directives-only"):
                raise p.fail(f"invalid value: string \"{v}\", expected a boolean, 0, 1, 2, "
                             "\"none\", \"limited\", \"full\", \"line-tables-only\", or "
                             "\"line-directives-only\"", k)
            return v
        raise p.type_error(v, "a boolean, 0, 1, 2, \"none\", \"limited\", \"full\", "
                              "\"line-tables-only\", or \"line-directives-only\"", k)

    def strip(v, k):
        if isinstance(v, bool):
            return v
        if isinstance(v, str):
            if v not in ("none", "debuginfo", "symbols"):
                raise p.fail(f"invalid value: string \"{v}\", expected one of `debuginfo`, "
                             "`none`, `symbols`", k)
            return v
        raise p.type_error(v, "a boolean or string", k)

    def lto(v, k):
        if isinstance(v, bool):
            return v
        if isinstance(v, str):
            if v in ("true", "false"):
                raise p.fail(
                    f"`lto` setting of string `\"{v}\"` for `{name}` profile is not a valid "
                    "setting, must be a boolean (`true`/`false`) or a string "
                    "(`\"thin\"`/`\"fat\"`/`\"off\"`) or omitted.", k)
            return v
        raise p.type_error(v, "a boolean or a string", k)

    def panic(v, k):
        s = p.string(v, k)
        if s not in ("unwind", "abort", "immediate-abort"):
            raise p.fail(f"`panic` setting of `{s}` is not a valid setting, must be `unwind`, "
                         "`abort`, or `immediate-abort`.", k)
        return s

    build_override = None
    if "build-override" in t:
        bk = key + ("build-override",)
        bt = p.table(t["build-override"], bk)
        build_override = _parse_profile(p, bt, bk, name, layer="build-override")
    package: list[tuple[str, ProfileSpec]] = []
    if "package" in t:
        pk = key + ("package",)
        pt = p.table(t["package"], pk)
        for spec_text in sorted(pt):
            sk = pk + (spec_text,)
            package.append((spec_text, _parse_profile(p, p.table(pt[spec_text], sk), sk, name,
                                                      layer="package")))
    if layer is not None:
        if "package" in t:
            raise p.fail("package-specific profiles cannot be nested", key + ("package",))
        if "build-override" in t:
            raise p.fail("build-override profiles cannot be nested", key + ("build-override",))
        for forbidden in ("panic", "lto", "rpath"):
            if forbidden in t:
                raise p.fail(f"`{forbidden}` may not be specified in a `{layer}` profile",
                             key + (forbidden,))
    inherits = p.opt(t, "inherits", key, p.string)
    if inherits == "debug":
        raise p.fail(f"profile.{name}.inherits=\"debug\" should be profile.{name}.inherits=\"dev\"",
                     key + ("inherits",))
    if "dir-name" in t:
        raise p.fail(f"dir-name=\"{t['dir-name']}\" in profile `{name}` is not currently allowed, "
                     "directory names are tied to the profile name for custom profiles",
                     key + ("dir-name",))
    codegen_units = p.opt(t, "codegen-units", key, p.integer)
    if codegen_units is not None and codegen_units < 0:
        raise p.fail(f"invalid value: integer `{codegen_units}`, expected u32", key + ("codegen-units",))
    for unstable, feature in (("codegen-backend", "codegen-backend"), ("rustflags", "profile-rustflags"),
                              ("trim-paths", "trim-paths")):
        if unstable in t:
            raise p.fail(f"feature `{feature}` is required", key + (unstable,),
                         notes=("The package requires the Cargo feature called "
                                f"`{feature}`, but that feature is not stabilized in this "
                                "version of Cargo.",))
    return ProfileSpec(
        opt_level=p.opt(t, "opt-level", key, opt_level),
        debug=p.opt(t, "debug", key, debug),
        split_debuginfo=p.opt(t, "split-debuginfo", key, p.string),
        strip=p.opt(t, "strip", key, strip),
        debug_assertions=p.opt(t, "debug-assertions", key, p.boolean),
        overflow_checks=p.opt(t, "overflow-checks", key, p.boolean),
        lto=p.opt(t, "lto", key, lto),
        panic=p.opt(t, "panic", key, panic),
        incremental=p.opt(t, "incremental", key, p.boolean),
        codegen_units=codegen_units,
        rpath=p.opt(t, "rpath", key, p.boolean),
        inherits=inherits,
        trim_paths=t.get("trim-paths"),
        build_override=build_override,
        package=tuple(package),
        raw=t,
    )


def check_requirement(doc: TomlDocument, text: str, dep_name: str, key: KeyPath) -> VersionReq:
    """Parse a dependency's ``version``; errors name the dependency and point at the key."""
    try:
        return VersionReq.parse(text)
    except ParseError as err:
        raise doc.error(
            f"failed to parse the version requirement `{text}` for dependency `{dep_name}`: "
            f"{err.message}", key) from None
