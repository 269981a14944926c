"""The Lark-free fast path of the cfg parser (``nocargo_py/cfg/_fast.py``) against Lark.

Whatever the fast path accepts, Lark accepts with the same tree (raw identifiers
included); every valid expression is taken by the fast path (so Lark is not needed for
valid input); everything else is left to Lark (``None``).
"""

from __future__ import annotations

import random

from hypothesis import given, strategies as st

from nocargo_py.cfg import CfgAll, CfgAny, CfgExpr, CfgKeyValue, CfgName, CfgNot, render
from nocargo_py.cfg._fast import parse_expression
from nocargo_py.cfg._grammar import cfg_parser
from nocargo_py.cfg.parser import EXPRESSION
from test_cfg_properties import ANY_EXPR, SUSPICIOUS, noisy_render


def _lark(text: str) -> CfgExpr | None:
    from lark.exceptions import UnexpectedInput

    try:
        return cfg_parser().parse(text, start=EXPRESSION)
    except UnexpectedInput:
        return None


def _shape(expr: CfgExpr) -> object:
    """The tree with raw flags (which ``==`` ignores), without recursion limits in mind
    (generated trees are small)."""
    if isinstance(expr, (CfgAll, CfgAny)):
        return (type(expr).__name__, tuple(_shape(e) for e in expr.items))
    if isinstance(expr, CfgNot):
        return ("not", _shape(expr.expr))
    if isinstance(expr, (CfgName, CfgKeyValue)):
        return (expr, expr.raw)
    return expr


@given(SUSPICIOUS)
def test_fast_path_never_accepts_what_lark_rejects(text: str) -> None:
    fast = parse_expression(text)
    if fast is not None:
        slow = _lark(text)
        assert slow is not None
        assert _shape(fast) == _shape(slow)
        assert render(fast) == render(slow)


@given(ANY_EXPR, st.randoms(use_true_random=False))
def test_fast_path_takes_every_valid_expression(expr: CfgExpr, rng: random.Random) -> None:
    for text in (render(expr), noisy_render(expr, rng)):
        fast = parse_expression(text)
        assert fast is not None, text
        assert _shape(fast) == _shape(_lark(text))


def test_fast_path_cases() -> None:
    for text in ['unix', 'r#true', 'true', 'false = "x"', 'all()', 'any( a , )',
                 'not(all(any()))', 'target_os = "linux"', 'r#all = "a b"', '  x  ',
                 'all(a,b,not(c),d="(),=")']:
        assert _shape(parse_expression(text)) == _shape(_lark(text)), text
    for text in ['', ' ', 'all', 'all(,)', 'not()', 'not(a,)', 'not(a,b)', 'a b', 'a=',
                 'a="x', '"x"', 'all(a', 'a)', 'r#', 'r#1', 'a\t', 'all = "x"', 'all(a,,b)',
                 'x = y', '1']:
        assert parse_expression(text) is None, text
        assert _lark(text) is None, text


def test_fast_path_deep_nesting_needs_no_recursion() -> None:
    depth = 10_000
    expr = parse_expression("not(" * depth + "unix" + ")" * depth)
    for _ in range(depth):
        assert isinstance(expr, CfgNot)
        expr = expr.expr
    assert expr == CfgName("unix")
