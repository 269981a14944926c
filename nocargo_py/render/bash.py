"""Quoting for the bash text the builders ``eval``: words, arrays, references to outputs.

The static part of every unit (rustc arguments, environment, closure ids...) reaches the
builder as one string of bash assignments, printed here, so that Nix evaluates one string
per unit instead of lists and attribute sets. Every plan string is single-quoted
(:func:`bash_word`), which bash reads back exactly for any text without NUL (which Nix
strings cannot hold either). A :class:`Ref` is the output path of another unit: the
builder's ``refs`` array, filled by Nix, at a fixed position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from ..errors import NocargoError

__all__ = ["Ref", "bash_word", "bash_assign", "bash_array"]

_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@dataclass(frozen=True)
class Ref:
    """``${refs[index]}`` followed by ``suffix``: a path inside another unit's output."""

    index: int
    suffix: str = ""


def bash_word(value: str | Ref, prefix: str = "") -> str:
    """One bash word that expands to exactly ``prefix + value`` (a :class:`Ref` expands
    to the output path at its index, then its suffix)."""
    if isinstance(value, Ref):
        return _quote(prefix) + f'"${{refs[{value.index}]}}"' + _quote(value.suffix)
    return _word(prefix + value)


@lru_cache(maxsize=65536)
def _word(text: str) -> str:
    """:func:`bash_word` of a plain string (memoised: a plan repeats its flags, names
    and paths across thousands of units)."""
    return _quote(text) or "''"


def _quote(text: str) -> str:
    if not text or _SAFE.fullmatch(text):
        return text
    if "\0" in text:
        raise NocargoError(f"cannot pass a string containing a NUL character to a builder: {text!r}")
    return "'" + text.replace("'", "'\\''") + "'"


def bash_assign(name: str, value: str | Ref) -> str:
    """``name=value`` (a scalar)."""
    return f"{name}={bash_word(value)}"


def bash_array(name: str, values: Iterable[str | Ref]) -> str:
    """``name=(word ...)`` (an indexed array)."""
    return f"{name}=(" + " ".join([_word(v) if type(v) is str else bash_word(v)
                                   for v in values]) + ")"
