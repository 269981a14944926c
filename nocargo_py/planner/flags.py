"""The rustc flags cargo derives from a unit's profile, LTO setting, features and lints.

Everything here follows cargo 1.95's ``core/compiler/mod.rs`` (``build_base_args``,
``lto_args``, ``check_cfg_args``) and ``core/compiler/lto.rs``, checked against
``cargo build -v`` on this machine:

* :func:`lto_map` — cargo's LTO pass over a unit graph: what every unit needs (run LTO,
  only bitcode, only objects, both, off), starting from the roots;
* :func:`profile_args` — ``-C opt-level``, ``-C panic``, LTO flags, ``-C codegen-units``,
  ``-C debuginfo`` (+ ``-C split-debuginfo``), ``-C debug-assertions`` /
  ``-C overflow-checks`` only where they differ from what rustc implies;
* :func:`check_cfg_args` — ``--check-cfg cfg(docsrs,test)`` and the feature list;
* :func:`lint_flags` — ``[lints]`` as rustc flags (``--warn=…`` sorted by priority, then
  by name *descending*, as cargo does) plus ``unexpected_cfgs``' ``check-cfg`` entries.
"""

from __future__ import annotations

import enum
from typing import Any, Iterable, Mapping

from ..errors import NocargoError
from ..package import Target, TargetKind
from ..profiles import Profile
from ..resolve.units import CompileMode

__all__ = [
    "LtoKind",
    "check_cfg_args",
    "lint_flags",
    "lto_args",
    "lto_map",
    "profile_args",
    "split_debuginfo_supported",
]


class LtoKind(enum.Enum):
    """Cargo's ``compiler::lto::Lto`` (``RUN`` carries the ``-C lto=`` value separately)."""

    RUN = "run"
    OFF = "off"
    ONLY_BITCODE = "only-bitcode"
    OBJECT_AND_BITCODE = "object-and-bitcode"
    ONLY_OBJECT = "only-object"


Lto = tuple[LtoKind, str | None]  # (kind, value of -C lto= for RUN; None = plain `-C lto`)

_CAN_LTO = {"bin", "staticlib", "cdylib"}
_DYNAMIC = {"dylib", "cdylib", "proc-macro"}


def _for_host(target: Target) -> bool:
    return target.kind is TargetKind.BUILD_SCRIPT or target.is_proc_macro


def _needs_object(crate_types: Iterable[str]) -> bool:
    return any(t in _CAN_LTO or t in _DYNAMIC for t in crate_types)


def _lto_when_needs_object(crate_types: tuple[str, ...]) -> Lto:
    if all(t == "dylib" for t in crate_types):
        return (LtoKind.ONLY_OBJECT, None)
    return (LtoKind.OBJECT_AND_BITCODE, None)


def _rustc_crate_types(unit: Any) -> tuple[str, ...]:
    if unit.mode in (CompileMode.TEST, CompileMode.DOCTEST):
        return ("bin",)
    target = unit.target
    if target.kind in (TargetKind.LIB, TargetKind.EXAMPLE):
        return tuple(target.crate_types)
    return ("bin",)


def _profile_lto(profile: Profile) -> Lto:
    lto = profile.lto
    if lto.kind == "named":
        return (LtoKind.RUN, str(lto.value))
    if lto.kind == "off":
        return (LtoKind.OFF, None)
    if lto.value:
        return (LtoKind.RUN, None)
    return (LtoKind.ONLY_OBJECT, None)


def lto_map(units: tuple[Any, ...], deps: tuple[tuple[tuple[int, str, bool, bool], ...], ...],
            roots: tuple[int, ...]) -> dict[int, Lto]:
    """Cargo's ``lto::generate``: the LTO requirement of every unit index of a unit graph
    (``UnitGraph.units``/``dependencies``/``roots``)."""
    out: dict[int, Lto] = {}
    for root in roots:
        unit = units[root]
        lto = unit.profile.lto
        if lto.kind == "bool" and not lto.value:
            root_lto: Lto = (LtoKind.ONLY_OBJECT, None)
        elif lto.kind == "off":
            root_lto = (LtoKind.OFF, None)
        else:
            types = _rustc_crate_types(unit)
            if _for_host(unit.target):
                root_lto = (LtoKind.ONLY_OBJECT, None)
            elif _needs_object(types):
                root_lto = _lto_when_needs_object(types)
            else:
                root_lto = (LtoKind.ONLY_BITCODE, None)
        _calculate(units, deps, out, root, root_lto)
    return out


