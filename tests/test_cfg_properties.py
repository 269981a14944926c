"""Property tests for cfg expressions (hypothesis).

* generated expressions round-trip through the printer and the parser, also when printed
  with random spacing, trailing commas and raw identifiers;
* evaluation obeys the boolean laws and agrees with a naive reference evaluator;
* arbitrary and mutated strings never raise anything but the project's ParseError.

The strategies here are reused by the differential tests in ``test_cfg_oracle.py``.
"""

from __future__ import annotations

import json
import random

from hypothesis import find, given, settings, strategies as st

from nocargo_py.cfg import (
    CfgAll,
    CfgAny,
    CfgBool,
    CfgExpr,
    CfgKeyValue,
    CfgName,
    CfgNot,
    Platform,
    evaluate,
    parse_cfg,
    parse_cfg_option,
    render,
)
from nocargo_py.errors import ParseError

# --- strategies ---------------------------------------------------------------------

IDENTS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
# cargo strings: anything but `"` (no escapes); keep surrogates out (not valid text)
VALUES = st.text(st.characters(blacklist_characters='"', blacklist_categories=("Cs",)), max_size=6)

SMALL_NAMES = st.sampled_from(["a", "b", "c", "unix", "all", "fn", "_"])
SMALL_KEYS = st.sampled_from(["k", "target_os", "true", "any"])
SMALL_VALUES = st.sampled_from(["", "1", "2", "linux", "x y"])


def leaves(names: st.SearchStrategy[str], keys: st.SearchStrategy[str],
           values: st.SearchStrategy[str], *, raw: st.SearchStrategy[bool] = st.booleans(),
           literals: bool = True) -> st.SearchStrategy[CfgExpr]:
    """Leaf expressions: names (never `true`/`false`), key/value pairs, literals."""
    options = [
        st.builds(CfgName, names.filter(lambda n: n not in ("true", "false")), raw),
        st.builds(CfgKeyValue, keys, values, raw),
    ]
    if literals:
        options.append(st.builds(CfgBool, st.booleans()))
    return st.one_of(*options)


def expressions(leaf: st.SearchStrategy[CfgExpr], max_leaves: int = 12) -> st.SearchStrategy[CfgExpr]:
    """Trees of all/any/not over ``leaf``."""
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.builds(CfgNot, kids),
            st.lists(kids, max_size=4).map(lambda xs: CfgAll(tuple(xs))),
            st.lists(kids, max_size=4).map(lambda xs: CfgAny(tuple(xs))),
        ),
        max_leaves=max_leaves,
    )


ANY_EXPR = expressions(leaves(IDENTS, IDENTS, VALUES))
SMALL_EXPR = expressions(leaves(SMALL_NAMES, SMALL_KEYS, SMALL_VALUES), max_leaves=8)
CFG_SETS = st.frozensets(
    st.one_of(
        st.tuples(SMALL_NAMES, st.none()),
        st.tuples(SMALL_KEYS, SMALL_VALUES),
    ),
    max_size=8,
)


def noisy_render(expr: CfgExpr, rng: random.Random) -> str:
    """Print ``expr`` with random spaces, trailing commas and `r#` prefixes (still valid)."""

    def sp() -> str:
        return " " * rng.choice([0, 0, 1, 2])

    def ident(name: str, raw: bool) -> str:
        if raw or name in ("all", "any", "not") or rng.random() < 0.2:
            return "r#" + name
        return name

    out: list[str] = []
    stack: list[object] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, CfgName):
            out.append(sp() + ident(item.name, item.raw) + sp())
        elif isinstance(item, CfgKeyValue):
            out.append(f'{sp()}{ident(item.name, item.raw)}{sp()}={sp()}"{item.value}"{sp()}')
        elif isinstance(item, CfgBool):
            word = "true" if item.value else "false"
            out.append(sp() + ("r#" + word if rng.random() < 0.2 else word) + sp())
        elif isinstance(item, CfgNot):
            out.append(f"{sp()}not{sp()}({sp()}")
            stack.append(f"{sp()}){sp()}")
            stack.append(item.expr)
        else:
            assert isinstance(item, (CfgAll, CfgAny))
            out.append(f"{sp()}{'all' if isinstance(item, CfgAll) else 'any'}{sp()}({sp()}")
            trailing = "," if item.items and rng.random() < 0.5 else ""
            stack.append(f"{sp()}{trailing}{sp()}){sp()}")
            for index in range(len(item.items) - 1, -1, -1):
                stack.append(item.items[index])
                if index:
                    stack.append(f"{sp()},{sp()}")
    return "".join(out)


def reference_eval(expr: CfgExpr, cfgs: frozenset) -> bool:
    """A naive recursive evaluator, independent of the library's."""
    if isinstance(expr, CfgBool):
        return expr.value
    if isinstance(expr, CfgName):
        return (expr.name, None) in cfgs
    if isinstance(expr, CfgKeyValue):
        return (expr.name, expr.value) in cfgs
    if isinstance(expr, CfgNot):
        return not reference_eval(expr.expr, cfgs)
    results = [reference_eval(e, cfgs) for e in expr.items]
    return all(results) if isinstance(expr, CfgAll) else any(results)


