"""Target descriptions: what cargo knows about the platform it builds for.

:class:`TargetInfo` is a target name plus its cfg set, exactly as cargo sees it: the lines
of ``rustc --print cfg --target T`` (stable rustc, no profile flags, so
``debug_assertions`` is set), with the name ``proc_macro`` removed (cargo filters it), in
rustc's print order (sorted by the printed line, duplicates removed).

:func:`target_info` builds one from

* the built-in database ``nocargo_py/data/targets.json`` (every ``rustc --print
  target-list`` target of the rustc named in the file; regenerate with
  ``scripts/gen_targets.py``) — the default;
* a live ``rustc`` (``rustc=PATH``), as cargo does, optionally with extra ``rustflags``;
* a custom target JSON (``custom_target_json=PATH``, or a triple ending in ``.json``):
  always asks rustc (``rustc`` on PATH if not given). Custom targets need a nightly
  rustc; on a stable one it is run with ``RUSTC_BOOTSTRAP=1 -Zunstable-options``, so the
  cfg set is rustc's nightly view (as a nightly cargo, the only one that can build for a
  custom target, sees it). The target's name is the file stem, as in cargo.

``extra_cfgs`` adds ``--cfg`` values as ``RUSTFLAGS="--cfg …"`` would.

:func:`cfg_env_vars` gives the ``CARGO_CFG_*`` variables cargo sets for build scripts.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import NocargoError, ParseError
from .ast import CfgKeyValue
from .parser import parse_cfg_option

__all__ = [
    "CARGO_CFG_QUERY",
    "CfgPair",
    "TargetInfo",
    "cfg_env_vars",
    "cfg_line",
    "crt_static_applies",
    "database_rustc_version",
    "host_triple",
    "list_targets",
    "target_info",
]

CfgPair = tuple[str, "str | None"]
"""One option of a cfg set: ``(name, None)`` for a name, ``(key, value)`` for a pair."""

_FILTERED_NAMES = frozenset({"proc_macro"})  # cargo's TargetInfo::not_user_specific_cfg

CARGO_CFG_QUERY: tuple[str, ...] = (
    "-", "--crate-name", "___",
    "--crate-type", "bin", "--crate-type", "rlib", "--crate-type", "dylib",
    "--crate-type", "cdylib", "--crate-type", "staticlib", "--crate-type", "proc-macro",
    "--print=cfg",
)
"""How cargo asks rustc for a target's cfg set (``TargetInfo::new``, minus the other
``--print``s it combines in the same call). The crate types matter: with ``dylib``,
``cdylib`` or ``proc-macro`` requested, rustc turns ``crt-static`` off on targets that
cannot link it into dynamic libraries (musl, wasip1, ...), and prints ``proc_macro``
(which cargo then drops). So cargo sees e.g. no ``target_feature="crt-static"`` on
``x86_64-unknown-linux-musl``, unlike a bare ``rustc --print cfg``. Run with an empty
stdin."""


def cfg_line(name: str, value: str | None) -> str:
    """An option as ``rustc --print cfg`` prints it: ``name`` or ``name="value"``."""
    return name if value is None else f'{name}="{value}"'


def _normalize(cfgs: Iterable[CfgPair]) -> tuple[CfgPair, ...]:
    """rustc's print order (sorted printed lines, no duplicates) minus what cargo drops."""
    unique = {(n, v) for n, v in cfgs if not (v is None and n in _FILTERED_NAMES)}
    return tuple(sorted(unique, key=lambda pair: cfg_line(*pair)))


