"""The loaded model of local packages and workspaces.

:class:`Package` is one parsed, inheritance-resolved ``Cargo.toml`` with its targets
(explicit and auto-discovered). :class:`Workspace` is the set of packages cargo would
load from one root manifest: members, plus path dependencies outside the workspace.
Built by :mod:`nocargo_py.workspace`; consumed by metadata, resolution and planning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .source import PackageId
from .summary import Dependency, Summary

__all__ = ["Package", "PackageMetadata", "Target", "TargetKind", "Workspace"]


class TargetKind(enum.Enum):
    """What a target is. Cargo's metadata ``kind`` for a lib is its crate types instead."""

    LIB = "lib"
    BIN = "bin"
    EXAMPLE = "example"
    TEST = "test"
    BENCH = "bench"
    BUILD_SCRIPT = "custom-build"


@dataclass(frozen=True)
class Target:
    """One compilable target of a package.

    ``crate_types``: for libs the ``crate-type`` list (``["lib"]`` by default,
    ``["proc-macro"]`` for proc macros); for examples their ``crate-type`` or ``["bin"]``;
    ``["bin"]`` for everything else. ``src_path`` is absolute.
    """

    kind: TargetKind
    name: str
    src_path: Path
    crate_types: tuple[str, ...]
    edition: str
    required_features: tuple[str, ...] = ()
    test: bool = True
    doctest: bool = False
    bench: bool = True
    doc: bool = True
    harness: bool = True
    doc_scrape_examples: bool | None = None
    declares_required_features: bool = False  # `required-features` written (metadata prints it)

    @property
    def is_lib(self) -> bool:
        return self.kind is TargetKind.LIB

    @property
    def is_proc_macro(self) -> bool:
        return self.kind is TargetKind.LIB and "proc-macro" in self.crate_types

    @property
    def crate_name(self) -> str:
        """The ``--crate-name`` rustc gets: hyphens become underscores."""
        return self.name.replace("-", "_")

    @property
    def metadata_kind(self) -> tuple[str, ...]:
        """``kind`` as ``cargo metadata`` prints it."""
        if self.kind is TargetKind.LIB:
            return self.crate_types
        return (self.kind.value,)  # examples are ["example"] whatever their crate types


@dataclass(frozen=True)
class PackageMetadata:
    """The descriptive ``[package]`` fields (inheritance already applied).

    Values are as cargo reports them in ``cargo metadata``; ``None`` when unset.
    """

    authors: tuple[str, ...] = ()
    description: str | None = None
    documentation: str | None = None
    homepage: str | None = None
    repository: str | None = None
    readme: str | None = None
    license: str | None = None
    license_file: str | None = None
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    publish: tuple[str, ...] | None = None  # None = anywhere; () = publish = false
    default_run: str | None = None
    metadata: Any = None  # [package.metadata] table, JSON-compatible
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Package:
    """A local package: its summary (for resolution), targets and descriptive metadata."""

    summary: Summary
    manifest_path: Path
    edition: str
    targets: tuple[Target, ...]
    metadata: PackageMetadata = field(default_factory=PackageMetadata)
    rust_version: str | None = None
    links: str | None = None
    resolver: str | None = None  # package.resolver as written, if any
    autolib: bool = True
    raw_manifest: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def package_id(self) -> PackageId:
        return self.summary.package_id

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def version(self) -> str:
        return self.summary.version

    @property
    def root(self) -> Path:
        return self.manifest_path.parent

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return self.summary.dependencies

    @property
    def lib_target(self) -> Target | None:
        return next((t for t in self.targets if t.kind is TargetKind.LIB), None)

    @property
    def build_script(self) -> Target | None:
        return next((t for t in self.targets if t.kind is TargetKind.BUILD_SCRIPT), None)

    @property
    def is_proc_macro(self) -> bool:
        lib = self.lib_target
        return lib is not None and lib.is_proc_macro


@dataclass(frozen=True)
class Workspace:
    """Everything cargo loads from one workspace root.

    ``members`` are in cargo's discovery order (the order of ``workspace_members`` in
    ``cargo metadata``: each ``members`` entry, depth-first through its path dependencies
    inside the root, then the root package's path dependencies). ``packages`` are all local packages:
    members first, then path dependencies outside the workspace (not members).
    ``current`` is the package whose manifest was given (``--manifest-path`` / cwd),
    ``None`` for a virtual manifest. Root-only settings (``[patch]``, ``[replace]``,
    ``[profile]``, ``resolver``) come from the root manifest.
    """

    root: Path
    root_manifest: Path
    members: tuple[Package, ...]
    default_members: tuple[Package, ...]
    packages: tuple[Package, ...]
    resolver: str  # "1" | "2" | "3" — already defaulted by edition/virtual rules
    is_virtual: bool
    current: Package | None = None
    root_package: Package | None = None
    profiles: Mapping[str, Any] = field(default_factory=dict, compare=False)
    patch: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict, compare=False)
    replace: tuple[tuple[str, Dependency], ...] = ()
    workspace_metadata: Any = None
    target_directory: Path | None = None

    def lockfile_path(self) -> Path:
        return self.root / "Cargo.lock"

    def member(self, name: str) -> Package | None:
        return next((p for p in self.members if p.name == name), None)

    def is_member(self, package_id: PackageId) -> bool:
        return any(p.package_id == package_id for p in self.members)
