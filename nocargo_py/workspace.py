"""Workspaces: root discovery, members, inheritance, and :class:`~nocargo_py.package.Package` s.

:func:`load_workspace` does what cargo's ``Workspace::new`` does:

1. find the current manifest (``--manifest-path`` or the nearest ``Cargo.toml`` at or above
   the working directory);
2. find the workspace root: the manifest itself if it has ``[workspace]`` (and does not
   exclude itself), the target of ``package.workspace``, or the nearest ancestor manifest
   with ``[workspace]`` whose ``exclude`` does not cover the current manifest;
3. find members: every ``members`` glob (expanded like the ``glob`` crate; non-directories
   dropped, a pattern matching nothing is kept literally), then the root manifest; each
   member's path dependencies that live under the root (or that agree on the same root)
   become members too, recursively, unless excluded — in that order, which is the order
   of ``workspace_members`` in ``cargo metadata``;
4. ``default-members`` (only when the current manifest is the root), else the root package,
   else (virtual root) all members;
5. validate: unique names, a single root, every member agrees on the root, the current
   package is a member.

Each package is built from its manifest with ``[workspace.package]`` /
``[workspace.dependencies]`` inheritance (cargo's merge rules: member ``features``
appended, ``default-features`` by edition, workspace ``path`` relative to the workspace
root), its targets (:mod:`nocargo_py.targets`) and its :class:`~nocargo_py.summary.Summary`.

:func:`load_standalone_package` loads one package outside any workspace walk (registry
crates from a ``.crate``, git checkouts, path packages): no members, no discovery beyond
what inheritance needs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from .errors import Location, NocargoError, ParseError
from .globs import GlobPatternError, glob
from .manifest import (
    INHERIT,
    DependencySpec,
    Manifest,
    WorkspaceSpec,
    edition_default_resolver,
    parse_dependency_value,
    parse_edition,
    parse_manifest,
    parse_manifest_bytes,
    validate_package_name,
)
from .package import Package, PackageMetadata, Workspace
from .package_files import DiskFiles, PackageFiles
from .semver_req import VersionReq
from .source import CRATES_IO_INDEX, GitReference, SourceId, intern_package_id
from .summary import Dependency, DepKind, Summary, build_feature_map
from .targets import manifest_targets, normalize_path

__all__ = [
    "WorkspaceLoader",
    "find_manifest",
    "load_standalone_package",
    "load_workspace",
    "relative_path",
]

RegistryLookup = Callable[[str], "str | None"]


# --------------------------------------------------------------------------------------
# small path helpers
# --------------------------------------------------------------------------------------


def _starts_with(path: Path, prefix: Path) -> bool:
    """Component-wise prefix test (Rust's ``Path::starts_with``).

    ``Path`` objects print in collapsed form (no ``.`` components, no doubled or trailing
    slashes), so a string prefix test on component boundaries is the same test.
    """
    a, b = str(path), str(prefix)
    if b == "/":
        return a.startswith("/")
    return a == b or a.startswith(b + "/")


def relative_path(path: Path, base: Path) -> str:
    """``pathdiff::diff_paths`` for two absolute, normalized paths (``""`` when equal)."""
    pp, bp = PurePosixPath(path).parts, PurePosixPath(base).parts
    i = 0
    while i < min(len(pp), len(bp)) and pp[i] == bp[i]:
        i += 1
    parts = [".."] * (len(bp) - i) + list(pp[i:])
    return "/".join(parts)


def _resolve_relative_path(ws_root: Path, package_root: Path, rel: str) -> str:
    """cargo's ``resolve_relative_path``: ``rel`` (relative to the workspace root) re-expressed
    relative to the package root."""
    joined = normalize_path(ws_root / rel)
    return relative_path(joined, package_root)


def find_manifest(cwd: Path) -> Path:
    """The nearest ``Cargo.toml`` at or above ``cwd`` (cargo's ``find_root_manifest_for_wd``)."""
    cwd = Path(os.path.abspath(cwd))
    for directory in [cwd, *cwd.parents]:
        candidate = directory / "Cargo.toml"
        if candidate.exists():
            return candidate
    raise NocargoError(f"could not find `Cargo.toml` in `{cwd}` or any parent directory")


def _cargo_home() -> Path:
    home = os.environ.get("CARGO_HOME")
    if home:
        return Path(os.path.abspath(home))
    return Path.home() / ".cargo"


def default_registry_lookup(start: Path) -> RegistryLookup:
    """Find ``[registries.<name>] index`` as cargo does (``CARGO_REGISTRIES_<NAME>_INDEX``,
    then the ``.cargo/config.toml`` files seen from ``start``, then ``$CARGO_HOME``), through
    :mod:`nocargo_py.config`; the configuration is read on the first lookup only."""
    loaded: list = []

    def lookup(name: str) -> str | None:
        if not loaded:
            from .config import load_config

            loaded.append(load_config(start))
        return loaded[0].registry_index(name)

    return lookup


def _note(err: NocargoError, note: str) -> NocargoError:
    """The same error with one more context line (cargo's ``.context(...)``)."""
    if isinstance(err, ParseError):
        new: NocargoError = ParseError(err.message, source=err.source, span=err.span,
                                       what=err.what, location=err.location,
                                       notes=err.notes + (note,))
    else:
        new = NocargoError(err.message, location=err.location, notes=err.notes + (note,))
    new.__cause__ = err
    return new


# --------------------------------------------------------------------------------------
# workspace root configuration
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RootConfig:
    """``[workspace]`` of a root manifest (cargo's ``WorkspaceRootConfig``)."""

    root_dir: Path
    spec: WorkspaceSpec

    def is_excluded(self, manifest_path: Path) -> bool:
        excluded = any(_starts_with(manifest_path, self.root_dir / ex) for ex in self.spec.exclude)
        explicit_member = self.spec.members is not None and any(
            _starts_with(manifest_path, self.root_dir / m) for m in self.spec.members)
        return excluded and not explicit_member

    def members_paths(self, globs: Sequence[str]) -> list[Path]:
        out: list[Path] = []
        for pattern in globs:
            joined = self.root_dir / pattern
            expanded = _expand_glob(str(joined))
            if not expanded:
                out.append(joined)
            else:
                out.extend(p for p in expanded if p.is_dir())
        return out


def _expand_glob(pattern: str) -> list[Path]:
    """cargo's ``expand_member_path``: the ``glob`` crate's matches, in its order."""
    try:
        return [Path(p) for p in glob(pattern)]
    except GlobPatternError as err:
        raise NocargoError(f"could not parse pattern `{pattern}`: {err}") from None


# --------------------------------------------------------------------------------------
# inheritance
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inheritable:
    """What members may inherit: ``[workspace.package]`` and ``[workspace.dependencies]``."""

    ws_root: Path
    manifest: Manifest

    @property
    def spec(self) -> WorkspaceSpec:
        assert self.manifest.workspace is not None
        return self.manifest.workspace

    def field(self, key: str) -> Any:
        value = self.spec.package.get(key)
        if value is None:
            raise NocargoError(f"`workspace.package.{key}` was not defined",
                               location=self.manifest.doc.location(("workspace",)))
        return value

    def readme(self, package_root: Path) -> str:
        value = _normalize_readme(DiskFiles(self.ws_root), self.spec.package.get("readme"))
        if value is None:
            raise NocargoError("`workspace.package.readme` was not defined",
                               location=self.manifest.doc.location(("workspace",)))
        return _resolve_relative_path(self.ws_root, package_root, value)

    def license_file(self, package_root: Path) -> str:
        return _resolve_relative_path(self.ws_root, package_root, self.field("license-file"))

    def dependency(self, name: str, package_root: Path) -> DependencySpec:
        deps = self.spec.dependencies
        if deps is None:
            raise NocargoError("`workspace.dependencies` was not defined",
                               location=self.manifest.doc.location(("workspace",)))
        dep = deps.get(name)
        if dep is None:
            raise NocargoError(f"`dependency.{name}` was not found in `workspace.dependencies`",
                               location=self.manifest.doc.location(("workspace", "dependencies")))
        if dep.path is not None and dep.base is None:
            from dataclasses import replace

            dep = replace(dep, path=_resolve_relative_path(self.ws_root, package_root, dep.path))
        return dep


_README_DEFAULTS = ("README.md", "README.txt", "README")


def _normalize_readme(files: PackageFiles, readme: Any) -> str | None:
    if readme is None:
        for name in _README_DEFAULTS:
            if files.is_file(name):
                return name
        return None
    if readme is False:
        return None
    if readme is True:
        return "README.md"
    return readme


# --------------------------------------------------------------------------------------
# the loader
# --------------------------------------------------------------------------------------


class WorkspaceLoader:
    """Parses manifests and builds packages once per path (cargo's ``Packages`` cache).

    ``registry_lookup`` maps an alternative registry name to its index URL (defaults to
    the environment and ``.cargo/config.toml`` files, see :func:`default_registry_lookup`).
    ``strict=False`` tolerates what only cargo's build commands reject (see
    :func:`nocargo_py.targets.manifest_targets`); ``cargo metadata`` is that lenient.
    """

    def __init__(self, shell=None, registry_lookup: RegistryLookup | None = None,
                 cwd: Path | None = None, strict: bool = True, config: Any = None) -> None:
        self.shell = shell
        self.strict = strict
        self.cwd = Path(os.path.abspath(cwd or os.getcwd()))
        self.registry_lookup = registry_lookup or default_registry_lookup(self.cwd)
        self._config = config
        self._manifests: dict[Path, Manifest] = {}
        self._packages: dict[tuple[Path, SourceId], Package] = {}
        self._warned: set[Path] = set()
        self.manifest_warnings: list[tuple[Path, str]] = []
        self.in_workspace = False

    def config(self) -> Any:
        """The :class:`~nocargo_py.config.CargoConfig` seen from ``cwd`` (read once)."""
        if self._config is None:
            from .config import load_config

            self._config = load_config(self.cwd)
        return self._config

    # -- manifests ----------------------------------------------------------------------
    def manifest(self, path: Path, data: bytes | None = None) -> Manifest:
        """The manifest at ``path`` (read once; from ``data`` instead of the file if given)."""
        path = normalize_path(path)
        m = self._manifests.get(path)
        if m is None:
            m = parse_manifest(path) if data is None else parse_manifest_bytes(data, path)
            self._manifests[path] = m
        return m

    def warn(self, path: Path, messages: Sequence[str]) -> None:
        """Record manifest warnings (cargo prints them from build commands, not `metadata`)."""
        for message in messages:
            self.manifest_warnings.append((path, message))

    def emit_warnings(self, shell) -> None:
        """Print the recorded manifest warnings as cargo's ``Workspace::emit_warnings`` does
        (prefixed with the manifest path inside a workspace)."""
        for path, message in self.manifest_warnings:
            shell.warn(f"{path}: {message}" if self.in_workspace else message)

    def say(self, message: str) -> None:
        """A warning cargo prints while loading the workspace (all commands)."""
        if self.shell is not None:
            self.shell.warn(message)

    # -- root discovery -------------------------------------------------------------------
    def _ws_root_of(self, manifest: Manifest, self_path: Path, look_from: Path) -> Path | None:
        """cargo's ``WorkspaceConfig::get_ws_root``."""
        if manifest.workspace is not None:
            cfg = _RootConfig(self_path.parent, manifest.workspace)
            return None if cfg.is_excluded(look_from) else self_path
        if manifest.package is not None and manifest.package.workspace is not None:
            return normalize_path(self_path.parent / manifest.package.workspace / "Cargo.toml")
        return None

    def find_root(self, manifest_path: Path) -> Path | None:
        """The workspace root manifest for ``manifest_path`` (``None``: not in a workspace)."""
        manifest_path = normalize_path(manifest_path)
        current = self.manifest(manifest_path)
        root = self._ws_root_of(current, manifest_path, manifest_path)
        if root is not None:
            return root
        home = _cargo_home()
        last: Path | None = None
        for directory in manifest_path.parents[1:]:
            if last is not None and last == home:
                break
            last = directory
            if directory.parts[-2:] == ("target", "package"):
                break
            candidate = directory / "Cargo.toml"
            if not candidate.exists():
                continue
            root = self._ws_root_of(self.manifest(candidate), candidate, manifest_path)
            if root is not None:
                return root
        return None

    def _root_config(self, root_manifest: Path) -> _RootConfig:
        m = self.manifest(root_manifest)
        if m.workspace is None:
            raise NocargoError(
                f"root of a workspace inferred but wasn't a root: {root_manifest}")
        return _RootConfig(root_manifest.parent, m.workspace)

    def _inheritable(self, manifest_path: Path, manifest: Manifest) -> _Inheritable:
        """cargo's ``load_inheritable_fields``."""
        if manifest.workspace is not None:
            return _Inheritable(manifest_path.parent, manifest)
        pointer = manifest.package.workspace if manifest.package else None
        if pointer is not None:
            root_path = normalize_path(manifest_path.parent / pointer / "Cargo.toml")
        else:
            root_path = None
            for directory in manifest_path.parents[1:]:
                candidate = directory / "Cargo.toml"
                if candidate.exists():
                    root_path = self._ws_root_of(self.manifest(candidate), candidate, manifest_path)
                    if root_path is not None:
                        break
            if root_path is None:
                raise NocargoError("failed to find a workspace root")
        root_manifest = self.manifest(root_path)
        if root_manifest.workspace is None:
            raise NocargoError(f"root of a workspace inferred but wasn't a root: {root_path}")
        return _Inheritable(root_path.parent, root_manifest)

    # -- packages -------------------------------------------------------------------------
    def package(self, manifest_path: Path, source: SourceId | None = None, *,
                files: PackageFiles | None = None,
                manifest_data: bytes | None = None) -> Package | None:
        """The package at ``manifest_path`` (``None`` for a virtual manifest); ``files``
        answers what is asked of the package's files (default: its directory on disk),
        ``manifest_data`` is the manifest's contents (default: read from the file)."""
        manifest_path = normalize_path(manifest_path)
        source = source or SourceId.for_path(manifest_path.parent)
        key = (manifest_path, source)
        if key in self._packages:
            return self._packages[key]
        manifest = self.manifest(manifest_path, manifest_data)
        if manifest.package is None:
            return None
        builder = _PackageBuilder(self, manifest, source, files)
        pkg = builder.build()
        self._packages[key] = pkg
        if manifest_path not in self._warned:
            self._warned.add(manifest_path)
            self.warn(manifest_path, list(manifest.warnings) + builder.warnings)
        return pkg


class _PackageBuilder:
    """Turns one manifest into a :class:`Package` (cargo's ``normalize_toml`` +
    ``to_real_manifest``)."""

    def __init__(self, loader: WorkspaceLoader, manifest: Manifest, source: SourceId,
                 files: PackageFiles | None = None) -> None:
        self.loader = loader
        self.files = files if files is not None else DiskFiles(manifest.root)
        self.m = manifest
        self.doc = manifest.doc
        self.source = source
        self.root = manifest.root
        self.warnings: list[str] = []
        self._inherit: _Inheritable | None = None

    def inherit(self) -> _Inheritable:
        if self._inherit is None:
            self._inherit = self.loader._inheritable(self.m.path, self.m)
        return self._inherit

    def field(self, value: Any, key: str, getter: Callable[[], Any]) -> Any:
        if value is not INHERIT:
            return value
        try:
            return getter()
        except NocargoError as err:
            raise NocargoError(
                f"error inheriting `{key}` from workspace root manifest's "
                f"`workspace.package.{key}`: {err.message}",
                location=self.doc.location(("package", key)), notes=err.notes) from None

    def ws_field(self, spec_value: Any, key: str) -> Any:
        return self.field(spec_value, key, lambda: self.inherit().field(key))

    # -- the package --------------------------------------------------------------------
    def build(self) -> Package:
        pkg = self.m.package
        assert pkg is not None
        m = self.m
        if m.cargo_features:
            raise self.doc.error(
                f"the cargo feature `{m.cargo_features[0]}` requires a nightly version of Cargo, "
                "but this is the `stable` channel", ("cargo-features",))

        edition = self.ws_field(pkg.edition, "edition")
        rust_version = self.ws_field(pkg.rust_version, "rust-version")
        version = self.ws_field(pkg.version, "version")
        if edition is not None:
            try:
                parse_edition(edition)
            except NocargoError as err:
                raise self.doc.error(f"failed to parse the `edition` key: {err.message}",
                                     ("package", "edition")) from None
            first = {"2018": (1, 31, 0), "2021": (1, 56, 0), "2024": (1, 85, 0)}.get(edition)
            if first is not None and rust_version is not None:
                rv = rust_version.as_tuple()
                if not (rv[0] == first[0] and rv >= first):
                    raise self.doc.error(
                        f"rust-version {rust_version} is incompatible with the version "
                        f"({first[0]}.{first[1]}.{first[2]}) required by the specified edition "
                        f"({edition})", ("package", "rust-version"))
        else:
            edition = "2015"
            if rust_version is None:
                self.warnings.append(
                    "no edition set: defaulting to the 2015 edition while the latest is 2024")
        if m.uses_project_key:
            if edition >= "2024":
                raise self.doc.error(
                    "`[project]` is not supported as of the 2024 Edition, please use `[package]`",
                    ("project",))
            self.warnings.append("`[project]` is deprecated in favor of `[package]`")

        self.check_lints()
        authors = self.ws_field(pkg.authors, "authors")
        description = self.ws_field(pkg.description, "description")
        documentation = self.ws_field(pkg.documentation, "documentation")
        homepage = self.ws_field(pkg.homepage, "homepage")
        repository = self.ws_field(pkg.repository, "repository")
        license_ = self.ws_field(pkg.license, "license")
        license_file = self.field(pkg.license_file, "license-file",
                                  lambda: self.inherit().license_file(self.root))
        keywords = self.ws_field(pkg.keywords, "keywords")
        categories = self.ws_field(pkg.categories, "categories")
        include = self.ws_field(pkg.include, "include")
        exclude = self.ws_field(pkg.exclude, "exclude")
        publish_raw = self.ws_field(pkg.publish, "publish")
        readme_raw = self.field(pkg.readme, "readme", lambda: self.inherit().readme(self.root))
        readme = _normalize_readme(self.files, readme_raw)

        if publish_raw is None:
            publish = () if version is None else None
        elif publish_raw is True:
            publish = None
        elif publish_raw is False:
            publish = ()
        else:
            publish = tuple(publish_raw)
        if version is None and publish != ():
            raise self.doc.error("`package.publish` requires `package.version` be specified",
                                 ("package", "publish"))

        resolver = pkg.resolver
        if resolver is not None and m.workspace is not None and m.workspace.resolver is not None:
            raise self.doc.error(
                "cannot specify `resolver` field in both `[workspace]` and `[package]`",
                ("package", "resolver"))
        if resolver is None and m.workspace is not None:
            resolver = m.workspace.resolver

        targets = manifest_targets(m, pkg, package_name=pkg.name, edition=edition,
                                   warnings=self.warnings, strict=self.loader.strict,
                                   files=self.files)
        if pkg.links is not None and not any(t.name.startswith("build-script-") and
                                             t.kind.value == "custom-build" for t in targets):
            raise self.doc.error(f"package specifies that it links to `{pkg.links}` but does "
                                 "not have a custom build script", ("package", "links"))

        self.check_platforms()
        deps = self.dependencies(edition)
        seen_sources: dict[str, SourceId] = {}
        for dep in deps:
            prev = seen_sources.setdefault(dep.name_in_toml, dep.source)
            if prev != dep.source:
                raise self.doc.error(
                    f"Dependency '{dep.name_in_toml}' has different source paths depending on "
                    "the build target. Each dependency must have a single canonical source path "
                    "irrespective of build target.", ("target",))

        version_text = str(version) if version is not None else "0.0.0"
        package_id = intern_package_id(pkg.name, version_text, self.source)
        declared = dict(m.features or {})
        try:
            feature_map = build_feature_map(declared, deps, validate=True)
        except NocargoError as err:
            feature = _feature_in_message(err.message, declared)
            key = ("features", feature) if feature else ("features",)
            if not declared:
                key = ("dependencies",)
            raise NocargoError(err.message, location=self.doc.location(key),
                               notes=err.notes) from None
        if "default-features" in feature_map:
            self.warnings.append("`[features]` defines a feature named `default-features`\n"
                                 "note: only a feature named `default` will be enabled by default")
        summary = Summary(
            package_id=package_id,
            dependencies=tuple(deps),
            features=feature_map,
            declared_features={k: tuple(v) for k, v in declared.items()},
            links=pkg.links,
            rust_version=str(rust_version) if rust_version is not None else None,
        )

        if pkg.default_run is not None:
            bins = [t.name for t in targets if t.kind.value == "bin"]
            if pkg.default_run not in bins:
                raise self.doc.error(f"default-run target `{pkg.default_run}` not found",
                                     ("package", "default-run"))
        if license_ is not None and license_file is not None:
            self.warnings.append("only one of `license` or `license-file` is necessary")

        metadata = PackageMetadata(
            authors=tuple(authors or ()),
            description=description,
            documentation=documentation,
            homepage=homepage,
            repository=repository,
            readme=readme,
            license=license_,
            license_file=license_file,
            keywords=tuple(keywords or ()),
            categories=tuple(categories or ()),
            publish=publish,
            default_run=pkg.default_run,
            metadata=pkg.metadata,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
        )
        return Package(
            summary=summary,
            manifest_path=m.path,
            edition=edition,
            targets=targets,
            metadata=metadata,
            rust_version=str(rust_version) if rust_version is not None else None,
            links=pkg.links,
            resolver=resolver,
            autolib=pkg.autolib is not False,
            raw_manifest=m.doc.data,
        )

    def check_lints(self) -> None:
        """``[lints] workspace = true`` (cargo's ``lints_inherit_with``)."""
        lints = self.m.lints
        if not isinstance(lints, dict) or "workspace" not in lints:
            return
        if not isinstance(lints["workspace"], bool):
            raise self.doc.error(f"invalid type: {type(lints['workspace']).__name__}, expected a "
                                 "boolean", ("lints", "workspace"))
        if not lints["workspace"]:
            return
        if len(lints) > 1:
            raise self.doc.error(
                "cannot override `workspace.lints` in `lints`, either remove the overrides or "
                "`lints.workspace = true` and manually specify the lints", ("lints",))
        try:
            ws_lints = self.inherit().spec.lints
            if ws_lints is None:
                raise NocargoError("`workspace.lints` was not defined")
        except NocargoError as err:
            raise self.doc.error(
                "error inheriting `lints` from workspace root manifest's `workspace.lints`: "
                f"{err.message}", ("lints", "workspace")) from None

    # -- dependencies -----------------------------------------------------------------
    def check_platforms(self) -> None:
        """Every ``[target.KEY]`` must parse as a target name or ``cfg(...)`` (cargo warns
        about ``cfg(test)``-like keys)."""
        from .cfg import Platform

        for plat in self.m.platforms:
            try:
                platform = Platform.parse(plat.key)
            except NocargoError as err:
                raise err.with_location(self.doc.location(("target", plat.key))) from None
            self.warnings.extend(platform.warnings())
            self.warnings.extend(platform.keyword_warnings())

    def dependencies(self, edition: str) -> list[Dependency]:
        out: list[Dependency] = []
        kinds = {"normal": DepKind.NORMAL, "dev": DepKind.DEV, "build": DepKind.BUILD}
        for kind, platform, spec in self.m.all_dependency_specs():
            spec = self.inherit_dependency(spec, edition)
            out.append(self.to_dependency(spec, kinds[kind], platform, edition))
        return out

    def inherit_dependency(self, spec: DependencySpec, edition: str) -> DependencySpec:
        """cargo's ``inner_dependency_inherit_with``."""
        if not spec.inherit:
            return spec
        name = spec.name_in_toml
        try:
            ws_dep = self.inherit().dependency(name, self.root)
        except NocargoError as err:
            raise NocargoError(
                f"error inheriting `{name}` from workspace root manifest's "
                f"`workspace.dependencies.{name}`: {err.message}",
                location=self.doc.location(spec.key), notes=err.notes) from None
        from dataclasses import replace

        merged = replace(ws_dep, name_in_toml=name, key=spec.key, simple=False, inherit=False)
        member_df = spec.effective_default_features
        ws_df = ws_dep.effective_default_features
        if member_df is True and ws_df is False:
            merged = replace(merged, default_features=True, default_features_underscore=None)
        elif member_df is False and ws_df is not False:
            what = "true" if ws_df else "not specified"
            if edition >= "2024":
                raise self.doc.error(
                    "error inheriting `{0}` from workspace root manifest's "
                    "`workspace.dependencies.{0}`: `default-features = false` cannot override "
                    "workspace's `default-features`".format(name), spec.key + ("default-features",))
            self.warnings.append(
                f"`default-features` is ignored for {name}, since `default-features` was {what} "
                f"for `workspace.dependencies.{name}`, this could become a hard error in the future")
        features = None
        if ws_dep.features is not None or spec.features is not None:
            features = tuple(ws_dep.features or ()) + tuple(spec.features or ())
        return replace(merged, features=features, optional=spec.optional, public=spec.public)

    def to_dependency(self, spec: DependencySpec, kind: DepKind, platform: str | None,
                      edition: str) -> Dependency:
        """cargo's ``detailed_dep_to_dependency`` (plus the checks of ``normalize_dependencies``)."""
        name = spec.name_in_toml
        key = spec.key
        err = lambda msg, k=key: self.doc.error(msg, k)  # noqa: E731
        if spec.default_features_underscore is not None:
            if edition >= "2024":
                raise err("`default_features` is unsupported as of the 2024 edition; instead use "
                          f"`default-features`\n(in the `{name}` dependency)",
                          key + ("default_features",))
            if spec.default_features is not None:
                self.warnings.append("`default_features` is redundant with `default-features`, "
                                     f"preferring `default-features` in the `{name}` dependency")
            else:
                self.warnings.append("`default_features` is deprecated in favor of "
                                     "`default-features` and will not work in the 2024 edition\n"
                                     f"(in the `{name}` dependency)")
        public = spec.public
        if public is not None:
            if kind is DepKind.NORMAL:
                self.warnings.append(f"ignoring `public` on dependency {name}, pass "
                                     "`-Zpublic-dependency` to enable support for it")
            else:
                table = "dev-dependencies" if kind is DepKind.DEV else "build-dependencies"
                self.warnings.append("'public' specifier can only be used on regular "
                                     f"dependencies, not {table}")
            public = None
        if spec.base is not None:
            raise err("feature `path-bases` is required", key + ("base",))
        if spec.version is None and spec.path is None and spec.git is None:
            raise err(f"dependency ({name}) specified without providing a local path, Git "
                      "repository, version, or workspace dependency to use")
        if spec.version is not None and "+" in spec.version:
            self.warnings.append(
                f"version requirement `{spec.version}` for dependency `{name}` includes semver "
                "metadata which will be ignored, removing the metadata is recommended to avoid "
                "confusion")
        if spec.git is None:
            for k in ("branch", "tag", "rev"):
                if getattr(spec, k) is not None:
                    raise err(f"key `{k}` is ignored for dependency ({name}).", key + (k,))
        for i, feature in enumerate(spec.features or ()):
            if "/" in feature:
                raise err(f"feature `{feature}` in dependency `{name}` is not allowed to contain "
                          "slashes", key + ("features", i))
            if feature.startswith("dep:"):
                raise err(f"feature `{feature}` in dependency `{name}` is not allowed to use "
                          "explicit `dep:` syntax", key + ("features", i))
        source, registry = self.dependency_source(spec)
        pkg_name = spec.package if spec.package is not None else name
        if spec.package is not None:
            try:
                validate_package_name(pkg_name)
            except NocargoError as e:
                raise err(e.message, key + ("package",)) from None
        if spec.version is not None:
            try:
                req = str(VersionReq.parse(spec.version))
            except ParseError as e:
                k = key if spec.simple else key + ("version",)
                raise self.doc.error(
                    f"failed to parse the version requirement `{spec.version}` for dependency "
                    f"`{pkg_name}`: {e.message}", k) from None
        else:
            req = "*"
        if spec.artifact is not None:
            raise err(f"`artifact = …` requires `-Z bindeps` ({name})", key + ("artifact",))
        for present, what in ((spec.lib is not None, "lib"), (spec.target is not None, "target")):
            if present:
                raise err(f"'{what}' specifier cannot be used without an 'artifact = …' value "
                          f"({name})", key + (what,))
        default_features = spec.effective_default_features
        return Dependency(
            name=pkg_name,
            req=req,
            source=source,
            kind=kind,
            rename=name if spec.package is not None else None,
            target=platform,
            optional=bool(spec.optional),
            default_features=True if default_features is None else default_features,
            features=tuple(spec.features or ()),
            registry=registry,
            path=source.url if source.is_path() and spec.path is not None else None,
            public=public,
            any_version=spec.version is None,
        )

    def dependency_source(self, spec: DependencySpec) -> tuple[SourceId, str | None]:
        """cargo's ``to_dependency_source_id``; also the ``registry`` URL metadata prints."""
        name = spec.name_in_toml
        key = spec.key
        git, path, registry, index = spec.git, spec.path, spec.registry, spec.registry_index
        if git is not None and (registry is not None or index is not None):
            raise self.doc.error(f"dependency ({name}) specification is ambiguous. Only one of "
                                 "`git` or `registry` is allowed.", key)
        if registry is not None and index is not None:
            raise self.doc.error(f"dependency ({name}) specification is ambiguous. Only one of "
                                 "`registry` or `registry-index` is allowed.", key)
        if git is not None and path is not None:
            raise self.doc.error(f"dependency ({name}) specification is ambiguous. Only one of "
                                 "`git` or `path` is allowed.", key)
        reg_url = None
        if registry is not None:
            reg_url = self.registry_url(registry, key + ("registry",))
        elif index is not None:
            reg_url = _check_url(self, index, key + ("registry-index",))
        if git is not None:
            refs = [(k, getattr(spec, k)) for k in ("branch", "tag", "rev")
                    if getattr(spec, k) is not None]
            if len(refs) > 1:
                raise self.doc.error(f"dependency ({name}) specification is ambiguous. Only one "
                                     "of `branch`, `tag` or `rev` is allowed.", key)
            reference = GitReference(*refs[0]) if refs else GitReference.default()
            url = _check_url(self, git, key + ("git",))
            if "#" in url:
                url, _, fragment = url.partition("#")
                self.warnings.append(
                    f"URL fragment `#{fragment}` in git URL is ignored for dependency ({name}). "
                    "If you were trying to specify a specific git revision, use "
                    f"`rev = \"{fragment}\"` in the dependency declaration.")
            return SourceId.for_git(url, reference), None
        if path is not None:
            if self.source.is_path():
                return SourceId.for_path(normalize_path(self.root / path)), reg_url
            return self.source, reg_url
        if reg_url is not None:
            return SourceId.for_registry(reg_url), reg_url
        return SourceId.crates_io(), None

    def registry_url(self, registry: str, key) -> str:
        if registry == "crates-io":
            return CRATES_IO_INDEX
        url = self.loader.registry_lookup(registry)
        if url is None:
            raise self.doc.error(
                f"registry index was not found in any configuration: `{registry}`", key)
        return url


def _check_url(builder: _PackageBuilder, text: str, key) -> str:
    """Validate a URL as the ``url`` crate would for git/registry locations (lower-cases
    scheme and host)."""
    parts = urlsplit(text)
    scheme = parts.scheme
    if scheme.startswith("sparse+"):
        scheme_ok = True
    else:
        scheme_ok = bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme or ""))
    if not scheme_ok or not parts.scheme:
        raise builder.doc.error(f"invalid url `{text}`: relative URL without a base", key)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo}@{host.lower()}"
    else:
        netloc = netloc.lower()
    rebuilt = f"{parts.scheme.lower()}://{netloc}{parts.path}" if parts.netloc or "//" in text else text
    if parts.query:
        rebuilt += f"?{parts.query}"
    if parts.fragment:
        rebuilt += f"#{parts.fragment}"
    return rebuilt