@dataclass(frozen=True)
class TargetInfo:
    """A target name and its cfg set (``cfgs`` in rustc's print order)."""

    triple: str
    cfgs: tuple[CfgPair, ...]

    @cached_property
    def cfg_set(self) -> frozenset[CfgPair]:
        """``cfgs`` as a set, for evaluation."""
        return frozenset(self.cfgs)

    def has(self, name: str, value: str | None = None) -> bool:
        """Whether the name option (``value`` None) or the exact pair is set."""
        return (name, value) in self.cfg_set

    def names(self) -> tuple[str, ...]:
        """The name options (``unix``, ``debug_assertions``, ...), in order."""
        return tuple(n for n, v in self.cfgs if v is None)

    def keys(self) -> tuple[str, ...]:
        """The distinct keys of key/value options, in order of first appearance."""
        return tuple(dict.fromkeys(n for n, v in self.cfgs if v is not None))

    def values(self, key: str) -> tuple[str, ...]:
        """All values of ``key`` (e.g. every ``target_feature``), in order."""
        return tuple(v for n, v in self.cfgs if n == key and v is not None)

    def value(self, key: str) -> str | None:
        """The first value of ``key``, or None if it has none."""
        for n, v in self.cfgs:
            if n == key and v is not None:
                return v
        return None

    @property
    def family(self) -> tuple[str, ...]:
        """``target_family`` values (may be several, e.g. ``unix`` and ``wasm``)."""
        return self.values("target_family")

    @property
    def os(self) -> str | None:
        return self.value("target_os")

    @property
    def arch(self) -> str | None:
        return self.value("target_arch")

    @property
    def env(self) -> str | None:
        """``target_env`` (often ``""``)."""
        return self.value("target_env")

    @property
    def vendor(self) -> str | None:
        return self.value("target_vendor")

    @property
    def abi(self) -> str | None:
        """``target_abi`` (often ``""``)."""
        return self.value("target_abi")

    @property
    def endian(self) -> str | None:
        """``"little"`` or ``"big"``."""
        return self.value("target_endian")

    @property
    def pointer_width(self) -> str | None:
        """``target_pointer_width`` as rustc prints it (``"64"``)."""
        return self.value("target_pointer_width")

    @property
    def panic(self) -> str | None:
        """The default panic strategy (``"unwind"`` or ``"abort"``)."""
        return self.value("panic")

    @property
    def features(self) -> tuple[str, ...]:
        """Enabled ``target_feature`` values."""
        return self.values("target_feature")

    @property
    def has_atomic(self) -> tuple[str, ...]:
        """``target_has_atomic`` values (``"8"`` … ``"128"``, ``"ptr"``)."""
        return self.values("target_has_atomic")

    @property
    def is_unix(self) -> bool:
        return self.has("unix")

    @property
    def is_windows(self) -> bool:
        return self.has("windows")

    def with_cfgs(self, extra: Iterable[str | CfgPair]) -> "TargetInfo":
        """This target with extra ``--cfg`` options (``"name"``, ``'key="v"'`` or pairs)."""
        pairs = [_cfg_spec(item) for item in extra]
        if not pairs:
            return self
        return TargetInfo(self.triple, _normalize([*self.cfgs, *pairs]))

    def print_cfg(self) -> str:
        """The cfg set in the format of ``rustc --print cfg`` (one option per line)."""
        return "".join(cfg_line(n, v) + "\n" for n, v in self.cfgs)

    @classmethod
    def from_rustc_output(cls, triple: str, output: str) -> "TargetInfo":
        """Read ``rustc --print cfg`` output the way cargo does (each line a cfg option)."""
        pairs: list[CfgPair] = []
        for line in output.splitlines():
            try:
                option = parse_cfg_option(line)
            except ParseError as err:
                raise NocargoError(
                    "failed to parse the cfg from `rustc --print=cfg`",
                    notes=(err.render(), "rustc printed:", *("  " + l for l in output.splitlines())),
                ) from None
            pairs.append(option.key)
        return cls(triple, _normalize(pairs))


# --- the built-in database ------------------------------------------------------------


@cache
def _database() -> Mapping[str, object]:
    text = (resources.files("nocargo_py") / "data" / "targets.json").read_text("utf-8")
    return json.loads(text)


def crt_static_applies(triple: str) -> bool:
    """Whether ``-C target-feature=+crt-static`` adds ``target_feature="crt-static"`` to the
    built-in target's cfg set (rustc ignores it on targets without static CRT support; it
    changes nothing else on any of them, which ``scripts/gen_targets.py`` checks)."""
    return triple in _crt_static_targets()


@cache
def _crt_static_targets() -> frozenset[str]:
    return frozenset(_database().get("crt_static_targets", ()))  # type: ignore[union-attr]


def database_rustc_version() -> str:
    """The ``rustc -vV`` first line of the rustc the built-in database came from."""
    return str(_database()["rustc"])


def _split_line(line: str) -> CfgPair:
    # Database lines come from rustc and were validated when generated (and in tests).
    name, sep, rest = line.partition("=")
    if not sep:
        return (name, None)
    return (name, rest[1:-1])


@cache
def _builtin(triple: str) -> TargetInfo | None:
    lines = _database()["targets"].get(triple)  # type: ignore[union-attr]
    if lines is None:
        return None
    return TargetInfo(triple, _normalize(_split_line(line) for line in lines))


def list_targets(rustc: str | None = None) -> tuple[str, ...]:
    """Every built-in target name (``rustc --print target-list``); live if ``rustc`` given."""
    if rustc is not None:
        return tuple(_run_rustc(rustc, ["--print", "target-list"]).split())
    return tuple(_database()["targets"])  # type: ignore[arg-type]