# A generator of (mostly) invalid strings: grammar-relevant characters, and valid
# expressions with a few characters inserted, deleted or replaced.
NOISE_CHARS = st.sampled_from(list('()=," #\tr_anlyotx1é\n\\\'') + ["all", "any", "not", "r#", '"v"'])
NOISE = st.lists(NOISE_CHARS, max_size=14).map("".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = render(draw(SMALL_EXPR))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(NOISE_CHARS)
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + 1:]
        else:
            text = text[:pos] + piece + text[pos + 1:]
    return text


SUSPICIOUS = st.one_of(NOISE, mutated(), st.text(max_size=12))

# --- properties ---------------------------------------------------------------------


@given(ANY_EXPR)
def test_round_trip_canonical(expr: CfgExpr) -> None:
    text = render(expr)
    parsed = parse_cfg(text)
    assert parsed == expr
    assert render(parsed) == text
    platform = Platform.parse(f"cfg({text})")
    assert platform.cfg == expr and str(platform) == f"cfg({text})"


@given(ANY_EXPR, st.randoms(use_true_random=False))
def test_round_trip_noisy(expr: CfgExpr, rng: random.Random) -> None:
    text = noisy_render(expr, rng)
    parsed = parse_cfg(text)
    assert parsed == expr
    assert parse_cfg(render(parsed)) == expr


@given(SMALL_EXPR, CFG_SETS)
def test_evaluation_matches_reference(expr: CfgExpr, cfgs: frozenset) -> None:
    assert evaluate(expr, cfgs) is reference_eval(expr, cfgs)
    assert evaluate(parse_cfg(render(expr)), cfgs) is reference_eval(expr, cfgs)


@given(SMALL_EXPR, SMALL_EXPR, SMALL_EXPR, CFG_SETS)
def test_boolean_laws(a: CfgExpr, b: CfgExpr, c: CfgExpr, cfgs: frozenset) -> None:
    def ev(e: CfgExpr) -> bool:
        return evaluate(e, cfgs)

    def all_(*xs: CfgExpr) -> CfgExpr:
        return CfgAll(tuple(xs))

    def any_(*xs: CfgExpr) -> CfgExpr:
        return CfgAny(tuple(xs))

    def not_(x: CfgExpr) -> CfgExpr:
        return CfgNot(x)

    assert ev(all_()) is True and ev(any_()) is False
    assert ev(all_(a)) == ev(a) == ev(any_(a))
    assert ev(not_(not_(a))) == ev(a)
    assert ev(not_(a)) != ev(a)
    assert ev(not_(all_(a, b))) == ev(any_(not_(a), not_(b)))  # De Morgan
    assert ev(not_(any_(a, b))) == ev(all_(not_(a), not_(b)))
    assert ev(all_(a, b)) == ev(all_(b, a)) and ev(any_(a, b)) == ev(any_(b, a))
    assert ev(all_(a, all_(b, c))) == ev(all_(all_(a, b), c)) == ev(all_(a, b, c))
    assert ev(any_(a, any_(b, c))) == ev(any_(any_(a, b), c)) == ev(any_(a, b, c))
    assert ev(all_(a, any_(b, c))) == ev(any_(all_(a, b), all_(a, c)))  # distributivity
    assert ev(any_(a, all_(b, c))) == ev(all_(any_(a, b), any_(a, c)))
    assert ev(all_(a, not_(a))) is False and ev(any_(a, not_(a))) is True
    assert ev(all_(a, a)) == ev(a) == ev(any_(a, a))  # idempotence
    assert ev(all_(a, any_(a, b))) == ev(a)  # absorption
    assert ev(all_(a, CfgBool(True))) == ev(a) and ev(any_(a, CfgBool(False))) == ev(a)


@given(SUSPICIOUS)
def test_invalid_input_only_raises_parse_error(text: str) -> None:
    for parse in (parse_cfg, parse_cfg_option, Platform.parse, lambda s: Platform.parse(f"cfg({s})")):
        try:
            result = parse(text)
        except ParseError as err:
            start, end = err.span
            assert 0 <= start <= end <= len(err.source)
            assert err.render().startswith("failed to parse `")
            assert err.message
        else:
            assert result is not None
    try:
        expr = parse_cfg(text)
    except ParseError:
        return
    assert parse_cfg(render(expr)) == expr  # whatever parses is printable and stable


@given(st.lists(SMALL_EXPR, min_size=1, max_size=4))
def test_equality_and_hash_agree(exprs: list[CfgExpr]) -> None:
    for x in exprs:
        for y in exprs:
            if x == y:
                assert hash(x) == hash(y)
            assert (x == y) == (render(x, keep_raw=False) == render(y, keep_raw=False))


def _outcome(text: str) -> str:
    try:
        parse_cfg(text)
    except ParseError as err:
        return err.message.split(" ")[0]
    return "ok"


def test_invalid_strategy_is_not_vacuous() -> None:
    # the generator of suspicious strings reaches valid input and both families of errors
    for wanted in ("ok", "expected", "unexpected"):
        found = find(SUSPICIOUS, lambda text, wanted=wanted: _outcome(text) == wanted,
                     settings=settings(max_examples=2000, database=None))
        assert _outcome(found) == wanted


@given(ANY_EXPR)
def test_remembered_parse_round_trips(expr: CfgExpr) -> None:
    """What the cross-run store of parses (``cfg._memo``) writes reads back as the same tree,
    raw identifiers included."""
    from nocargo_py.cfg import _memo

    back = _memo._decode(json.loads(json.dumps(_memo._encode(expr))))
    assert back == expr
    assert render(back) == render(expr)
