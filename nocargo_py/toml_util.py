"""TOML loading with file/line/column in every error.

:func:`load_toml` reads a file strictly as UTF-8 and parses it with ``tomli`` (TOML 1.1,
like cargo's ``toml`` crate; the standard library's ``tomllib`` only knows TOML 1.0).
Syntax errors and invalid UTF-8 become :class:`~nocargo_py.errors.NocargoError` s that
name the file and line:column.

Type and value errors found later (by :mod:`nocargo_py.manifest`) are reported through
:meth:`TomlDocument.error`, which finds the line:column of a dotted key with a light scan
of the text (:class:`_KeyScanner`): table headers, dotted and quoted keys, inline tables and
arrays are understood; anything it cannot place falls back to no position.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import tomli

from .errors import Location, NocargoError

__all__ = ["KeyPath", "TomlDocument", "describe_value", "load_toml", "parse_toml",
           "parse_toml_bytes"]

KeyPath = tuple  # tuple[str | int, ...]: table keys and array indices


def describe_value(value: Any) -> str:
    """serde's description of a TOML value: ``integer `1```, ``string "x"``, ``sequence``."""
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return "datetime"
    return type(value).__name__


def format_key(key: Iterable[str | int]) -> str:
    """A dotted key path as text: ``dependencies.foo.features[2]``."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += ("." if out else "") + text
    return out


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML file: its path, text and data, plus error helpers."""

    path: Path
    text: str
    data: dict
    _positions: dict = field(default_factory=dict, compare=False, repr=False)

    def locate(self, key: Sequence[str | int]) -> tuple[int, int] | None:
        """1-based (line, column) of the value of ``key`` (or of the key itself), if found."""
        if not self._positions:
            try:
                self._positions.update(_KeyScanner(self.text).scan())
            except Exception:  # noqa: BLE001 - best effort; never mask the real error
                self._positions["__failed__"] = (0, 0)
        key = tuple(key)
        while key:
            pos = self._positions.get(key)
            if pos is not None:
                return pos
            key = key[:-1]
        return None

    def location(self, key: Sequence[str | int] | None = None) -> Location:
        """A :class:`Location` for ``key`` in this file (line:column when it can be found)."""
        if not key:
            return Location(self.path)
        pos = self.locate(key)
        line, col = pos if pos else (None, None)
        return Location(self.path, format_key(key), line, col)

    def error(self, message: str, key: Sequence[str | int] | None = None,
              notes: Sequence[str] = ()) -> NocargoError:
        """A :class:`NocargoError` located at ``key`` of this file (raise it)."""
        return NocargoError(message, location=self.location(key), notes=tuple(notes))


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF = re.compile(r"\s*\(at end of document\)\s*$")


def parse_toml(text: str, path: Path | str) -> TomlDocument:
    """Parse TOML ``text`` (already decoded); errors name ``path`` and line:column."""
    path = Path(path)
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        message = str(exc.args[0] if exc.args else exc)
        line = col = None
        m = _TOML_POS.search(message)
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            message = message[: m.start()]
        else:
            m = _TOML_EOF.search(message)
            if m:
                message = message[: m.start()]
                line = text.count("\n") + 1
                col = len(text) - (text.rfind("\n") + 1) + 1
        message = message[:1].lower() + message[1:]
        raise NocargoError(
            f"TOML parse error: {message}", location=Location(path, None, line, col)
        ) from None
    return TomlDocument(path, text, data)


