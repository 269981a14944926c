"""Generation-time build settings: rustflags, linker and ``[env]``, as cargo reads them.

Cargo decides these when it starts a build; ``nocargo-py gen`` decides them when it writes
the plan (the Nix build sees exactly what the plan says):

* **rustflags** of a compile kind (cargo's ``extra_args``), first source that is set:
  ``CARGO_ENCODED_RUSTFLAGS`` (split on ``\\x1f``), ``RUSTFLAGS`` (split on whitespace),
  ``target.<triple>.rustflags`` followed by every matching ``target.'cfg(..)'.rustflags``,
  ``build.rustflags``; the cfg tables are matched against the cfg set the flags give,
  again until the flags settle (cargo's ``TargetInfo::new``). Host units get them only
  when not cross compiling (no ``--target``); with ``--target`` they get none (cargo's
  default ``target-applies-to-host``).
* **linker**: ``target.<triple>.linker`` or the one matching ``target.'cfg(..)'.linker``
  (against the kind's final cfg set; ``CARGO_TARGET_<TRIPLE>_LINKER`` included) →
  ``-C linker=`` and ``RUSTC_LINKER``.
* **[env]**: every entry (the Nix build environment is clean, so "not already set"
  always holds); a ``relative = true`` value is a path (relative to the config file's
  root, as cargo resolves it), which the plan carries as a path source (``env_paths``)
  that Nix imports into the store; a path that does not exist is left out with a warning.
* the **cfg set** of each kind: the built-in target database plus ``--cfg`` flags from its
  rustflags and ``-C target-feature=±crt-static`` (where the target database says rustc
  honours it); flags that change the cfg set otherwise (other target features,
  ``-C target-cpu``, ``-C panic``, ``-Z``…) make us ask the ``rustc`` on ``PATH``. The
  ``[target.'cfg(..)'.dependencies]`` tables are evaluated against it
  (:func:`nocargo_py.resolve.features.platform_matcher`), as cargo evaluates them against each kind's ``TargetInfo``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..cfg import Platform, TargetInfo, crt_static_applies, target_info
from ..config import CargoConfig
from ..errors import NocargoError
from ..shell import Shell

__all__ = ["BuildSettings", "KindSettings", "load_build_settings"]


@dataclass(frozen=True)
class KindSettings:
    """What one compile kind (the host, or a ``--target`` triple) is built with."""

    triple: str
    rustflags: tuple[str, ...]
    linker: str | None
    info: TargetInfo


@dataclass(frozen=True)
class BuildSettings:
    """Settings of one generation: per compile kind (``None`` = host) and ``[env]``."""

    host: str
    explicit: bool
    kinds: Mapping[str | None, KindSettings]
    env: tuple[tuple[str, str], ...] = ()
    #: ``[env]`` entries with ``relative = true``: name and the (absolute) path they name.
    env_paths: tuple[tuple[str, Path], ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def kind(self, kind: str | None) -> KindSettings:
        return self.kinds[kind]


_CFG_CHANGING = ("target-feature", "target-cpu", "panic", "relocation-model",
                 "code-model", "sanitizer", "crt-static")


def _codegen_options(flags: Sequence[str]) -> list[str]:
    """The values of ``-C x`` / ``-Cx`` / ``--codegen x`` flags."""
    out = []
    for i, flag in enumerate(flags):
        if flag in ("-C", "--codegen") and i + 1 < len(flags):
            out.append(flags[i + 1])
        elif flag.startswith("-C") and len(flag) > 2:
            out.append(flag[2:])
        elif flag.startswith("--codegen="):
            out.append(flag[len("--codegen="):])
    return out


def _feature_edits(flags: Sequence[str]) -> list[bool] | None:
    """The ``-C target-feature=`` edits we can apply without rustc (``True`` = add): adding
    or removing ``crt-static``, which implies nothing and nothing implies (whether adding it
    takes effect is in the target database); ``None`` when rustc must be asked (any other
    feature: removing ``sse`` also removes ``sse2``, adding one may add others)."""
    edits: list[tuple[bool, str]] = []
    for opt in _codegen_options(flags):
        if not opt.startswith("target-feature="):
            continue
        for item in opt[len("target-feature="):].split(","):
            item = item.strip()
            if not item:
                continue
            if item[0] not in "+-":
                return None
            if item[1:] != "crt-static":
                return None
            edits.append(item[0] == "+")
    return edits


def _affects_cfg(flags: Sequence[str]) -> bool:
    """Whether ``flags`` may change the cfg set in a way only rustc can tell."""
    for flag in flags:
        if flag.startswith("-Z") or flag == "--target" or flag.startswith("--target="):
            return True
    for opt in _codegen_options(flags):
        if opt.startswith("target-feature="):
            continue
        if any(opt.startswith(word) for word in _CFG_CHANGING):
            return True
    return _feature_edits(flags) is None


def _cfg_flags(flags: Sequence[str]) -> list[str]:
    out = []
    i = 0
    while i < len(flags):
        f = flags[i]
        if f == "--cfg" and i + 1 < len(flags):
            out.append(flags[i + 1])
            i += 2
            continue
        if f.startswith("--cfg="):
            out.append(f[len("--cfg="):])
        i += 1
    return out


def kind_target_info(triple: str, rustflags: Sequence[str]) -> TargetInfo:
    """The cfg set cargo sees for ``triple`` built with ``rustflags``: the database plus
    ``--cfg`` flags and simple ``-C target-feature`` edits; rustc on ``PATH`` is asked
    for anything else that changes the cfg set (``-C target-cpu``, ``+avx2``...)."""
    if rustflags and _affects_cfg(rustflags):
        rustc = shutil.which("rustc")
        if rustc is None:
            raise NocargoError(
                f"rustflags {' '.join(rustflags)!r} may change the cfg set of `{triple}`; "
                "asking rustc needs `rustc` on PATH")
        return target_info(triple, rustc=rustc, rustflags=list(rustflags))
    info = target_info(triple, extra_cfgs=_cfg_flags(rustflags))
    edits = _feature_edits(rustflags) or []
    if edits:
        static = ("target_feature", "crt-static")
        cfgs = [c for c in info.cfgs if c != static]
        # rustc: on when any `+crt-static` is given (wherever a `-crt-static` is)
        if any(edits) and crt_static_applies(triple):
            cfgs.append(static)
        cfgs.sort(key=lambda c: c[0] if c[1] is None else f'{c[0]}="{c[1]}"')
        info = TargetInfo(info.triple, tuple(cfgs))
    return info


def _split_encoded(value: str) -> tuple[str, ...]:
    return tuple(value.split("\x1f")) if value else ()


def _target_rustflags(config: CargoConfig | None, triple: str, base: TargetInfo) -> tuple[str, ...] | None:
    if config is None:
        return None
    found: list[str] = []
    any_set = False
    triple_flags = config.target(triple).rustflags
    if triple_flags is not None:
        any_set = True
        found += triple_flags
    for key in config.target_keys():
        if not key.startswith("cfg("):
            continue
        if Platform.parse(key).matches(base):
            flags = config.target(key).rustflags
            if flags is not None:
                any_set = True
                found += flags
    return tuple(found) if any_set else None


def rustflags_for(triple: str, config: CargoConfig | None, env: Mapping[str, str],
                  base: TargetInfo) -> tuple[str, ...]:
    """Cargo's rustflags for a target kind built for ``triple`` (see the module docstring)."""
    encoded = env.get("CARGO_ENCODED_RUSTFLAGS")
    if encoded is not None:
        return _split_encoded(encoded)
    plain = env.get("RUSTFLAGS")
    if plain is not None:
        return tuple(plain.split())
    from_target = _target_rustflags(config, triple, base)
    if from_target is not None:
        return from_target
    if config is not None:
        build = config.build_rustflags()
        if build is not None:
            return tuple(build)
    return ()


