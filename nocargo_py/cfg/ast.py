"""The typed syntax tree of a cfg expression, its canonical printer and a leaf walker.

Nodes are frozen dataclasses. Leaves (:class:`CfgName`, :class:`CfgKeyValue`,
:class:`CfgBool`) compare like cargo's ``Cfg``: raw-ness (``r#name``) is remembered for
printing but does not take part in equality or hashing. Composite nodes
(:class:`CfgAll`, :class:`CfgAny`, :class:`CfgNot`) compare structurally.

Everything here works without recursion, so an expression nested ten thousand levels deep
(which cargo itself accepts) can be printed, compared, hashed and walked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Union

__all__ = [
    "CfgAll",
    "CfgAny",
    "CfgBool",
    "CfgExpr",
    "CfgKeyValue",
    "CfgName",
    "CfgNot",
    "CfgOption",
    "render",
    "iter_options",
]


_OPERATORS = frozenset({"all", "any", "not"})


@dataclass(frozen=True)
class CfgName:
    """A name option, e.g. ``unix`` (``raw``: written as ``r#unix``)."""

    name: str
    raw: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return render(self)

    @property
    def key(self) -> tuple[str, None]:
        """The option as a ``(name, None)`` pair, as it appears in a target's cfg set."""
        return (self.name, None)


@dataclass(frozen=True)
class CfgKeyValue:
    """A key/value option, e.g. ``target_os = "linux"`` (``raw``: key written ``r#key``)."""

    name: str
    value: str
    raw: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return render(self)

    @property
    def key(self) -> tuple[str, str]:
        """The option as a ``(name, value)`` pair, as it appears in a target's cfg set."""
        return (self.name, self.value)


@dataclass(frozen=True)
class CfgBool:
    """The literal ``true`` or ``false`` (cargo >= 1.88; also written ``r#true``)."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


class _Composite:
    """Equality, hashing, ``str`` and ``repr`` for composite nodes, without recursion."""

    __slots__ = ()

    @cached_property
    def _identity(self) -> str:
        # The printed form without `r#` markers is a faithful, flat encoding of the tree
        # (strings cannot contain `"`), so comparing it compares the structure.
        return render(self, keep_raw=False)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self is other or self._identity == other._identity  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity))

    def __str__(self) -> str:
        return render(self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"parse_cfg({render(self)!r})"  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False, repr=False)
class CfgAll(_Composite):
    """``all(a, b, ...)``: true iff every item is true (``all()`` is true)."""

    items: tuple["CfgExpr", ...]


@dataclass(frozen=True, eq=False, repr=False)
class CfgAny(_Composite):
    """``any(a, b, ...)``: true iff some item is true (``any()`` is false)."""

    items: tuple["CfgExpr", ...]


@dataclass(frozen=True, eq=False, repr=False)
class CfgNot(_Composite):
    """``not(a)``: the negation of exactly one expression."""

    expr: "CfgExpr"


CfgOption = Union[CfgName, CfgKeyValue]
"""One option of a cfg set: a name or a key/value pair."""

CfgExpr = Union[CfgAll, CfgAny, CfgNot, CfgName, CfgKeyValue, CfgBool]
"""Any cfg expression (the inside of ``cfg(...)``)."""


def render(expr: CfgExpr, *, keep_raw: bool = True) -> str:
    """Print ``expr`` canonically, as cargo's ``Display`` does.

    ``all(a, b)``, ``any()``, ``not(a)``, ``key = "value"``, ``r#name`` for raw identifiers
    (dropped when ``keep_raw`` is false; always kept for the names ``all``/``any``/``not``,
    which would otherwise read as operators). Parsing the result gives an equal expression
    (a name option ``true``/``false`` cannot be written in cargo's syntax: it reads as the
    literal).
    """
    out: list[str] = []
    stack: list[CfgExpr | str] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, CfgName):
            raw = keep_raw and (item.raw or item.name in _OPERATORS)
            out.append(f"r#{item.name}" if raw else item.name)
        elif isinstance(item, CfgKeyValue):
            prefix = "r#" if keep_raw and (item.raw or item.name in _OPERATORS) else ""
            out.append(f'{prefix}{item.name} = "{item.value}"')
        elif isinstance(item, CfgBool):
            out.append("true" if item.value else "false")
        elif isinstance(item, CfgNot):
            out.append("not(")
            stack.append(")")
            stack.append(item.expr)
        elif isinstance(item, (CfgAll, CfgAny)):
            out.append("all(" if isinstance(item, CfgAll) else "any(")
            stack.append(")")
            for index in range(len(item.items) - 1, -1, -1):
                stack.append(item.items[index])
                if index:
                    stack.append(", ")
        else:  # pragma: no cover - guarded by the type
            raise TypeError(f"not a cfg expression: {item!r}")
    return "".join(out)


def iter_options(expr: CfgExpr) -> Iterator[CfgOption]:
    """Yield every name and key/value option of ``expr``, left to right (pre-order)."""
    stack: list[CfgExpr] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, (CfgName, CfgKeyValue)):
            yield item
        elif isinstance(item, CfgNot):
            stack.append(item.expr)
        elif isinstance(item, (CfgAll, CfgAny)):
            stack.extend(reversed(item.items))
