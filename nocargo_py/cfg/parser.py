"""Parsing cfg expressions with cargo's exact acceptance and error messages.

The grammar is ``grammar/cfg.lark`` (LALR). Cargo's own parser is a hand-written
recursive-descent parser with a lazy tokenizer; its error message depends on what it
was looking for when it stopped. An LALR parser stops at the same token, and the set
of terminals its state accepts there tells us what cargo was looking for:

* a state that would accept the end of input (a complete top-level expression): cargo
  reports the raw remainder, ``unexpected content `REST` found after cfg expression``,
  even when the remainder would not tokenize;
* otherwise a character no token can start with is
  ``unexpected character `C` in cfg, expected parens, a comma, an identifier, or a
  string``, and a ``"`` without its closing quote is ``unterminated string in cfg``;
* otherwise ``expected X, found Y`` / ``expected X, but cfg expression ended`` with
  ``X`` one of ``identifier`` (``start of a cfg expression`` at the end), ``a string``,
  ``(`` or ``)``.

Errors are :class:`~nocargo_py.errors.ParseError` whose text matches cargo's and whose span
points at the offending characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ParseError
from .ast import CfgExpr, CfgOption

if TYPE_CHECKING:  # pragma: no cover
    from lark.exceptions import UnexpectedInput

__all__ = ["parse_cfg", "parse_cfg_option", "WHAT", "EXPRESSION", "OPTION"]

EXPRESSION = "expression"
"""Start symbol of ``grammar/cfg.lark`` for the inside of ``cfg(...)``."""
OPTION = "option"
"""Start symbol for a single option (a line of ``rustc --print cfg``)."""

WHAT = "a cfg expression"
"""How cargo names what it failed to parse (``failed to parse `…` as a cfg expression``)."""

_UNEXPECTED_CHAR = "unexpected character `{}` in cfg, expected parens, a comma, an identifier, or a string"

_CLASSIFY = {
    "_LPAR": "`(`",
    "_RPAR": "`)`",
    "_COMMA": "`,`",
    "_EQUAL": "`=`",
    "STRING": "a string",
    "IDENT": "an identifier",
    "ALL": "an identifier",
    "ANY": "an identifier",
    "NOT": "an identifier",
}


def parse_cfg(text: str) -> CfgExpr:
    """Parse the inside of ``cfg(...)`` as cargo does; raise :class:`ParseError` if invalid."""
    return _parse(text, EXPRESSION)  # type: ignore[return-value]


def parse_cfg_option(text: str) -> CfgOption:
    """Parse one option (``name`` or ``key="value"``) as cargo reads ``rustc --print cfg``.

    Unlike :func:`parse_cfg`, ``all``/``any``/``not`` are plain names here and ``true``
    stays a name (cargo's ``Cfg::from_str``).
    """
    return _parse(text, OPTION)  # type: ignore[return-value]


def _parse(text: str, start: str) -> object:
    # Successful parses are remembered across runs (see ._memo); Lark is imported on the
    # first parse of an expression not seen before (most runs never pay for it)
    from . import _memo

    found = _memo.lookup(start, text)
    if found is not None:
        return found
    from lark.exceptions import UnexpectedInput

    from ._grammar import cfg_parser

    try:
        expr = cfg_parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _translate(text, start, exc) from None
    _memo.remember(start, text, expr)
    return expr


def _error(text: str, message: str, start: int, end: int) -> ParseError:
    return ParseError(message, source=text, span=(start, end), what=WHAT)


def _raw_ident_error(text: str, pos: int) -> ParseError:
    """cargo's tokenizer on ``r#`` not followed by an identifier (``pos`` is after ``#``)."""
    if pos >= len(text):
        return _error(text, "expected identifier, but cfg expression ended", pos, pos)
    return _error(text, _UNEXPECTED_CHAR.format(text[pos]), pos, pos + 1)


def _accepts(exc: UnexpectedInput) -> set[str]:
    parser = getattr(exc, "interactive_parser", None)
    if parser is None:  # pragma: no cover - lark always attaches it for LALR
        return set()
    return set(parser.accepts())


def _expected(accepts: set[str], *, at_end: bool, start: str) -> str:
    if "IDENT" in accepts:
        return "start of a cfg expression" if at_end and start == EXPRESSION else "identifier"
    if "STRING" in accepts:
        return "a string"
    if "_LPAR" in accepts:
        return "`(`"
    return "`)`"


def _translate(text: str, start: str, exc: UnexpectedInput) -> ParseError:
    from lark import Token
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    accepts = _accepts(exc)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        history = exc.token_history or []
        last: Token | None = history[-1] if history else None
        # cargo lexes `r#` as the start of a raw identifier; Lark lexed `r` as an identifier
        # and then met `#`. The `r` was accepted, so cargo was tokenizing there too.
        if (
            text[pos] == "#"
            and last is not None
            and last.type == "IDENT"
            and str(last) == "r"
            and last.end_pos == pos
        ):
            return _raw_ident_error(text, pos + 1)
        if "$END" in accepts:
            return _unexpected_content(text, pos)
        if text[pos] == '"':
            return _error(text, "unterminated string in cfg", pos, len(text))
        return _error(text, _UNEXPECTED_CHAR.format(text[pos]), pos, pos + 1)

    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "$END":
        end = len(text)
        return _error(
            text,
            f"expected {_expected(accepts, at_end=True, start=start)}, but cfg expression ended",
            end,
            end,
        )
    pos = token.start_pos
    if "$END" in accepts:
        return _unexpected_content(text, pos)
    if token.type == "IDENT" and str(token) == "r" and text[token.end_pos : token.end_pos + 1] == "#":
        return _raw_ident_error(text, token.end_pos + 1)
    found = _CLASSIFY.get(token.type, f"`{token}`")
    expected = _expected(accepts, at_end=False, start=start)
    return _error(text, f"expected {expected}, found {found}", pos, token.end_pos)


def _unexpected_content(text: str, pos: int) -> ParseError:
    return _error(
        text, f"unexpected content `{text[pos:]}` found after cfg expression", pos, len(text)
    )