def _calculate(units, deps, out: dict[int, Lto], start: int, start_lto: Lto) -> None:
    stack: list[tuple[int, Lto]] = [(start, start_lto)]
    while stack:
        index, parent_lto = stack.pop()
        unit = units[index]
        types = _rustc_crate_types(unit)
        all_lto_types = all(t in _CAN_LTO for t in types)
        if _for_host(unit.target):
            lto: Lto = (LtoKind.ONLY_OBJECT, None)
        elif all_lto_types:
            lto = _profile_lto(unit.profile)
        else:
            needs = _needs_object(types)
            pk = parent_lto[0]
            if pk is LtoKind.RUN and not needs:
                lto = (LtoKind.ONLY_BITCODE, None)
            elif (pk is LtoKind.RUN and needs) or (pk is LtoKind.ONLY_BITCODE and needs):
                lto = _lto_when_needs_object(types)
            elif pk is LtoKind.OFF:
                lto = (LtoKind.OFF, None)
            else:
                lto = parent_lto
        old = out.get(index)
        if old is None:
            merged = lto
        else:
            merged = _merge(lto, old)
            if merged == old:
                continue
        out[index] = merged
        for dep_index, _name, _public, _noprelude in reversed(deps[index]):
            stack.append((dep_index, merged))


def _merge(new: Lto, old: Lto) -> Lto:
    a, b = new[0], old[0]
    if a is b and a in (LtoKind.ONLY_BITCODE, LtoKind.ONLY_OBJECT):
        return new
    if a is LtoKind.RUN:
        return new
    if b is LtoKind.RUN:
        return old
    if LtoKind.OFF in (a, b):
        return (LtoKind.OFF, None)
    if LtoKind.OBJECT_AND_BITCODE in (a, b):
        return (LtoKind.OBJECT_AND_BITCODE, None)
    return (LtoKind.OBJECT_AND_BITCODE, None)  # OnlyObject + OnlyBitcode


def lto_args(lto: Lto) -> list[str]:
    """``lto_args``: the ``-C`` flags of one LTO requirement."""
    kind, value = lto
    if kind is LtoKind.RUN:
        return ["-C", "lto" if value is None else f"lto={value}"]
    if kind is LtoKind.OFF:
        return ["-C", "lto=off", "-C", "embed-bitcode=no"]
    if kind is LtoKind.ONLY_BITCODE:
        return ["-C", "linker-plugin-lto"]
    if kind is LtoKind.ONLY_OBJECT:
        return ["-C", "embed-bitcode=no"]
    return []


def split_debuginfo_supported(value: str, triple: str) -> bool:
    """Whether rustc accepts ``-C split-debuginfo=value`` on ``triple`` on stable (what
    cargo asks rustc with ``--print=split-debuginfo``): Windows MSVC only ``packed``;
    Apple and ELF targets ``off``/``packed``/``unpacked``; others only ``off``."""
    if "windows-msvc" in triple:
        return value == "packed"
    if "-apple-" in triple or "linux" in triple or "android" in triple or "bsd" in triple:
        return value in ("off", "packed", "unpacked")
    return value == "off"