def _feature_in_message(message: str, declared: Mapping[str, Any]) -> str | None:
    m = re.match(r"feature (?:named )?`([^`]*)`", message)
    if m and m.group(1) in declared:
        return m.group(1)
    return None


# --------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------


def load_standalone_package(manifest_path: Path, source: SourceId, shell=None,
                            loader: WorkspaceLoader | None = None,
                            files: PackageFiles | None = None,
                            manifest_data: bytes | None = None) -> Package:
    """Load one package without walking a workspace (registry/git/path packages);
    ``files``, ``manifest_data``: see :meth:`WorkspaceLoader.package`.

    For registry crates the manifest is cargo's normalized one (explicit targets, no
    ``path`` keys, no inheritance); for git and path packages inheritance from an enclosing
    workspace is resolved as cargo does. A virtual manifest is an error.
    """
    loader = loader or WorkspaceLoader(shell)
    manifest_path = normalize_path(Path(os.path.abspath(manifest_path)))
    pkg = loader.package(manifest_path, source, files=files, manifest_data=manifest_data)
    if pkg is None:
        raise NocargoError(
            f"manifest path `{manifest_path}` is a virtual manifest, but this command requires "
            "running against an actual package")
    return pkg


def load_workspace(manifest_path: Path | None, cwd: Path, shell=None, *, strict: bool = True,
                   loader: WorkspaceLoader | None = None) -> Workspace:
    """Load the workspace containing ``manifest_path`` (or the manifest found from ``cwd``).

    ``strict`` (default) fails on every problem cargo's build commands fail on;
    ``strict=False`` is ``cargo metadata``'s leniency (see :class:`WorkspaceLoader`).
    Warnings cargo prints while loading a workspace (virtual-resolver default, settings in
    non-root manifests) go to ``shell``; manifest warnings (unused keys, deprecations,
    2015 inference notes…) are recorded in ``loader.manifest_warnings`` — build commands
    print them with ``loader.emit_warnings(shell)``, ``metadata`` does not (as cargo).
    """
    cwd = Path(os.path.abspath(cwd))
    loader = loader or WorkspaceLoader(shell, cwd=cwd, strict=strict)
    if manifest_path is None:
        current = find_manifest(cwd)
    else:
        current = normalize_path(cwd / manifest_path)
        if not current.exists():
            raise NocargoError(f"manifest path `{manifest_path}` does not exist")
        if current.is_dir():
            hint = (f"help: {current / 'Cargo.toml'} exists",) \
                if (current / "Cargo.toml").is_file() else ()
            raise NocargoError(
                f"manifest path `{manifest_path}` is a directory but expected a file", notes=hint)
        if current.name != "Cargo.toml":
            if current.suffix == ".rs":
                raise NocargoError(f"embedded manifest `{current}` requires `-Zscript`")
            raise NocargoError(
                f"the manifest-path must be a path to a Cargo.toml file: `{current}`")
    return _WorkspaceBuilder(loader, current).build()


