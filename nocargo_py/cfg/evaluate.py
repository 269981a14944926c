"""Evaluation of a cfg expression against a cfg set, exactly as cargo's ``CfgExpr::matches``.

* ``all(...)`` is true iff every item is true (``all()`` is true);
* ``any(...)`` is true iff some item is true (``any()`` is false);
* ``not(e)`` negates; ``true``/``false`` are constants;
* a name option is true iff that name is in the set; a key/value option iff that exact
  pair is in the set (a key may have several values, e.g. ``target_feature``).

The evaluator uses an explicit stack, so nesting depth is not limited by Python's
recursion limit.
"""

from __future__ import annotations

from typing import Container

from .ast import CfgAll, CfgAny, CfgBool, CfgExpr, CfgKeyValue, CfgName, CfgNot

__all__ = ["evaluate"]

_ALL, _ANY, _NOT = 0, 1, 2


def evaluate(expr: CfgExpr, cfgs: Container[tuple[str, str | None]]) -> bool:
    """Whether ``expr`` holds for the cfg set ``cfgs`` of ``(name, value-or-None)`` pairs."""
    # Fast paths for the overwhelmingly common shapes.
    if isinstance(expr, (CfgName, CfgKeyValue)):
        return expr.key in cfgs
    stack: list[object] = [expr]
    results: list[bool] = []
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            op, count = item
            if op == _NOT:
                results[-1] = not results[-1]
                continue
            if count:
                args = results[-count:]
                del results[-count:]
            else:
                args = []
            results.append(all(args) if op == _ALL else any(args))
        elif isinstance(item, (CfgName, CfgKeyValue)):
            results.append(item.key in cfgs)
        elif isinstance(item, CfgBool):
            results.append(item.value)
        elif isinstance(item, CfgNot):
            stack.append((_NOT, 1))
            stack.append(item.expr)
        elif isinstance(item, (CfgAll, CfgAny)):
            stack.append((_ALL if isinstance(item, CfgAll) else _ANY, len(item.items)))
            stack.extend(reversed(item.items))
        else:
            raise TypeError(f"not a cfg expression: {item!r}")
    return results[0]
