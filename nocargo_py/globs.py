"""Path globbing exactly as the Rust ``glob`` crate (0.3) does it — what cargo expands
``workspace.members`` / ``default-members`` with.

Python's :mod:`glob` differs in ways that change workspace membership: it yields
``crates/`` for ``crates/**`` even when ``crates`` does not exist (the crate yields nothing,
and cargo then keeps the pattern literally and fails), it sorts whole paths rather than
walking directories in name order, and it hides dot-files from ``*``. This module ports the
crate's pattern compiler (``*``, ``?``, ``[...]``, ``[!...]``, ``**`` as a whole component,
with its error messages) and its directory walk (depth-first, children in name order,
``.``/``..`` only for patterns starting with ``.``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["GlobPatternError", "Pattern", "glob"]

_ERROR_WILDCARDS = "wildcards are either regular `*` or recursive `**`"
_ERROR_RECURSIVE = "recursive wildcards must form a single path component"
_ERROR_RANGE = "invalid range pattern"

# token kinds
_CHAR, _ANY_CHAR, _ANY_SEQ, _ANY_REC, _WITHIN, _EXCEPT = range(6)


class GlobPatternError(ValueError):
    """``glob::PatternError``: ``Pattern syntax error near position N: MSG``."""

    def __init__(self, pos: int, msg: str) -> None:
        super().__init__(f"Pattern syntax error near position {pos}: {msg}")
        self.pos = pos
        self.msg = msg


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern (usually one path component)."""

    original: str
    tokens: tuple
    is_recursive: bool
    has_metachars: bool

    @classmethod
    def compile(cls, pattern: str) -> "Pattern":
        chars = list(pattern)
        tokens: list = []
        is_recursive = False
        has_meta = False
        i = 0
        n = len(chars)
        while i < n:
            c = chars[i]
            if c == "?":
                has_meta = True
                tokens.append((_ANY_CHAR,))
                i += 1
            elif c == "*":
                has_meta = True
                old = i
                while i < n and chars[i] == "*":
                    i += 1
                count = i - old
                if count > 2:
                    raise GlobPatternError(old + 2, _ERROR_WILDCARDS)
                if count == 2:
                    if i == 2 or chars[i - count - 1] == "/":
                        if i < n and chars[i] == "/":
                            i += 1
                        elif i != n:
                            raise GlobPatternError(i, _ERROR_RECURSIVE)
                    else:
                        raise GlobPatternError(old - 1, _ERROR_RECURSIVE)
                    if not (len(tokens) > 1 and tokens[-1] == (_ANY_REC,)):
                        is_recursive = True
                        tokens.append((_ANY_REC,))
                else:
                    tokens.append((_ANY_SEQ,))
            elif c == "[":
                has_meta = True
                if i + 4 <= n and chars[i + 1] == "!":
                    j = _index(chars, "]", i + 3)
                    if j is not None:
                        tokens.append((_EXCEPT, _specifiers(chars[i + 2:j])))
                        i = j + 1
                        continue
                elif i + 3 <= n and chars[i + 1] != "!":
                    j = _index(chars, "]", i + 2)
                    if j is not None:
                        tokens.append((_WITHIN, _specifiers(chars[i + 1:j])))
                        i = j + 1
                        continue
                raise GlobPatternError(i, _ERROR_RANGE)
            else:
                tokens.append((_CHAR, c))
                i += 1
        return cls(pattern, tuple(tokens), is_recursive, has_meta)

    def matches(self, text: str) -> bool:
        """``Pattern::matches`` with the default options (case-sensitive, ``*`` matches dots)."""
        return self._match(True, text, 0, 0) == 0

    # 0 = Match, 1 = SubPatternDoesntMatch, 2 = EntirePatternDoesntMatch
    def _match(self, follows_sep: bool, text: str, pos: int, ti: int) -> int:
        tokens = self.tokens
        while ti < len(tokens):
            tok = tokens[ti]
            kind = tok[0]
            if kind in (_ANY_SEQ, _ANY_REC):
                r = self._match(follows_sep, text, pos, ti + 1)
                if r != 1:
                    return r
                while pos < len(text):
                    c = text[pos]
                    pos += 1
                    follows_sep = c == "/"
                    if kind == _ANY_REC and not follows_sep:
                        continue
                    r = self._match(follows_sep, text, pos, ti + 1)
                    if r != 1:
                        return r
                ti += 1  # input exhausted: the crate carries on with the next token
                continue
            if pos >= len(text):
                return 2
            c = text[pos]
            pos += 1
            if kind == _ANY_CHAR:
                ok = True
            elif kind == _WITHIN:
                ok = _in_specifiers(tok[1], c)
            elif kind == _EXCEPT:
                ok = not _in_specifiers(tok[1], c)
            else:
                ok = c == tok[1]
            if not ok:
                return 1
            follows_sep = c == "/"
            ti += 1
        return 0 if pos >= len(text) else 1