def linker_for(triple: str, config: CargoConfig | None, base: TargetInfo) -> str | None:
    """``target.<triple>.linker`` or the single matching ``target.'cfg(..)'.linker``."""
    if config is None:
        return None
    linker = config.target(triple).linker
    if linker is not None:
        return linker
    matching = []
    for key in config.target_keys():
        if key.startswith("cfg(") and Platform.parse(key).matches(base):
            value = config.target(key).linker
            if value is not None:
                matching.append((key, value))
    if len(matching) > 1:
        raise NocargoError(
            f"several `target.'cfg(..)'.linker` tables match `{triple}`: "
            + ", ".join(k for k, _ in matching))
    return matching[0][1] if matching else None


def _check_linker(linker: str | None, triple: str) -> str | None:
    if linker is not None and os.path.isabs(linker):
        raise NocargoError(
            f"the linker configured for `{triple}` is a path on this machine (`{linker}`); a "
            "generated Cargo.nix must not name machine paths",
            notes=("configure a linker by name (found on PATH in the Nix build, e.g. from "
                   "`crateOverrides` nativeBuildInputs), or pass `-C linker=` through "
                   "the `extraRustcFlags` argument of Cargo.nix",))
    return linker


#: how often cargo re-asks rustc before giving up on rustflags that never settle
_MAX_TURNS = 20


