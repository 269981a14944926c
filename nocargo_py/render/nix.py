"""Escaping for everything that reaches Nix: strings, attribute names, paths, values.

This is the *only* place that turns Python data into Nix source text. Manifests and index
data are untrusted, so every string goes through :func:`nix_string` (and attribute names
through :func:`nix_attr_name`); a plan value is printed with :func:`to_nix`. Raw Nix
expressions can only be made here (:func:`nix_relative_path`), wrapped in :class:`NixExpr`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import NocargoError

__all__ = ["NixExpr", "nix_string", "nix_attr_name", "nix_relative_path", "to_nix", "write_nix"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")
_KEYWORDS = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec",
                       "inherit", "or", "true", "false", "null"})
#: (text, its escape), backslash first: the later escapes insert backslashes of their own
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("${", "\\${"), ("\n", "\\n"), ("\r", "\\r"),
            ("\t", "\\t"))


@dataclass(frozen=True)
class NixExpr:
    """A piece of Nix source produced by this module (never from untrusted text)."""

    text: str


@lru_cache(maxsize=65536)
def nix_string(value: str) -> str:
    """``value`` as a double-quoted Nix string literal that evaluates to exactly ``value``.

    Escapes backslash, double quote, ``${`` (interpolation), newline, CR and tab. Nix
    strings cannot hold NUL, so a NUL character is an error.
    """
    if "\0" in value:
        raise NocargoError(f"cannot write a string containing a NUL character to Nix: {value!r}")
    # The escapes do not overlap and the backslash goes first, so one pass per escape is
    # one left-to-right pass over all of them (and much faster on long unit data).
    for plain, escaped in _ESCAPES:
        if plain in value:
            value = value.replace(plain, escaped)
    return '"' + value + '"'


@lru_cache(maxsize=65536)
def nix_attr_name(name: str) -> str:
    """An attribute name: bare when it is a plain identifier, else a quoted string."""
    if _IDENT.fullmatch(name) and name not in _KEYWORDS:
        return name
    return nix_string(name)


def nix_relative_path(rel: str) -> NixExpr:
    """A path relative to the generated file's directory: ``./.`` or ``(./. + "/rel")``.

    ``rel`` is a POSIX path (``..`` allowed, Nix normalises it); absolute paths are
    refused because generated files must not name machine paths.
    """
    if rel.startswith("/"):
        raise NocargoError(f"refusing to write the absolute path `{rel}` into generated Nix")
    rel = rel.strip("/")
    if rel in ("", "."):
        return NixExpr("./.")
    return NixExpr(f"(./. + {nix_string('/' + rel)})")


def to_nix(value: Any, indent: int = 0) -> str:
    """Print JSON-like data (dict/list/str/int/bool/None, :class:`NixExpr`) as Nix.

    Attribute sets are printed with sorted keys, one per line; lists of scalars on one
    line. The output is deterministic.
    """
    pad = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{ }"
        inner = "".join(
            f"{pad}  {nix_attr_name(str(k))} = {to_nix(value[k], indent + 1)};\n"
            for k in sorted(value, key=str)
        )
        return "{\n" + inner + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            return "[ " + " ".join(to_nix(v) for v in value) + " ]"
        inner = "".join(f"{pad}  {to_nix(v, indent + 1)}\n" for v in value)
        return "[\n" + inner + pad + "]"
    return _scalar(value)


# -- the direct writer ----------------------------------------------------------------------

_SCALAR_TYPES = (str, bool, int, type(None), NixExpr, enum.Enum)
#: dataclass type -> ((field name, rendered attribute name), ...) in sorted order.
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _fields_of(t: type) -> tuple[tuple[str, str], ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = _FIELDS[t] = tuple((f.name, nix_attr_name(f.name))
                                   for f in sorted(dataclasses.fields(t), key=lambda f: f.name))
    return names


def write_nix(value: Any, indent: int = 0,
              replace: Callable[[Any], Any] | None = None) -> str:
    """Exactly ``to_nix(data, indent)`` where ``data`` is ``value`` turned into JSON-like
    data (dataclasses become attribute sets of their fields, enums their values, as
    :func:`nocargo_py.plan.Plan.to_data` does), without building that data first.

    ``replace(obj)`` may return a substitute for a dataclass instance before it is
    printed (e.g. a dict with a :class:`NixExpr` path), or ``None`` to keep it.
    """
    out: list[str] = []
    _write(value, indent, out, replace)
    return "".join(out)


def _scalar(value: Any) -> str:
    t = type(value)
    if t is str:
        return nix_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if t is int:
        return str(value) if value >= 0 else f"({value})"
    if t is NixExpr:
        return value.text
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if isinstance(value, int):
        return str(value) if value >= 0 else f"({value})"
    if isinstance(value, str):
        return nix_string(value)
    raise TypeError(f"cannot print {type(value).__name__} as Nix")


def _is_compound(value: Any) -> bool:
    t = type(value)
    if t is str or t is NixExpr or value is None or t is bool or t is int:
        return False
    return (t in _FIELDS or dataclasses.is_dataclass(value) or isinstance(value, Mapping)
            or isinstance(value, (list, tuple)))


def _write(value: Any, indent: int, out: list[str], replace: Callable[[Any], Any] | None) -> None:
    t = type(value)
    if t is str:
        out.append(nix_string(value))
        return
    if t is NixExpr:
        out.append(value.text)
        return
    fields = _FIELDS.get(t)
    if fields is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = _fields_of(t)
    if fields is not None:
        if replace is not None:
            sub = replace(value)
            if sub is not None:
                _write(sub, indent, out, replace)
                return
        if not fields:
            out.append("{ }")
            return
        pad = "  " * (indent + 1)
        out.append("{\n")
        for name, rendered in fields:
            out.append(f"{pad}{rendered} = ")
            _write(getattr(value, name), indent + 1, out, replace)
            out.append(";\n")
        out.append("  " * indent + "}")
        return
    if t is tuple or t is list:
        if not value:
            out.append("[ ]")
        elif not any(_is_compound(v) for v in value):
            out.append("[ " + " ".join(_scalar(v) for v in value) + " ]")
        else:
            pad = "  " * (indent + 1)
            out.append("[\n")
            for v in value:
                out.append(pad)
                _write(v, indent + 1, out, replace)
                out.append("\n")
            out.append("  " * indent + "]")
        return
    if t is dict or isinstance(value, Mapping):
        if not value:
            out.append("{ }")
            return
        pad = "  " * (indent + 1)
        out.append("{\n")
        items = sorted((str(k), v) for k, v in value.items())
        for k, v in items:
            out.append(f"{pad}{nix_attr_name(k)} = ")
            _write(v, indent + 1, out, replace)
            out.append(";\n")
        out.append("  " * indent + "}")
        return
    if isinstance(value, (list, tuple)):
        _write(list(value), indent, out, replace)
        return
    out.append(_scalar(value))