class _WorkspaceBuilder:
    def __init__(self, loader: WorkspaceLoader, current: Path) -> None:
        self.loader = loader
        self.current = current
        self.root_manifest: Path | None = None
        self.members: list[Path] = []
        self.default_members: list[Path] = []

    def build(self) -> Workspace:
        loader = self.loader
        current_m = loader.manifest(self.current)
        self.root_manifest = loader.find_root(self.current)
        if self.root_manifest is None:
            self.members = [self.current]
            self.default_members = [self.current]
            if current_m.package is None:
                raise NocargoError("virtual manifests must be configured with [workspace]",
                                   location=current_m.doc.location())
        else:
            loader.in_workspace = True
            self.find_members()
            self.validate()
        root_manifest = self.root_manifest or self.current
        root_m = loader.manifest(root_manifest)
        members = [p for p in (loader.package(m) for m in self.members) if p is not None]
        default_members = [p for p in (loader.package(m) for m in self.default_members)
                           if p is not None]
        packages = list(members)
        seen = {p.manifest_path for p in packages}
        queue = list(members)
        while queue:
            pkg = queue.pop(0)
            for dep in pkg.dependencies:
                if dep.source.is_path() and dep.path is not None:
                    mp = normalize_path(Path(dep.path) / "Cargo.toml")
                    if mp in seen:
                        continue
                    seen.add(mp)
                    try:
                        other = loader.package(mp)
                    except NocargoError as err:
                        if not loader.strict:
                            continue  # `cargo metadata --no-deps` never loads non-members
                        raise _note(err, f"failed to load manifest for dependency `{dep.name}` "
                                         f"of `{pkg.name}`") from None
                    if other is not None:
                        packages.append(other)
                        queue.append(other)
        current_pkg = loader.package(self.current)
        root_pkg = loader.package(root_manifest)
        resolver = self.resolver(root_m, root_pkg)
        patch, replace_ = self.patches(root_m, root_pkg)
        ws_spec = root_m.workspace
        target_dir = os.environ.get("CARGO_TARGET_DIR")
        target_directory = (normalize_path(loader.cwd / target_dir) if target_dir
                            else root_manifest.parent / "target")
        self.warn_non_root_settings(root_manifest, resolver)
        return Workspace(
            root=root_manifest.parent,
            root_manifest=root_manifest,
            members=tuple(members),
            default_members=tuple(default_members),
            packages=tuple(packages),
            resolver=resolver,
            is_virtual=root_m.package is None,
            current=current_pkg,
            root_package=root_pkg,
            profiles=dict(root_m.profiles),
            patch=patch,
            replace=replace_,
            workspace_metadata=ws_spec.metadata if ws_spec else None,
            target_directory=target_directory,
        )

    # -- members ----------------------------------------------------------------------------
    def find_members(self) -> None:
        assert self.root_manifest is not None
        cfg = self.loader._root_config(self.root_manifest)
        members_paths = cfg.members_paths(cfg.spec.members or ())
        default_paths = None
        if self.root_manifest == self.current and cfg.spec.default_members is not None:
            default_paths = cfg.members_paths(cfg.spec.default_members)
        for path in members_paths:
            try:
                self.find_path_deps(path / "Cargo.toml", cfg, False)
            except NocargoError as err:
                raise _note(err, f"failed to load manifest for workspace member `{path}` "
                                 f"referenced by workspace at `{self.root_manifest}`") from None
        self.find_path_deps(self.root_manifest, cfg, False)
        if default_paths is not None:
            for path in default_paths:
                normalized = normalize_path(path)
                manifest_path = normalized / "Cargo.toml"
                if manifest_path not in self.members:
                    if normalized in [normalize_path(p) for p in members_paths] and \
                            cfg.is_excluded(normalized):
                        continue
                    raise NocargoError(
                        f"package `{path}` is listed in default-members but is not a member "
                        f"for workspace at `{self.root_manifest}`.",
                        location=self.loader.manifest(self.root_manifest).doc.location(
                            ("workspace", "default-members")))
                self.default_members.append(manifest_path)
        elif self.loader.manifest(self.current).package is None:
            self.default_members = list(self.members)
        else:
            self.default_members = [self.current]

    def find_path_deps(self, manifest_path: Path, cfg: _RootConfig, is_path_dep: bool) -> None:
        manifest_path = normalize_path(manifest_path)
        if manifest_path in self.members:
            return
        root_dir = self.root_manifest.parent
        if is_path_dep and not _starts_with(manifest_path.parent, root_dir) and \
                self.loader.find_root(manifest_path) != self.root_manifest:
            return
        if cfg.is_excluded(manifest_path):
            return
        self.members.append(manifest_path)
        pkg = self.loader.package(manifest_path)
        if pkg is None:
            return
        for dep in pkg.dependencies:
            if dep.source.is_path() and dep.path is not None:
                try:
                    self.find_path_deps(Path(dep.path) / "Cargo.toml", cfg, True)
                except NocargoError as err:
                    raise _note(err, f"failed to load manifest for dependency `{dep.name}` "
                                     f"(of `{manifest_path}`)") from None

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> None:
        loader = self.loader
        root = self.root_manifest
        names: dict[str, Path] = {}
        for member in self.members:
            m = loader.manifest(member)
            if m.package is None:
                continue
            prev = names.get(m.package.name)
            if prev is not None:
                raise NocargoError(f"two packages named `{m.package.name}` in this workspace: "
                                   f"{prev} and {member}", location=Location(member))
            names[m.package.name] = member
        roots = [m.parent for m in self.members if loader.manifest(m).workspace is not None]
        if len(roots) == 0:
            raise NocargoError(
                "`package.workspace` configuration points to a crate which is not configured "
                f"with [workspace]: configuration at: {self.current}, points to: {root}",
                location=Location(self.current))
        if len(roots) > 1:
            raise NocargoError(
                "multiple workspace roots found in the same workspace: "
                + ", ".join(str(r) for r in roots), location=Location(root))
        for member in self.members:
            member_root = loader.find_root(member)
            if member_root == root:
                continue
            if member_root is not None:
                raise NocargoError(
                    f"package `{member}` is a member of the wrong workspace, expected: {root}, "
                    f"actual: {member_root}", location=Location(member))
            raise NocargoError(f"workspace member `{member}` is not hierarchically below the "
                               f"workspace root `{root}`", location=Location(member))
        if self.current not in self.members:
            root_dir = root.parent
            current_dir = self.current.parent
            if _starts_with(current_dir, root_dir):
                rel = relative_path(current_dir, root_dir)
                hint = (f"this may be fixable by adding `{rel}` to the `workspace.members` array "
                        f"of the manifest located at: {root}")
            else:
                hint = ("this may be fixable by adding a member to the `workspace.members` array "
                        f"of the manifest located at: {root}")
            root_m = loader.manifest(root)
            if root_m.package is not None and root_m.workspace.members is None:
                hint = ("this may be fixable by ensuring that this crate is depended on by the "
                        f"workspace root: {root}")
            raise NocargoError(
                "current package believes it's in a workspace when it's not: "
                f"current: {self.current}, workspace: {root}",
                location=Location(self.current),
                notes=(hint, "Alternatively, to keep it out of the workspace, add the package to "
                             "the `workspace.exclude` array, or add an empty `[workspace]` table "
                             "to the package's manifest."))

    def warn_non_root_settings(self, root: Path, resolver: str) -> None:
        if self.root_manifest is None:
            return
        for member in self.members:
            if member == root:
                continue
            m = self.loader.manifest(member)
            if m.package is None:
                continue
            what = []
            if m.profiles:
                what.append("profiles")
            if m.replace:
                what.append("replace")
            if m.patch:
                what.append("patch")
            if m.package.resolver is not None and m.package.resolver != resolver:
                what.append("resolver")
            for w in what:
                self.loader.say(
                    f"{w} for the non root package will be ignored, specify {w} at the "
                    f"workspace root:\npackage:   {member}\nworkspace: {root}")
        root_m = self.loader.manifest(root)
        if root_m.package is None and root_m.workspace is not None and \
                root_m.workspace.resolver is None:
            editions = [p.edition for p in (self.loader.package(m) for m in self.members
                                            if m != root) if p is not None]
            newest = max((e for e in editions if e >= "2021"), default=None)
            if newest is not None:
                implied = edition_default_resolver(newest)
                self.loader.say(
                    f"virtual workspace defaulting to `resolver = \"1\"` despite one or more "
                    f"workspace members being on edition {newest} which implies "
                    f"`resolver = \"{implied}\"`\n"
                    "note: to keep the current resolver, specify `workspace.resolver = \"1\"` in "
                    "the workspace root's manifest\n"
                    f"note: to use the edition {newest} resolver, specify `workspace.resolver = "
                    f"\"{implied}\"` in the workspace root's manifest\n"
                    "note: for more details see "
                    "https://doc.rust-lang.org/cargo/reference/resolver.html#resolver-versions")

    # -- root-only settings -------------------------------------------------------------------
    def resolver(self, root_m: Manifest, root_pkg: Package | None) -> str:
        if root_pkg is not None:
            if root_pkg.resolver is not None:
                return root_pkg.resolver
            return edition_default_resolver(root_pkg.edition)
        if root_m.workspace is not None and root_m.workspace.resolver is not None:
            return root_m.workspace.resolver
        return "1"

    def patches(self, root_m: Manifest, root_pkg: Package | None):
        if root_m.patch and root_m.replace:
            raise root_m.doc.error("cannot specify both [replace] and [patch]", ("replace",))
        builder = _PackageBuilder(self.loader, root_m, SourceId.for_path(root_m.root))
        edition = root_pkg.edition if root_pkg is not None else "2015"
        patch: dict[str, tuple[Dependency, ...]] = {}
        for source_key, specs in root_m.patch.items():
            url = self._patch_source_url(source_key, root_m.doc)
            patch[url] = tuple(builder.to_dependency(s, DepKind.NORMAL, None, edition)
                               for s in specs)
        replace_: list[tuple[str, Dependency]] = []
        for spec_text, spec in root_m.replace:
            if spec.version is not None:
                raise root_m.doc.error(
                    "replacements cannot specify a version requirement, but found one for "
                    f"`{spec_text}`", spec.key)
            name, version = _split_replace_spec(spec_text)
            if version is None:
                raise root_m.doc.error(f"replacements must specify a version to replace, but "
                                       f"`{spec_text}` does not", spec.key)
            from dataclasses import replace as dc_replace

            dep = builder.to_dependency(dc_replace(spec, name_in_toml=name), DepKind.NORMAL,
                                        None, edition)
            dep = dc_replace(dep, req=f"={version}")
            replace_.append((spec_text, dep))
        for w in builder.warnings:
            self.loader.warn(root_m.path, [w])
        if self.loader.strict:  # `cargo metadata --no-deps` never reads config patches
            patch = _merge_patches(patch, self.config_patches(root_m, edition))
        return patch, tuple(replace_)

    def config_patches(self, root_m: Manifest, edition: str) -> dict[str, tuple[Dependency, ...]]:
        """``[patch]`` tables of ``.cargo/config.toml`` (cargo's ``config_patch``): keys as in
        the manifest (``crates-io``, a registry name or a URL), ``path`` relative to the
        config file's root; errors point into the config file."""
        from .toml_util import TomlDocument, load_toml

        out: dict[str, list[Dependency]] = {}
        docs: dict[Path, TomlDocument] = {}
        warnings: list[str] = []
        for entry in self.loader.config().patch_entries():
            where = entry.definition.path
            if where is None:
                doc = TomlDocument(Path(str(entry.definition)), "", {})
            else:
                doc = docs.get(where) or docs.setdefault(where, load_toml(where))
            key = ("patch", entry.source, entry.name)
            url = self._patch_source_url(entry.source, doc)
            spec = parse_dependency_value(doc, entry.name, entry.value, key)
            builder = _PackageBuilder(self.loader, root_m, SourceId.for_path(root_m.root))
            builder.doc = doc
            out.setdefault(url, []).append(builder.to_dependency(spec, DepKind.NORMAL, None,
                                                                 edition))
            warnings.extend(builder.warnings)
        for w in warnings:
            self.loader.say(f"[patch] in cargo config: {w}")
        return {url: tuple(deps) for url, deps in out.items()}

    def _patch_source_url(self, source_key: str, doc) -> str:
        """The index URL a ``[patch.<source_key>]`` table patches."""
        if source_key == "crates-io":
            return CRATES_IO_INDEX
        url = self.loader.registry_lookup(source_key)
        if url is not None:
            return url
        if "://" not in source_key and not source_key.startswith("file:"):
            raise doc.error(
                f"[patch] entry `{source_key}` should be a URL or registry name"
                + ("\nFor crates.io, use [patch.crates-io] (with a dash)"
                   if source_key == "crates" else ""), ("patch", source_key))
        return source_key