def load_toml(path: Path | str) -> TomlDocument:
    """Read and parse a TOML file; missing files, bad UTF-8 and bad TOML raise errors."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NocargoError(f"failed to read `{path}`: no such file") from None
    except IsADirectoryError:
        raise NocargoError(f"failed to read `{path}`: is a directory") from None
    except OSError as exc:
        raise NocargoError(f"failed to read `{path}`: {exc.strerror or exc}") from None
    return parse_toml_bytes(raw, path)


def parse_toml_bytes(raw: bytes, path: Path | str) -> TomlDocument:
    """Parse the bytes of a TOML file (``path`` names it in messages); bad UTF-8 and bad
    TOML raise errors, as :func:`load_toml`."""
    path = Path(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise NocargoError(
            f"stream did not contain valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            location=Location(path, None, line, col),
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_toml(text, path)


# ---------------------------------------------------------------------------------------
# Key position scanner (best effort, tolerant)
# ---------------------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


class _KeyScanner:
    """Maps key paths to the 1-based (line, column) of their values in a TOML text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.aot_index: dict[tuple, int] = {}
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, i: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self._line_starts, i) - 1
        return line + 1, i - self._line_starts[line] + 1

    def record(self, key: tuple, i: int) -> None:
        self.positions.setdefault(key, self.pos(i))

    # -- lexical helpers ------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.i:self.i + n]

    def skip_ws(self, newlines: bool = False) -> None:
        t = self.text
        while self.i < len(t):
            ch = t[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.i += 1
            elif ch == "#":
                while self.i < len(t) and t[self.i] != "\n":
                    self.i += 1
            else:
                break

    def read_key(self) -> list[str]:
        parts = []
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch == '"':
                parts.append(self.read_basic_string())
            elif ch == "'":
                parts.append(self.read_literal_string())
            else:
                m = _BARE.match(self.text, self.i)
                if not m:
                    raise ValueError("bad key")
                parts.append(m.group(0))
                self.i = m.end()
            self.skip_ws()
            if self.peek() == ".":
                self.i += 1
                continue
            return parts

    def read_basic_string(self) -> str:
        if self.peek(3) == '"""':
            end = self.text.index('"""', self.i + 3)
            while self.text.startswith('"', end + 3):
                end += 1
            value = self.text[self.i + 3:end]
            self.i = end + 3
            return value
        self.i += 1
        out = []
        t = self.text
        while t[self.i] != '"':
            if t[self.i] == "\\":
                out.append(t[self.i:self.i + 2])
                self.i += 2
            else:
                out.append(t[self.i])
                self.i += 1
        self.i += 1
        raw = "".join(out)
        try:
            return tomli.loads(f'x = "{raw}"')["x"]
        except Exception:  # noqa: BLE001
            return raw

    def read_literal_string(self) -> str:
        if self.peek(3) == "'''":
            end = self.text.index("'''", self.i + 3)
            while self.text.startswith("'", end + 3):
                end += 1
            value = self.text[self.i + 3:end]
            self.i = end + 3
            return value
        end = self.text.index("'", self.i + 1)
        value = self.text[self.i + 1:end]
        self.i = end + 1
        return value

    # -- structure -------------------------------------------------------------------------
    def resolve_header(self, parts: list[str]) -> tuple:
        """Insert array-of-tables indices into a header path."""
        out: list = []
        for part in parts:
            out.append(part)
            idx = self.aot_index.get(tuple(out))
            if idx is not None:
                out.append(idx)
        return tuple(out)

    def scan(self) -> dict[tuple, tuple[int, int]]:
        prefix: tuple = ()
        t = self.text
        while True:
            self.skip_ws(newlines=True)
            if self.i >= len(t):
                break
            if t[self.i] == "[":
                start = self.i
                is_aot = t.startswith("[[", self.i)
                self.i += 2 if is_aot else 1
                parts = self.read_key()
                self.skip_ws()
                self.i += 2 if is_aot else 1
                if is_aot:
                    base = self.resolve_header(parts[:-1]) + (parts[-1],)
                    # plain path of the array (indices of outer arrays included)
                    n = self.aot_index.get(base, -1) + 1
                    self.aot_index[base] = n
                    for k in [k for k in self.aot_index if k[: len(base)] == base and k != base]:
                        del self.aot_index[k]
                    prefix = base + (n,)
                else:
                    prefix = self.resolve_header(parts)
                self.record(prefix, start)
                continue
            self.key_value(prefix)
            # skip to end of line
            self.skip_ws()
            while self.i < len(t) and t[self.i] not in "\n":
                self.i += 1
        return self.positions

    def key_value(self, prefix: tuple) -> None:
        parts = self.read_key()
        key = prefix + tuple(parts)
        self.skip_ws()
        if self.peek() != "=":
            raise ValueError("expected =")
        self.i += 1
        self.skip_ws()
        self.value(key)

    def value(self, key: tuple) -> None:
        t = self.text
        self.record(key, self.i)
        ch = self.peek()
        if ch == '"':
            self.read_basic_string()
        elif ch == "'":
            self.read_literal_string()
        elif ch == "{":
            self.i += 1
            while True:
                self.skip_ws(newlines=True)
                if self.peek() == "}":
                    self.i += 1
                    return
                if self.peek() == ",":
                    self.i += 1
                    continue
                self.key_value(key)
        elif ch == "[":
            self.i += 1
            n = 0
            while True:
                self.skip_ws(newlines=True)
                if self.peek() == "]":
                    self.i += 1
                    return
                if self.peek() == ",":
                    self.i += 1
                    continue
                self.value(key + (n,))
                n += 1
        else:
            while self.i < len(t) and t[self.i] not in ",]}\n#":
                self.i += 1
