"""Private: valid cfg expressions parsed without Lark (a start-up cost, not a second grammar).

Importing Lark and building the LALR tables of ``grammar/cfg.lark`` costs about as much as
a whole small ``gen`` spends resolving, while the expressions met in manifests and index
data are short and valid. :func:`parse_expression` reads exactly the grammar's language
with the grammar's tokens (an identifier is ``(r#)?[A-Za-z_][A-Za-z0-9_]*``, a string runs
from ``"`` to the next ``"``, only the ASCII space separates tokens; ``all``/``any``/``not``
are always operators) and builds the same AST as the Lark transformer. Anything it does not
accept returns ``None``: the caller then parses with Lark, which owns the grammar and
cargo's error messages. ``tests/test_cfg_fast.py`` checks the two agree. Nesting is
handled with an explicit stack (no recursion).
"""

from __future__ import annotations

import re

from .ast import CfgAll, CfgAny, CfgBool, CfgExpr, CfgKeyValue, CfgName, CfgNot

__all__ = ["parse_expression"]

_TOKEN = re.compile(r' *(?:((?:r#)?[A-Za-z_][A-Za-z0-9_]*)|("[^"]*")|([(),=]))')
_IDENT, _STRING, _PUNCT = 1, 2, 3
_OPERATORS = ("all", "any", "not")


def _tokens(text: str) -> list[tuple[int, str]] | None:
    out: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            return None if text[pos:].strip(" ") else out
        kind = m.lastindex
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _leaf(ident: str) -> tuple[str, bool]:
    return (ident[2:], True) if ident.startswith("r#") else (ident, False)


def _composite(op: str, items: list[CfgExpr]) -> CfgExpr:
    if op == "not":
        return CfgNot(items[0])
    return CfgAll(tuple(items)) if op == "all" else CfgAny(tuple(items))


def parse_expression(text: str) -> CfgExpr | None:
    """The inside of ``cfg(...)`` as the Lark parser builds it, or ``None`` if it is not
    plainly valid (then Lark decides, and reports cargo's error)."""
    toks = _tokens(text)
    if not toks:
        return None
    n = len(toks)
    i = 0
    frames: list[tuple[str, list[CfgExpr]]] = []  # open all(/any(/not( and their items
    while True:
        if i >= n or toks[i][0] != _IDENT:
            return None
        word = toks[i][1]
        node: CfgExpr
        if word in _OPERATORS:
            if i + 1 >= n or toks[i + 1][1] != "(":
                return None
            i += 2
            if word == "not" or i >= n or toks[i][1] != ")":
                frames.append((word, []))
                continue
            i += 1  # `all()` / `any()`
            node = _composite(word, [])
        else:
            name, raw = _leaf(word)
            if i + 1 < n and toks[i + 1][1] == "=":
                if i + 2 >= n or toks[i + 2][0] != _STRING:
                    return None
                node = CfgKeyValue(name, toks[i + 2][1][1:-1], raw)
                i += 3
            else:
                # cargo: a name `true`/`false` (also `r#true`) is the literal
                node = CfgBool(name == "true") if name in ("true", "false") else CfgName(name, raw)
                i += 1
        # attach the finished node, closing every list it completes
        while True:
            if not frames:
                return node if i == n else None
            op, items = frames[-1]
            items.append(node)
            nxt = toks[i][1] if i < n else None
            if op != "not" and nxt == ",":
                i += 1
                if i < n and toks[i][1] == ")":  # a trailing comma
                    nxt = ")"
                else:
                    break  # the next item
            if nxt != ")":
                return None
            i += 1
            frames.pop()
            node = _composite(op, items)
