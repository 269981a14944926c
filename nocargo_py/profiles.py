"""Profiles: the compiler settings of every unit, computed exactly as cargo does.

Input is the root manifest's raw ``[profile]`` tables (``Workspace.profiles``, already
validated by the manifest loader) and optionally ``[profile]`` tables from
``.cargo/config.toml`` (merged on top, as cargo does). :class:`Profiles` follows cargo's
``core/profiles.rs``:

* built-in roots ``dev`` and ``release``; built-in ``test`` (inherits ``dev``), ``bench``
  (inherits ``release``) and ``doc``; custom profiles need ``inherits`` (chains allowed,
  loops and unknown parents are errors);
* precedence, last wins: defaults, ``[profile.P]``, then for host units (build scripts,
  proc-macros and everything they depend on) ``opt-level = 0``, no ``codegen-units`` and
  a *deferred* debuginfo level, then ``[profile.P.build-override]``, then
  ``[profile.P.package."*"]`` (non-members only), then ``[profile.P.package.<spec>]``;
* cargo's quirk that every merged layer resets ``strip`` to "deferred none" unless the
  layer itself sets ``strip`` is kept, because cargo's unit graph shows it;
* ``panic`` is forced to ``unwind`` where cargo forces it (host units, tests), Apple
  targets default ``split-debuginfo`` to ``unpacked`` when debuginfo is on, and only path
  packages build incrementally.

:class:`Profile` carries the deferred markers cargo uses for debuginfo and strip; the unit
graph (:mod:`nocargo_py.resolve.units`) finalises them. ``Profile.to_json`` prints the
``profile`` object of ``cargo build --unit-graph``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from .errors import NocargoError
from .source import PackageId

__all__ = [
    "DebugInfo",
    "Lto",
    "Profile",
    "Profiles",
    "Strip",
    "TomlProfile",
    "parse_toml_profile",
]

# --------------------------------------------------------------------------------------
# value types
# --------------------------------------------------------------------------------------

#: debuginfo levels in cargo's order (``TomlDebugInfo``): None < line-directives-only <
#: line-tables-only < limited < full.
_DEBUG_LEVELS = ("0", "line-directives-only", "line-tables-only", "1", "2")
_PANIC_ORDER = {"unwind": 0, "abort": 1, "immediate-abort": 2}


@dataclass(frozen=True)
class DebugInfo:
    """A debuginfo level (``"0"``, ``"1"``, ``"2"``, ``"line-tables-only"``…).

    ``deferred`` marks cargo's ``DebugInfo::Deferred``: the level of a host unit that the
    unit graph may still weaken to ``0`` when the unit is not shared with target code.
    Equality and order ignore the marker, as in cargo.
    """

    level: str
    deferred: bool = field(default=False, compare=False)

    @property
    def is_turned_on(self) -> bool:
        return self.level != "0"

    @property
    def rank(self) -> int:
        return _DEBUG_LEVELS.index(self.level)

    def finalize(self) -> "DebugInfo":
        return DebugInfo(self.level, False)

    def to_json(self) -> int | str:
        return int(self.level) if self.level in ("0", "1", "2") else self.level


@dataclass(frozen=True)
class Strip:
    """``strip``: ``"none"`` or a named level (``"debuginfo"``, ``"symbols"``).

    ``deferred`` is cargo's ``Strip::Deferred`` (not set by the user; the unit graph may
    turn it into ``debuginfo`` when no debuginfo is produced). Equality ignores it.
    """

    value: str = "none"
    deferred: bool = field(default=True, compare=False)

    def key(self) -> tuple:
        return (0, "") if self.value == "none" else (1, self.value)

    def to_json(self) -> dict:
        inner: Any = "None" if self.value == "none" else {"Named": self.value}
        return {"deferred" if self.deferred else "resolved": inner}


@dataclass(frozen=True)
class Lto:
    """``lto``: ``off``, a boolean (``false`` = rustc's default thin-local), or a name."""

    kind: str  # "off" | "bool" | "named"
    value: bool | str = False

    def key(self) -> tuple:
        if self.kind == "off":
            return (0,)
        if self.kind == "bool":
            return (1, bool(self.value))
        return (2, str(self.value))

    def to_json(self) -> str:
        if self.kind == "off":
            return "off"
        if self.kind == "bool":
            return "true" if self.value else "false"
        return str(self.value)


@dataclass(frozen=True)
class Profile:
    """The effective settings of one unit (cargo's ``Profile``)."""

    name: str
    opt_level: str = "0"
    root: str = "debug"  # "debug" | "release" (PROFILE env of build scripts)
    lto: Lto = Lto("bool", False)
    codegen_backend: str | None = None
    codegen_units: int | None = None
    debuginfo: DebugInfo = DebugInfo("0")
    split_debuginfo: str | None = None
    debug_assertions: bool = False
    overflow_checks: bool = False
    rpath: bool = False
    incremental: bool = False
    panic: str = "unwind"
    strip: Strip = Strip()
    rustflags: tuple[str, ...] = ()
    trim_paths: Any = None
    hint_mostly_unused: bool | None = None

    def comparable(self) -> tuple:
        """The fields cargo compares for unit identity (not ``name``/``root``)."""
        return (
            self.opt_level, self.lto, self.codegen_backend, self.codegen_units,
            self.debuginfo, self.split_debuginfo, self.debug_assertions,
            self.overflow_checks, self.rpath, self.incremental, self.panic, self.strip,
            self.rustflags, _freeze(self.trim_paths),
        )

    def sort_key(self) -> tuple:
        """Cargo's derived ``Ord`` on ``Profile`` (field order of the struct)."""
        return (
            self.name, self.opt_level, 0 if self.root == "release" else 1, self.lto.key(),
            _opt(self.codegen_backend), _opt(self.codegen_units), self.debuginfo.rank,
            _opt(self.split_debuginfo), self.debug_assertions, self.overflow_checks,
            self.rpath, self.incremental, _PANIC_ORDER[self.panic], self.strip.key(),
            self.rustflags, repr(_freeze(self.trim_paths)), _opt(self.hint_mostly_unused),
        )

    def to_json(self) -> dict:
        """The ``profile`` object of ``cargo build --unit-graph``."""
        out: dict[str, Any] = {
            "name": self.name,
            "opt_level": self.opt_level,
            "lto": self.lto.to_json(),
            "codegen_backend": self.codegen_backend,
            "codegen_units": self.codegen_units,
            "debuginfo": self.debuginfo.to_json(),
            "split_debuginfo": self.split_debuginfo,
            "debug_assertions": self.debug_assertions,
            "overflow_checks": self.overflow_checks,
            "rpath": self.rpath,
            "incremental": self.incremental,
            "panic": self.panic,
            "strip": self.strip.to_json(),
        }
        if self.rustflags:
            out["rustflags"] = list(self.rustflags)
        if self.trim_paths is not None:
            out["trim_paths"] = self.trim_paths
        if self.hint_mostly_unused is not None:
            out["hint_mostly_unused"] = self.hint_mostly_unused
        return out


def _opt(value: Any) -> tuple:
    return (0,) if value is None else (1, value)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


_DEFAULT_DEV = Profile(
    name="dev", root="debug", debuginfo=DebugInfo("2"), debug_assertions=True,
    overflow_checks=True, incremental=True,
)
_DEFAULT_RELEASE = Profile(name="release", root="release", opt_level="3")

# --------------------------------------------------------------------------------------
# TOML layer
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TomlProfile:
    """One ``[profile.X]`` table (or ``build-override`` / ``package.<spec>`` sub-table)."""

    opt_level: str | None = None
    lto: bool | str | None = None
    codegen_backend: str | None = None
    codegen_units: int | None = None
    debug: str | None = None  # normalised level, see _DEBUG_LEVELS
    split_debuginfo: str | None = None
    debug_assertions: bool | None = None
    rpath: bool | None = None
    panic: str | None = None
    overflow_checks: bool | None = None
    incremental: bool | None = None
    dir_name: str | None = None
    inherits: str | None = None
    strip: bool | str | None = None
    rustflags: tuple[str, ...] | None = None
    package: tuple[tuple[str, "TomlProfile"], ...] | None = None
    build_override: "TomlProfile | None" = None
    trim_paths: Any = None
    hint_mostly_unused: bool | None = None

    def merge(self, other: "TomlProfile") -> "TomlProfile":
        """``TomlProfile::merge``: ``other``'s set values win; sub-tables merge key-wise."""
        changes: dict[str, Any] = {}
        for name in _SCALAR_FIELDS:
            value = getattr(other, name)
            if value is not None:
                changes[name] = value
        if other.package is not None:
            if self.package is None:
                changes["package"] = other.package
            else:
                merged = dict(self.package)
                for spec, prof in other.package:
                    merged[spec] = merged[spec].merge(prof) if spec in merged else prof
                changes["package"] = tuple(merged.items())
        if other.build_override is not None:
            changes["build_override"] = (
                other.build_override if self.build_override is None
                else self.build_override.merge(other.build_override)
            )
        return replace(self, **changes)


_SCALAR_FIELDS = (
    "opt_level", "lto", "codegen_backend", "codegen_units", "debug", "split_debuginfo",
    "debug_assertions", "rpath", "panic", "overflow_checks", "incremental", "rustflags",
    "inherits", "dir_name", "strip", "trim_paths", "hint_mostly_unused",
)


def parse_toml_profile(table: Mapping[str, Any], where: str) -> TomlProfile:
    """Convert one raw ``[profile.X]`` table (kebab-case keys; or a manifest ``ProfileSpec``,
    whose ``raw`` table is used) to a :class:`TomlProfile`.

    The manifest loader validates profiles; this only checks the types it relies on and
    names the offending key (``where`` is e.g. ``profile.release.build-override``).
    """
    raw = getattr(table, "raw", None)
    if isinstance(raw, Mapping):  # a manifest ProfileSpec: use the table as written
        table = raw
    if not isinstance(table, Mapping):
        raise NocargoError(f"`{where}` must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{where}.{key}"
        if key == "opt-level":
            # integers are taken as written (cargo accepts `opt-level = 4` and passes it on);
            # strings only "s"/"z"
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise NocargoError(f"`{path}`: expected an optimization level")
            if isinstance(value, str) and value not in ("s", "z"):
                raise NocargoError(
                    f"`{path}`: must be `0`, `1`, `2`, `3`, `s` or `z`, but found the string: "
                    f"\"{value}\""
                )
            values["opt_level"] = str(value)
        elif key == "lto":
            values["lto"] = _bool_or_str(value, path)
        elif key == "codegen-backend":
            values["codegen_backend"] = _str(value, path)
        elif key == "codegen-units":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise NocargoError(f"`{path}` must be a non-negative integer")
            values["codegen_units"] = value
        elif key == "debug":
            values["debug"] = _debug_level(value, path)
        elif key == "split-debuginfo":
            values["split_debuginfo"] = _str(value, path)
        elif key in ("debug-assertions", "rpath", "overflow-checks", "incremental",
                     "hint-mostly-unused"):
            if not isinstance(value, bool):
                raise NocargoError(f"`{path}` must be a boolean")
            values[key.replace("-", "_")] = value
        elif key == "panic":
            values["panic"] = _str(value, path)
            if value not in _PANIC_ORDER:
                raise NocargoError(
                    f"`panic` setting of `{value}` is not a valid setting, must be `unwind`, "
                    "`abort`, or `immediate-abort`."
                )
        elif key == "dir-name":
            values["dir_name"] = _str(value, path)
        elif key == "inherits":
            values["inherits"] = _str(value, path)
        elif key == "strip":
            values["strip"] = _bool_or_str(value, path)
        elif key == "rustflags":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise NocargoError(f"`{path}` must be an array of strings")
            values["rustflags"] = tuple(value)
        elif key == "trim-paths":
            values["trim_paths"] = value
        elif key == "package":
            if not isinstance(value, Mapping):
                raise NocargoError(f"`{path}` must be a table")
            values["package"] = tuple(
                (str(spec), parse_toml_profile(sub, f"{path}.{spec}"))
                for spec, sub in value.items()
            )
        elif key == "build-override":
            values["build_override"] = parse_toml_profile(value, path)
        # unknown keys were warned about by the manifest loader; cargo ignores them
    return TomlProfile(**values)


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise NocargoError(f"`{path}` must be a string")
    return value


def _bool_or_str(value: Any, path: str) -> bool | str:
    if not isinstance(value, (bool, str)):
        raise NocargoError(f"`{path}` must be a boolean or a string")
    return value


def _debug_level(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "2" if value else "0"
    if isinstance(value, int) and value in (0, 1, 2):
        return str(value)
    names = {"none": "0", "limited": "1", "full": "2",
             "line-tables-only": "line-tables-only",
             "line-directives-only": "line-directives-only"}
    if isinstance(value, str) and value in names:
        return names[value]
    raise NocargoError(
        f"`{path}`: expected a boolean, 0, 1, 2, \"none\", \"limited\", \"full\", "
        f"\"line-tables-only\", or \"line-directives-only\", found `{value}`"
    )


def _merge_profile(profile: Profile, toml: TomlProfile) -> Profile:
    """cargo's ``merge_profile`` (not the overrides); note the unconditional ``strip``."""
    ch: dict[str, Any] = {}
    if toml.opt_level is not None:
        ch["opt_level"] = toml.opt_level
    if toml.lto is not None:
        if isinstance(toml.lto, bool):
            ch["lto"] = Lto("bool", toml.lto)
        elif toml.lto in ("off", "n", "no", "none"):
            ch["lto"] = Lto("off")
        else:
            ch["lto"] = Lto("named", toml.lto)
    if toml.codegen_backend is not None:
        ch["codegen_backend"] = toml.codegen_backend
    if toml.codegen_units is not None:
        ch["codegen_units"] = toml.codegen_units
    if toml.debug is not None:
        ch["debuginfo"] = DebugInfo(toml.debug, False)
    if toml.debug_assertions is not None:
        ch["debug_assertions"] = toml.debug_assertions
    if toml.split_debuginfo is not None:
        ch["split_debuginfo"] = toml.split_debuginfo
    if toml.rpath is not None:
        ch["rpath"] = toml.rpath
    if toml.panic is not None:
        ch["panic"] = toml.panic
    if toml.overflow_checks is not None:
        ch["overflow_checks"] = toml.overflow_checks
    if toml.incremental is not None:
        ch["incremental"] = toml.incremental
    if toml.rustflags is not None:
        ch["rustflags"] = toml.rustflags
    if toml.trim_paths is not None:
        ch["trim_paths"] = toml.trim_paths
    if toml.hint_mostly_unused is not None:
        ch["hint_mostly_unused"] = toml.hint_mostly_unused
    strip = toml.strip
    if strip is True:
        ch["strip"] = Strip("symbols", False)
    elif strip is False or strip == "none":
        ch["strip"] = Strip("none", False)
    elif isinstance(strip, str):
        ch["strip"] = Strip(strip, False)
    else:
        ch["strip"] = Strip("none", True)
    return replace(profile, **ch)


# --------------------------------------------------------------------------------------
# package id specs (profile overrides)
# --------------------------------------------------------------------------------------

SpecMatcher = Callable[[str, PackageId], bool]


def _default_spec_matcher(spec: str, package_id: PackageId) -> bool:
    from .resolve.pkgspec import PackageIdSpec

    return PackageIdSpec.parse(spec).matches(package_id)


# --------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Maker:
    default: Profile
    toml: TomlProfile | None

    def get(self, pkg_id: PackageId | None, is_member: bool, for_host: bool,
            matcher: SpecMatcher) -> Profile:
        profile = self.default
        if self.toml is not None:
            profile = _merge_profile(profile, self.toml)
        if for_host:
            profile = replace(
                profile, opt_level="0", codegen_units=None,
                debuginfo=DebugInfo(profile.debuginfo.level, True),
            )
        if self.toml is not None:
            toml = self.toml
            if for_host and toml.build_override is not None:
                profile = _merge_profile(profile, toml.build_override)
            if toml.package is not None:
                overrides = dict(toml.package)
                if not is_member and "*" in overrides:
                    profile = _merge_profile(profile, overrides["*"])
                if pkg_id is not None:
                    for spec, sub in toml.package:
                        if spec != "*" and matcher(spec, pkg_id):
                            profile = _merge_profile(profile, sub)
                            break
        return profile


_PREDEFINED = {
    "bench": TomlProfile(inherits="release"),
    "test": TomlProfile(inherits="dev"),
    "doc": TomlProfile(inherits="dev"),
}


@dataclass(frozen=True)
class Profiles:
    """All profiles of a workspace, with one of them requested (``dev``, ``release``…).

    Build with :meth:`Profiles.new`; ask with :meth:`get_profile`.
    """

    requested: str
    host_triple: str
    makers: Mapping[str, _Maker]
    incremental: bool | None = None
    spec_matcher: SpecMatcher = field(default=_default_spec_matcher, compare=False)
    #: get_profile's answers (a pure function of its arguments; asked once per unit dep)
    _memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def new(
        cls,
        manifest_profiles: Mapping[str, Any] | None,
        requested: str,
        host_triple: str,
        *,
        config_profiles: Mapping[str, Any] | None = None,
        incremental: bool | None = None,
        spec_matcher: SpecMatcher | None = None,
    ) -> "Profiles":
        """Cargo's ``Profiles::new``: merge config onto manifest, add built-ins, follow
        ``inherits``. Raises :class:`NocargoError` for loops, unknown parents, a missing
        ``inherits`` or an undefined ``requested`` profile."""
        tomls: dict[str, TomlProfile] = {}
        for name, table in (manifest_profiles or {}).items():
            tomls[name] = parse_toml_profile(table, f"profile.{name}")
        parsed: dict[str, TomlProfile | None] = {}

        def config(name: str) -> TomlProfile | None:
            # as cargo's get_config_profile: looked up by name (a config's
            # ProfileTables also finds profiles set only by CARGO_PROFILE_* variables)
            if name not in parsed:
                table = config_profiles.get(name) if config_profiles is not None else None
                parsed[name] = (None if table is None
                                else parse_toml_profile(table, f"profile.{name}"))
            return parsed[name]

        for name, prof in list(tomls.items()):
            found = config(name)
            if found is not None:
                tomls[name] = prof.merge(found)
        # config-only profiles that are requested, built-in or inherited from
        pending = {requested, "dev", "release", "test", "bench"}
        pending |= {p.inherits for p in tomls.values() if p.inherits}
        while pending:
            name = pending.pop()
            found = config(name) if name not in tomls else None
            if found is not None:
                tomls[name] = found
                if found.inherits:
                    pending.add(found.inherits)
        makers: dict[str, _Maker] = {
            "dev": _Maker(_DEFAULT_DEV, tomls.get("dev")),
            "release": _Maker(_DEFAULT_RELEASE, tomls.get("release")),
        }
        for name, predef in _PREDEFINED.items():
            tomls[name] = predef.merge(tomls[name]) if name in tomls else predef
        for name in sorted(tomls):
            prof = tomls[name]
            if name in ("dev", "release"):
                if prof.inherits is not None:
                    raise NocargoError(
                        f"`inherits` must not be specified in root profile `{name}`"
                    )
                continue
            makers[name] = _process_chain(name, prof, {name}, tomls, makers)
        if requested not in makers:
            raise NocargoError(f"profile `{requested}` is not defined")
        return cls(requested, host_triple, makers, incremental,
                   spec_matcher or _default_spec_matcher)

    def get_profile(
        self,
        pkg_id: PackageId | None,
        *,
        is_member: bool,
        is_local: bool,
        for_host: bool,
        always_unwind: bool,
        kind_triple: str | None,
    ) -> Profile:
        """The profile of one unit (cargo's ``Profiles::get_profile``).

        ``for_host``: a build script, proc-macro or one of their dependencies;
        ``always_unwind``: cargo's ``PanicSetting::AlwaysUnwind`` (host units, tests);
        ``kind_triple``: the triple the unit is compiled for (``None`` = host).
        """
        maker = self.makers[self.requested]
        if maker.toml is None or maker.toml.package is None:
            # no `package` overrides: one profile object for every package alike
            pkg_id, is_member = None, False
        key = (pkg_id, is_member, is_local, for_host, always_unwind, kind_triple)
        known = self._memo.get(key)
        if known is not None:
            return known
        profile = maker.get(pkg_id, is_member, for_host, self.spec_matcher)
        changes: dict[str, Any] = {}
        if always_unwind:
            changes["panic"] = "unwind"
        if profile.debuginfo.is_turned_on and profile.split_debuginfo is None:
            triple = kind_triple if kind_triple is not None else self.host_triple
            if "-apple-" in triple:
                changes["split_debuginfo"] = "unpacked"
        incremental = profile.incremental
        if self.incremental is not None:
            incremental = self.incremental
        if not is_local:
            incremental = False
        changes["incremental"] = incremental
        changes["name"] = self.requested
        result = self._memo[key] = replace(profile, **changes)
        return result

    def base_profile(self) -> Profile:
        """The requested profile for a member without overrides (PROFILE/`Finished` line)."""
        return self.makers[self.requested].get(None, True, False, self.spec_matcher)

    def run_custom_build_profile(self, parent: Profile) -> Profile:
        """The stripped-down profile of a build-script *run* unit (keeps what its env uses)."""
        return Profile(
            name=parent.name, root=parent.root, debuginfo=parent.debuginfo,
            opt_level=parent.opt_level, debug_assertions=parent.debug_assertions,
            trim_paths=parent.trim_paths,
        )

    def package_override_specs(self) -> tuple[tuple[str, str], ...]:
        """``(profile name, spec)`` of every ``package.<spec>`` override (not ``*``)."""
        out = []
        for name in sorted(self.makers):
            toml = self.makers[name].toml
            if toml is not None and toml.package:
                out.extend((name, spec) for spec, _ in toml.package if spec != "*")
        return tuple(out)


def _process_chain(
    name: str,
    profile: TomlProfile,
    seen: set[str],
    tomls: Mapping[str, TomlProfile],
    makers: Mapping[str, _Maker],
) -> _Maker:
    parent = profile.inherits
    if parent in ("dev", "release"):
        maker = makers[parent]
    elif parent is not None:
        if parent in seen:
            raise NocargoError(
                f"profile inheritance loop detected with profile `{name}` inheriting `{parent}`"
            )
        seen.add(parent)
        if parent not in tomls:
            raise NocargoError(
                f"profile `{name}` inherits from `{parent}`, but that profile is not defined"
            )
        maker = _process_chain(parent, tomls[parent], seen, tomls, makers)
    else:
        raise NocargoError(
            f"profile `{name}` is missing an `inherits` directive (`inherits` is required for "
            "all profiles except `dev` or `release`)"
        )
    toml = profile if maker.toml is None else maker.toml.merge(profile)
    return _Maker(maker.default, toml)
