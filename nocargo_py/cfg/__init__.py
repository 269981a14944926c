"""cfg() expressions and target descriptions, exactly as cargo evaluates them.

Public API::

    parse_cfg(text) -> CfgExpr
        Parse the inside of ``cfg(...)`` with cargo's grammar (``grammar/cfg.lark``).
        Raises ParseError whose message is cargo's and whose span points at the bad text.
    Platform.parse(key) -> Platform            (cached; use it for index data too)
        A ``[target.KEY]`` key: ``cfg(...)`` or a target name (anything else).
    Platform.matches(target: TargetInfo) -> bool
        cfg keys: evaluate against ``target.cfgs``; names: exact ``target.triple`` match.
    Platform.warnings() / Platform.keyword_warnings(path)
        The warnings cargo prints for ``test``/``debug_assertions``/``proc_macro``/
        ``feature = ...`` and for ``true = "..."``.
    TargetInfo(triple, cfgs)
        frozen; ``cfgs`` is a tuple of ``(name, value | None)`` in rustc's print order;
        helpers ``names()``, ``values(key)``, ``value(key)``, ``has(name, value=None)``,
        ``family`` (tuple), ``os``, ``arch``, ``env``, ``vendor``, ``abi``, ``endian``,
        ``pointer_width``, ``panic``, ``features``, ``has_atomic``, ``is_unix``,
        ``is_windows``, ``with_cfgs(extra)``, ``print_cfg()``.
    target_info(triple, *, rustc=None, extra_cfgs=(), custom_target_json=None, rustflags=())
        From the built-in database (default), a live rustc, or a custom target JSON.
    host_triple(rustc=None) -> str
    list_targets(rustc=None) -> tuple[str, ...]
    cfg_env_vars(target, *, features=(), debug_assertions=True) -> dict[str, str]
        The CARGO_CFG_* variables cargo sets for build scripts.

Lower level: :mod:`.ast` (node types, ``render``), :func:`evaluate`,
:func:`parse_cfg_option` (one ``rustc --print cfg`` line).

Which target to match against is the caller's business, and it matters: normal and dev
dependencies of units built for the target use the ``--target`` triple; build
dependencies, build scripts, proc-macros and everything they depend on use the host.
"""

from __future__ import annotations

from .ast import (
    CfgAll,
    CfgAny,
    CfgBool,
    CfgExpr,
    CfgKeyValue,
    CfgName,
    CfgNot,
    CfgOption,
    iter_options,
    render,
)
from .evaluate import evaluate
from .parser import parse_cfg, parse_cfg_option
from .platform import Platform
from .targets import (
    CfgPair,
    TargetInfo,
    cfg_env_vars,
    cfg_line,
    crt_static_applies,
    database_rustc_version,
    host_triple,
    list_targets,
    target_info,
)

__all__ = [
    "CfgAll",
    "CfgAny",
    "CfgBool",
    "CfgExpr",
    "CfgKeyValue",
    "CfgName",
    "CfgNot",
    "CfgOption",
    "CfgPair",
    "Platform",
    "TargetInfo",
    "cfg_env_vars",
    "cfg_line",
    "crt_static_applies",
    "database_rustc_version",
    "evaluate",
    "host_triple",
    "iter_options",
    "list_targets",
    "parse_cfg",
    "parse_cfg_option",
    "render",
    "target_info",
]