def _kind_settings(triple: str, config: CargoConfig | None, env: Mapping[str, str]) -> KindSettings:
    """A compile kind that gets rustflags. As cargo's ``TargetInfo::new``: the
    ``target.'cfg(..)'.rustflags`` are matched against the cfg set the rustflags found so far
    give, again until they no longer change (``+crt-static`` in ``target.<triple>`` can
    switch on a ``cfg(target_feature = "crt-static")`` table); the linker is matched against
    the final cfg set."""
    info = target_info(triple)
    flags = rustflags_for(triple, config, env, info)
    for _ in range(_MAX_TURNS):
        info = kind_target_info(triple, flags)
        again = rustflags_for(triple, config, env, info)
        if again == flags:
            return KindSettings(triple, flags, _check_linker(linker_for(triple, config, info), triple),
                                info)
        flags = again
    raise NocargoError(
        f"the rustflags of `{triple}` do not settle: each `target.'cfg(..)'.rustflags` table "
        f"that matches changes which ones match (gave up after {_MAX_TURNS} rounds)")


def load_build_settings(host: str, target: str | None, config: CargoConfig | None,
                        env: Mapping[str, str] | None = None,
                        shell: Shell | None = None) -> BuildSettings:
    """Settings for one cargo-like invocation: ``target`` is the ``--target`` triple, or
    ``None`` for a build without ``--target`` (host and target are the same kind)."""
    env = dict(os.environ if env is None else env)
    warnings: list[str] = []
    kinds: dict[str | None, KindSettings] = {}
    if target is None:
        kinds[None] = _kind_settings(host, config, env)
    else:
        kinds[target] = _kind_settings(target, config, env)
        host_base = target_info(host)
        kinds[None] = KindSettings(host, (), _check_linker(linker_for(host, config, host_base), host),
                                   host_base)
    env_vars: list[tuple[str, str]] = []
    env_paths: list[tuple[str, Path]] = []
    if config is not None:
        for name, value in sorted(config.env_vars().items()):
            if not value.relative:
                env_vars.append((name, value.value))
                continue
            path = Path(value.resolve(config.cwd))
            if path.exists():
                env_paths.append((name, path))
                continue
            msg = (f"[env] `{name}` is `relative = true` and names `{value.value}`, which does "
                   "not exist: a Nix build can only see existing paths (imported into the "
                   "store), so it is left out of the plan")
            warnings.append(msg)
            if shell is not None:
                shell.warn(msg)
    return BuildSettings(host=host, explicit=target is not None, kinds=kinds,
                         env=tuple(env_vars), env_paths=tuple(env_paths),
                         warnings=tuple(warnings))

