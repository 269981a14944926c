"""``[target.KEY]`` keys: :class:`Platform` is either a target name or a cfg expression.

Rules (cargo's ``cargo_platform::Platform``):

* a key that starts with ``cfg(`` and ends with ``)`` is a cfg expression (case-sensitive
  prefix; ``CFG(unix)`` is not one) and matches when the expression holds for the target's
  cfg set;
* anything else is a target name: every character must be alphanumeric (Rust's Unicode
  definition), ``_``, ``-`` or ``.``; it matches only a target with exactly that name (the
  ``--target`` triple, the host triple, or the file stem of a custom target JSON) — never
  through cfg logic.

Cargo warns (but still evaluates) when a cfg key mentions ``test``, ``debug_assertions``,
``proc_macro`` or the ``feature`` key (:meth:`Platform.warnings`), and when a key/value
option uses the keyword ``true``/``false`` as key (:meth:`Platform.keyword_warnings`).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from os import PathLike
from typing import TYPE_CHECKING

from ..errors import ParseError
from .ast import CfgExpr, CfgKeyValue, CfgName, iter_options, render
from .evaluate import evaluate
from .parser import WHAT, parse_cfg

if TYPE_CHECKING:
    from .targets import TargetInfo

__all__ = ["Platform", "is_rust_alphanumeric"]

_DOCS_DEPS = (
    "https://doc.rust-lang.org/cargo/reference/specifying-dependencies.html"
    "#platform-specific-dependencies"
)
_DOCS_FEATURES = "https://doc.rust-lang.org/cargo/reference/features.html"
_UNSUPPORTED_NAMES = frozenset({"test", "debug_assertions", "proc_macro"})


@dataclass(frozen=True)
class Platform:
    """A parsed ``[target.KEY]`` key: exactly one of ``name`` and ``cfg`` is set."""

    name: str | None = None
    cfg: CfgExpr | None = None

    @staticmethod
    def parse(key: str) -> "Platform":
        """Parse a ``[target.KEY]`` key (or an index entry's ``target``); cached.

        Raises :class:`~nocargo_py.errors.ParseError` with cargo's message.
        """
        return _parse_platform(key)

    @property
    def is_cfg(self) -> bool:
        return self.cfg is not None

    def matches(self, target: "TargetInfo") -> bool:
        """Whether dependencies under this key apply when building for ``target``."""
        if self.cfg is None:
            return self.name == target.triple
        return evaluate(self.cfg, target.cfg_set)

    def warnings(self) -> tuple[str, ...]:
        """cargo's warnings for this key (``Platform::check_cfg_attributes``), in order."""
        if self.cfg is None:
            return ()
        found: list[str] = []
        for option in iter_options(self.cfg):
            if isinstance(option, CfgName) and option.name in _UNSUPPORTED_NAMES:
                found.append(  # cargo shows the identifier as written (`r#test` stays raw)
                    f"Found `{option}` in `target.'cfg(...)'.dependencies`. "
                    "This value is not supported for selecting dependencies and will not "
                    f"work as expected. To learn more visit {_DOCS_DEPS}"
                )
            elif isinstance(option, CfgKeyValue) and option.name == "feature":
                found.append(
                    "Found `feature = ...` in `target.'cfg(...)'.dependencies`. "
                    "This key is not supported for selecting dependencies and will not "
                    f"work as expected. Use the [features] section instead: {_DOCS_FEATURES}"
                )
        return tuple(found)

    def keyword_warnings(self, manifest_path: str | PathLike[str] | None = None) -> tuple[str, ...]:
        """cargo's future-incompatibility warnings for ``true``/``false`` used as a key.

        (``Platform::check_cfg_keywords``; a bare ``true``/``false`` is a literal since
        cargo 1.88, so only ``true = "…"`` still triggers it.) ``manifest_path`` is shown
        in brackets at the start, as cargo does.
        """
        if self.cfg is None:
            return ()
        prefix = f"[{manifest_path}] " if manifest_path is not None else ""
        found: list[str] = []
        for option in iter_options(self.cfg):
            if option.raw or option.name not in ("true", "false"):
                continue
            if isinstance(option, CfgName):  # pragma: no cover - parsed as a literal
                continue
            found.append(
                f"{prefix}future-incompatibility: `cfg({option})` is deprecated as "
                f"`{option.name}` is a keyword and not an identifier and should not have "
                "have been accepted in this position.\n"
                " | this was previously accepted by Cargo but is being phased out; it will "
                "become a hard error in a future release!\n"
                " |\n"
                f" | help: use raw-idents instead: `cfg(r#{option.name})`"
            )
        return tuple(found)

    def __str__(self) -> str:
        if self.cfg is None:
            return self.name or ""
        return f"cfg({render(self.cfg)})"


@lru_cache(maxsize=16384)
def _parse_platform(key: str) -> Platform:
    if key.startswith("cfg(") and key.endswith(")") and len(key) >= 5:
        return Platform(cfg=parse_cfg(key[4:-1]))
    _validate_name(key)
    return Platform(name=key)


def _validate_name(key: str) -> None:
    for index, ch in enumerate(key):
        if ch == "_" or ch == "-" or ch == "." or is_rust_alphanumeric(ch):
            continue
        if "(" in key:
            where = key.index("(")
            message = "unexpected `(` character, cfg expressions must start with `cfg(`"
        else:
            where = index
            message = f"unexpected character {ch} in target name"
        raise ParseError(
            f"invalid target specifier: {message}", source=key, span=(where, where + 1), what=WHAT
        )


@cache
def _alnum_table() -> tuple[list[int], list[int]]:
    data = json.loads(
        (resources.files("nocargo_py") / "data" / "rust_alphanumeric.json").read_text("utf-8")
    )
    starts = [r[0] for r in data["ranges"]]
    ends = [r[1] for r in data["ranges"]]
    return starts, ends


def is_rust_alphanumeric(ch: str) -> bool:
    """Rust's ``char::is_alphanumeric`` (Unicode Alphabetic or Numeric) for one character."""
    cp = ord(ch)
    if cp < 0x80:
        return ch.isascii() and ch.isalnum()
    starts, ends = _alnum_table()
    index = bisect.bisect_right(starts, cp) - 1
    return index >= 0 and cp <= ends[index]