def _merge_patches(from_manifest: Mapping[str, tuple[Dependency, ...]],
                   from_config: Mapping[str, tuple[Dependency, ...]]
                   ) -> dict[str, tuple[Dependency, ...]]:
    """cargo's ``Workspace::root_patch``: the config's patches apply in addition to the
    manifest's; for the same source and name the config's entry wins (and the manifest's
    remaining entries follow the config's, in ``swap_remove`` order)."""
    if not from_config:
        return dict(from_manifest)
    if not from_manifest:
        return dict(from_config)
    combined = {url: list(deps) for url, deps in from_config.items()}
    for url, deps in from_manifest.items():
        if url not in combined:
            combined[url] = list(deps)
            continue
        pruned = list(deps)
        for dep in combined[url]:
            i = next((i for i, m in enumerate(pruned) if m.name_in_toml == dep.name_in_toml),
                     None)
            if i is not None:  # Vec::swap_remove
                pruned[i] = pruned[-1]
                pruned.pop()
        combined[url].extend(pruned)
    return {url: tuple(deps) for url, deps in combined.items()}


def _split_replace_spec(text: str) -> tuple[str, str | None]:
    """``name:1.2.3`` / ``name@1.2.3`` (optionally after a URL and ``#``)."""
    body = text.rsplit("#", 1)[-1] if "#" in text else text
    for sep in ("@", ":"):
        if sep in body:
            name, _, version = body.partition(sep)
            if "/" in name:
                name = name.rsplit("/", 1)[-1]
            return name, version
    return body, None