def _index(chars: list[str], ch: str, start: int) -> int | None:
    for k in range(start, len(chars)):
        if chars[k] == ch:
            return k
    return None


def _specifiers(chars: list[str]) -> tuple:
    out = []
    i = 0
    while i < len(chars):
        if i + 3 <= len(chars) and chars[i + 1] == "-":
            out.append((chars[i], chars[i + 2]))
            i += 3
        else:
            out.append((chars[i], chars[i]))
            i += 1
    return tuple(out)


def _in_specifiers(specs: tuple, c: str) -> bool:
    return any(lo <= c <= hi for lo, hi in specs)


class _Entry:
    __slots__ = ("path", "is_dir")

    def __init__(self, path: str, is_dir: bool | None = None) -> None:
        self.path = path
        if is_dir is None:
            is_dir = os.path.isdir(path)
        self.is_dir = is_dir

    @property
    def name(self) -> str | None:
        """``Path::file_name`` (``None`` for ``..`` and the root)."""
        stripped = self.path.rstrip("/")
        if not stripped:
            return None
        name = stripped.rsplit("/", 1)[-1]
        return None if name == ".." else name


_DONE = -1


def glob(pattern: str) -> list[str]:
    """All paths matching ``pattern`` in the order the glob crate yields them.

    Raises :class:`GlobPatternError` for an invalid pattern.
    """
    Pattern.compile(pattern)  # validate the whole pattern first, as the crate does
    root_len = 0
    while root_len < len(pattern) and pattern[root_len] == "/":
        root_len += 1
    root_len = 1 if root_len else 0
    scope = pattern[:root_len] if root_len else "."
    components = [c for c in pattern[root_len:].split("/")]
    if components and components[-1] == "":
        components.pop()  # split_terminator
    patterns = [Pattern.compile(c) for c in components]
    if root_len == len(pattern):
        patterns.append(Pattern("", (), False, False))
    require_dir = pattern.endswith("/")
    todo: list[tuple[_Entry, int]] = []
    if patterns:
        _fill_todo(todo, patterns, 0, _Entry(scope))
    out: list[str] = []
    last = len(patterns) - 1
    while patterns and todo:
        entry, idx = todo.pop()
        if idx == _DONE:
            if require_dir and not entry.is_dir:
                continue
            out.append(entry.path)
            continue
        if patterns[idx].is_recursive:
            nxt = idx
            while nxt + 1 < len(patterns) and patterns[nxt + 1].is_recursive:
                nxt += 1
            if entry.is_dir:
                _fill_todo(todo, patterns, nxt, entry)
                if nxt == last:
                    out.append(entry.path)
                    continue
                idx = nxt + 1
            elif nxt == last:
                continue
            else:
                idx = nxt + 1
        name = entry.name
        if name is None:
            continue
        if patterns[idx].matches(name):
            if idx == last:
                if not require_dir or entry.is_dir:
                    out.append(entry.path)
            else:
                _fill_todo(todo, patterns, idx + 1, entry)
    return out


def _join(base: str, name: str) -> str:
    if base == ".":
        return name
    return base + name if base.endswith("/") else f"{base}/{name}"


def _fill_todo(todo: list, patterns: list[Pattern], idx: int, entry: _Entry) -> None:
    def add(next_entry: _Entry) -> None:
        if idx + 1 == len(patterns):
            todo.append((next_entry, _DONE))
        else:
            _fill_todo(todo, patterns, idx + 1, next_entry)

    pattern = patterns[idx]
    curdir = entry.path == "."
    if not pattern.has_metachars:
        s = pattern.original
        special = s in (".", "..")
        next_path = s if curdir else _join(entry.path, s)
        nxt = _Entry(next_path)
        if (special and entry.is_dir) or (not special and os.path.lexists(next_path)):
            add(nxt)
        return
    if not entry.is_dir:
        return
    try:
        names = os.listdir(entry.path)
    except OSError:
        return
    children = []
    for name in names:
        path = name if curdir else _join(entry.path, name)
        try:
            is_dir = os.path.isdir(path)
        except OSError:
            is_dir = False
        children.append(_Entry(path, is_dir))
    children.sort(key=lambda e: e.name or "", reverse=True)
    todo.extend((child, idx) for child in children)
    if pattern.tokens and pattern.tokens[0] == (_CHAR, "."):
        for special in (".", ".."):
            if pattern.matches(special):
                add(_Entry(_join(entry.path, special)))