def profile_args(profile: Profile, lto: Lto, triple: str, *, test_harness: bool,
                 test_no_harness: bool, lint_args: Iterable[str] = ()) -> list[str]:
    """The profile part of ``build_base_args`` (after ``--emit``/``prefer-dynamic``):
    opt-level, panic, LTO, codegen-units, debuginfo, lints, debug-assertions/overflow-checks
    and ``--test`` / ``--cfg test``."""
    args: list[str] = []
    if profile.opt_level != "0":
        args += ["-C", f"opt-level={profile.opt_level}"]
    if profile.panic != "unwind":
        args += ["-C", f"panic={profile.panic}"]
    args += lto_args(lto)
    if profile.codegen_backend is not None:
        args += ["-Z", f"codegen-backend={profile.codegen_backend}"]
    if profile.codegen_units is not None:
        args += ["-C", f"codegen-units={profile.codegen_units}"]
    if profile.debuginfo.is_turned_on:
        args += ["-C", f"debuginfo={profile.debuginfo.level}"]
        split = profile.split_debuginfo
        if split is not None and split_debuginfo_supported(split, triple):
            args += ["-C", f"split-debuginfo={split}"]
    args += list(lint_args)
    args += list(profile.rustflags)
    if profile.opt_level != "0":
        if profile.debug_assertions:
            args += ["-C", "debug-assertions=on"]
            if not profile.overflow_checks:
                args += ["-C", "overflow-checks=off"]
        elif profile.overflow_checks:
            args += ["-C", "overflow-checks=on"]
    elif not profile.debug_assertions:
        args += ["-C", "debug-assertions=off"]
        if profile.overflow_checks:
            args += ["-C", "overflow-checks=on"]
    elif not profile.overflow_checks:
        args += ["-C", "overflow-checks=off"]
    if test_harness:
        args.append("--test")
        if profile.panic == "abort":
            args += ["-Z", "panic-abort-tests"]
    elif test_no_harness:
        args += ["--cfg", "test"]
    return args


def check_cfg_args(feature_names: Iterable[str]) -> list[str]:
    """``--check-cfg cfg(docsrs,test)`` and ``cfg(feature, values(...))`` with every
    feature of the package's feature map (sorted as cargo's ``BTreeMap``)."""
    values = ", ".join(f'"{f}"' for f in sorted(feature_names))
    return ["--check-cfg", "cfg(docsrs,test)", "--check-cfg", f"cfg(feature, values({values}))"]


_LEVELS = {"forbid": "--forbid", "deny": "--deny", "warn": "--warn", "allow": "--allow"}


def lint_flags(lints: Mapping[str, Any] | None, where: str = "lints") -> list[str]:
    """Cargo's ``lints_to_rustflags`` for a normalized ``[lints]`` table (``workspace =
    true`` already replaced by ``[workspace.lints]``)."""
    if not lints:
        return []
    if not isinstance(lints, Mapping):
        raise NocargoError(f"`{where}` must be a table")
    entries: list[tuple[int, str, str]] = []
    for tool, table in lints.items():
        if tool == "cargo" or tool == "workspace":
            continue
        if not isinstance(table, Mapping):
            raise NocargoError(f"`{where}.{tool}` must be a table")
        for name, config in table.items():
            if isinstance(config, str):
                level, priority = config, 0
            elif isinstance(config, Mapping):
                level = config.get("level")
                priority = config.get("priority", 0)
            else:
                raise NocargoError(f"`{where}.{tool}.{name}` must be a string or a table")
            flag = _LEVELS.get(level) if isinstance(level, str) else None
            if flag is None or isinstance(priority, bool) or not isinstance(priority, int):
                raise NocargoError(f"`{where}.{tool}.{name}`: invalid lint level or priority")
            option = f"{flag}={name}" if tool == "rust" else f"{flag}={tool}::{name}"
            entries.append((priority, name, option))
    # cargo sorts (priority, Reverse(name), option)
    entries.sort(key=lambda e: (e[0], _Reverse(e[1]), e[2]))
    flags = [option for _, _, option in entries]
    rust = lints.get("rust")
    if isinstance(rust, Mapping):
        unexpected = rust.get("unexpected_cfgs")
        if isinstance(unexpected, Mapping):
            check = unexpected.get("check-cfg")
            if isinstance(check, list) and all(isinstance(c, str) for c in check):
                for c in check:
                    flags += ["--check-cfg", c]
    return flags


class _Reverse:
    """Sort key wrapper giving descending order for strings (Rust's ``cmp::Reverse``)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: "_Reverse") -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value