# --- building a TargetInfo ----------------------------------------------------------


def target_info(
    triple: str,
    *,
    rustc: str | None = None,
    extra_cfgs: Iterable[str | CfgPair] = (),
    custom_target_json: Path | None = None,
    rustflags: Sequence[str] = (),
) -> TargetInfo:
    """The :class:`TargetInfo` of ``triple`` (see the module docstring for the sources).

    ``extra_cfgs``: ``--cfg`` values (``"foo"``, ``'key="value"'`` or ``(key, value)``).
    ``rustflags``: more flags for a live rustc (``-C target-feature=+avx2``...); without
    ``rustc`` only ``--cfg`` flags are understood.
    """
    extra = list(extra_cfgs)
    if custom_target_json is None and triple.endswith(".json"):
        custom_target_json = Path(triple)
        triple = custom_target_json.stem
    if custom_target_json is not None:
        stem = Path(custom_target_json).stem
        if triple not in (stem, str(custom_target_json)):
            raise NocargoError(
                f"target name `{triple}` does not match the custom target file "
                f"`{custom_target_json}` (cargo names a custom target after its file stem, `{stem}`)"
            )
        spec = Path(custom_target_json)
        if not spec.is_file():
            raise NocargoError(f"custom target specification `{spec}` does not exist")
        args = [*CARGO_CFG_QUERY, "--target", str(spec.resolve()), "-Zunstable-options"]
        output = _run_rustc(rustc or "rustc", args + list(rustflags) + _cfg_flags(extra),
                            env={"RUSTC_BOOTSTRAP": "1"})
        return TargetInfo.from_rustc_output(stem, output)
    if rustc is not None:
        args = [*CARGO_CFG_QUERY, "--target", triple]
        output = _run_rustc(rustc, args + list(rustflags) + _cfg_flags(extra))
        return TargetInfo.from_rustc_output(triple, output)

    info = _builtin(triple)
    if info is None:
        raise _unknown_target(triple)
    extra.extend(_cfgs_from_rustflags(rustflags))
    return info.with_cfgs(extra)


def _unknown_target(triple: str) -> NocargoError:
    import difflib

    notes = []
    close = difflib.get_close_matches(triple, list_targets(), n=3, cutoff=0.75)
    if close:
        notes.append("help: did you mean " + ", ".join(f"`{c}`" for c in close) + "?")
    notes.append(
        "help: `nocargo-py cfg --list-targets` lists them; pass --rustc PATH to ask a "
        "live rustc, or --target PATH.json for a custom target"
    )
    return NocargoError(
        f"unknown target `{triple}` (not a built-in target of {database_rustc_version()})",
        notes=notes,
    )


def _cfgs_from_rustflags(rustflags: Sequence[str]) -> list[str]:
    specs: list[str] = []
    flags = list(rustflags)
    index = 0
    while index < len(flags):
        flag = flags[index]
        if flag == "--cfg" and index + 1 < len(flags):
            specs.append(flags[index + 1])
            index += 2
            continue
        if flag.startswith("--cfg="):
            specs.append(flag[len("--cfg="):])
            index += 1
            continue
        raise NocargoError(
            f"rustflag `{flag}` may change the target's cfg set; pass --rustc PATH so that "
            "rustc is asked (only `--cfg` flags are understood without it)"
        )
    return specs


_CFG_SPEC_HELP = 'expected `key` or `key="value"`'


def _cfg_spec(item: str | CfgPair) -> CfgPair:
    """A ``--cfg`` value as rustc accepts it, as the pair cargo then reads back."""
    if isinstance(item, tuple):
        name, value = item
        if value is None:
            return _cfg_spec(name)
        return _cfg_spec(f'{name}="{value}"')
    text = item
    try:
        option = parse_cfg_option(text)
    except ParseError:
        raise NocargoError(f"invalid `--cfg` argument: `{text}` ({_CFG_SPEC_HELP})") from None
    if not option.raw and option.name in ("true", "false"):
        raise NocargoError(f"invalid `--cfg` argument: `{text}` ({_CFG_SPEC_HELP})")
    if isinstance(option, CfgKeyValue) and "\\" in option.value:
        raise NocargoError(
            f"`--cfg {text}`: escapes in cfg values are only understood by rustc; "
            "pass --rustc PATH"
        )
    return option.key  # `proc_macro` is dropped later by _normalize, as cargo drops it


