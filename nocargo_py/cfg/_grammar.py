"""Private: the Lark parser for ``grammar/cfg.lark``, built once, producing the typed AST.

The grammar ships inside the package as ``nocargo_py/grammar/cfg.lark`` (in the source
tree a symlink to the top-level ``grammar/`` directory). The parser is LALR(1) with
Lark's basic lexer; a transformer runs at each reduction, so the syntax tree is built
bottom-up without recursion and there is no intermediate parse tree.
"""

from __future__ import annotations

from functools import cache

from lark import Lark, Token, Transformer

from ._memo import cache_file, grammar_text
from .ast import CfgAll, CfgAny, CfgBool, CfgExpr, CfgKeyValue, CfgName, CfgNot, CfgOption
from .parser import EXPRESSION, OPTION

__all__ = ["grammar_text", "cfg_parser"]


def _ident(token: Token) -> tuple[str, bool]:
    text = str(token)
    if text.startswith("r#"):
        return text[2:], True
    return text, False


class _Builder(Transformer):
    """Turns each reduction into an AST node (used inline by the LALR parser)."""

    def expression(self, children: list) -> CfgExpr:
        return children[0]

    def option(self, children: list) -> CfgOption:
        return children[0]

    def all_expr(self, children: list) -> CfgAll:
        return CfgAll(tuple(children[1:]))

    def any_expr(self, children: list) -> CfgAny:
        return CfgAny(tuple(children[1:]))

    def not_expr(self, children: list) -> CfgNot:
        return CfgNot(children[1])

    def name(self, children: list) -> CfgName | CfgBool:
        name, raw = _ident(children[0])
        # cargo: a name option `true`/`false` is the literal; it compares the name only, so
        # `r#true` is the literal too.
        if name == "true":
            return CfgBool(True)
        if name == "false":
            return CfgBool(False)
        return CfgName(name, raw)

    def key_value(self, children: list) -> CfgKeyValue:
        name, raw = _ident(children[0])
        return CfgKeyValue(name, str(children[1])[1:-1], raw)

    def option_name(self, children: list) -> CfgName:
        name, raw = _ident(children[0])
        return CfgName(name, raw)

    def option_key_value(self, children: list) -> CfgKeyValue:
        name, raw = _ident(children[0])
        return CfgKeyValue(name, str(children[1])[1:-1], raw)


@cache
def cfg_parser() -> Lark:
    """The shared LALR parser (built on first use).

    Lark's grammar analysis (the LALR tables) is cached in the user's cache directory
    (``lark-cfg-<python>.cache``): loading it takes a tenth of building it, which every
    run would pay. Lark keys the file by a hash of the grammar and options and rebuilds
    it when they differ or when it cannot be read (a damaged file is never trusted);
    without a writable cache directory the tables are built in memory."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        start=[EXPRESSION, OPTION],
        transformer=_Builder(),
        cache=_cache_file(),
    )


def _cache_file() -> str | bool:
    path = cache_file("lark-cfg", ".cache")
    return False if path is None else str(path)