def _cfg_flags(extra: Sequence[str | CfgPair]) -> list[str]:
    flags: list[str] = []
    for item in extra:
        if isinstance(item, tuple):
            name, value = item
            item = cfg_line(name, value)
        flags += ["--cfg", item]
    return flags


def _run_rustc(rustc: str, args: list[str], env: Mapping[str, str] | None = None) -> str:
    import subprocess

    full_env = dict(os.environ)
    full_env.pop("RUSTC_LOG", None)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run([rustc, *args], capture_output=True, text=True, env=full_env,
                              stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise NocargoError(f"could not run `{rustc}`: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise NocargoError(
            f"`{rustc} {' '.join(args)}` failed (exit status {proc.returncode})",
            notes=tuple(proc.stderr.rstrip().splitlines()),
        )
    return proc.stdout


# --- the host -----------------------------------------------------------------------


def host_triple(rustc: str | None = None) -> str:
    """The host's target triple.

    With ``rustc``: the ``host:`` line of ``rustc -vV`` (what cargo uses). Without: derived
    from the running Python (OS, machine, libc) for the hosts rustc ships for.
    """
    if rustc is not None:
        for line in _run_rustc(rustc, ["-vV"]).splitlines():
            if line.startswith("host: "):
                return line[len("host: "):].strip()
        raise NocargoError(f"`{rustc} -vV` did not print a `host:` line")
    triple = _guess_host()
    if triple is None:
        raise NocargoError(
            f"cannot tell the host triple of this machine ({sys.platform}, "
            f"{_machine()}); pass --rustc PATH or --target TRIPLE"
        )
    return triple


_LINUX_ARCH = {
    "x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64",
    "i686": "i686", "i586": "i686", "i386": "i686", "riscv64": "riscv64gc",
    "ppc64le": "powerpc64le", "ppc64": "powerpc64", "s390x": "s390x",
    "loongarch64": "loongarch64",
}


def _machine() -> str:
    """``platform.machine()`` without importing :mod:`platform` (~2 ms) where ``uname`` exists."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform as _platform

    return _platform.machine()


def _is_glibc() -> bool:
    """What ``platform.libc_ver()`` answers first: glibc tells its version through confstr."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


def _guess_host() -> str | None:
    machine = _machine().lower()
    if sys.platform.startswith("linux"):
        if machine.startswith("armv7"):
            return "armv7-unknown-linux-gnueabihf"
        arch = _LINUX_ARCH.get(machine)
        if arch is None:
            return None
        env = "gnu" if _is_glibc() else "musl"
        return f"{arch}-unknown-linux-{env}"
    if sys.platform == "darwin":
        return {"x86_64": "x86_64-apple-darwin", "arm64": "aarch64-apple-darwin"}.get(machine)
    if sys.platform == "win32":
        return {"amd64": "x86_64-pc-windows-msvc", "x86_64": "x86_64-pc-windows-msvc",
                "arm64": "aarch64-pc-windows-msvc", "x86": "i686-pc-windows-msvc"}.get(machine)
    if sys.platform.startswith("freebsd"):
        return {"amd64": "x86_64-unknown-freebsd", "arm64": "aarch64-unknown-freebsd"}.get(machine)
    return None


# --- build script environment -------------------------------------------------------

_ENVIFY = re.compile(r"-")


def cfg_env_vars(
    target: TargetInfo,
    *,
    features: Iterable[str] = (),
    debug_assertions: bool = True,
) -> dict[str, str]:
    """The ``CARGO_CFG_*`` variables cargo sets when running a build script for ``target``.

    One variable per cfg key, ``CARGO_CFG_<KEY>`` (upper case): name options get an empty
    value, keys with values get them joined with ``,`` in rustc's print order.
    ``CARGO_CFG_FEATURE`` is always set: the unit's enabled ``features`` (sorted, as cargo
    orders them) followed by any ``feature`` values of the cfg set (from ``--cfg``).
    ``CARGO_CFG_DEBUG_ASSERTIONS`` follows the profile (cargo >= 1.93), not the cfg set:
    present iff ``debug_assertions``. Returned sorted by variable name.
    """
    grouped: dict[str, list[str]] = {}
    for name, value in target.cfgs:
        if name in ("debug_assertions", "feature"):
            continue
        values = grouped.setdefault(name, [])
        if value is not None:
            values.append(value)
    grouped["feature"] = sorted(features) + list(target.values("feature"))
    env = {f"CARGO_CFG_{_ENVIFY.sub('_', name.upper())}": ",".join(values)
           for name, values in grouped.items()}
    if debug_assertions:
        env["CARGO_CFG_DEBUG_ASSERTIONS"] = ""
    return dict(sorted(env.items()))
