"""Private: parsed cfg expressions remembered across runs, in the user's cache directory.

Every parse goes through the Lark grammar; what is kept is its result. The cfg expressions
met in practice are a small, repeating set (``cfg(unix)``, ``cfg(windows)``,
``cfg(target_arch = "wasm32")`` …), while importing Lark and loading its tables costs a
small project's whole resolution — and most runs parse nothing new. So successful parses
(of expressions up to :data:`MAX_TEXT` characters and :data:`MAX_DEPTH` levels deep) are
stored as JSON (``cfg-parsed-py<version>.json``) and read back before Lark is imported.

The file names a SHA-256 of the grammar and of the modules that build the syntax tree, and
a format number: a change to any of them starts afresh. A file that cannot be read or is
malformed is ignored (and replaced on the next write), as is an entry that does not decode
to a syntax tree. Writing happens once, at exit, to a temporary file renamed into place;
when that fails (no cache directory, read-only disk) nothing is reported. Errors are never
stored: their messages come from the parser each time.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from ..fsutil import replace_file
from .ast import CfgAll, CfgAny, CfgBool, CfgExpr, CfgKeyValue, CfgName, CfgNot, CfgOption

__all__ = ["cache_file", "grammar_text", "lookup", "remember", "MAX_DEPTH", "MAX_ENTRIES", "MAX_TEXT"]

FORMAT = 1
MAX_TEXT = 4096
"""Longer expressions are not stored."""
MAX_DEPTH = 64
"""Nor those nested deeper (counting parentheses), so that reading and writing nodes
recursively is safe."""
MAX_ENTRIES = 4096
"""A store that would grow past this many entries starts afresh (real projects use a few
hundred expressions; random ones, as tests generate, must not make every run read a big
file)."""


def cache_file(stem: str, suffix: str) -> Path | None:
    """``<stem>-py<version><suffix>`` in the user cache directory (made if missing), or
    ``None`` when there is no usable one (then nothing is cached)."""
    from ..index.cache import default_cache_root

    try:
        root = default_cache_root()
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return root / f"{stem}-py{sys.version_info[0]}{sys.version_info[1]}{suffix}"


def grammar_text() -> str:
    """The text of ``cfg.lark`` as installed with the package."""
    from importlib import resources

    return (resources.files("nocargo_py") / "grammar" / "cfg.lark").read_text(encoding="utf-8")


class _Store:
    """The entries read from the file plus those parsed in this run."""

    def __init__(self, path: Path | None, grammar: str) -> None:
        self.path = path
        self.grammar = grammar
        self.entries: dict[str, Any] = _read(path, grammar) if path is not None else {}
        self.decoded: dict[str, CfgExpr | CfgOption] = {}
        self.dirty = False

    def flush(self) -> None:
        if not self.dirty or self.path is None:
            return
        self.dirty = False
        data = {"format": FORMAT, "grammar": self.grammar,
                "entries": dict(sorted(self.entries.items()))}
        try:
            replace_file(self.path, json.dumps(data, separators=(",", ":")))
        except OSError:
            pass  # only a cache


def _read(path: Path, grammar: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not (isinstance(data, dict) and data.get("format") == FORMAT
            and data.get("grammar") == grammar and isinstance(data.get("entries"), dict)):
        return {}
    return data["entries"]


def _parser_hash() -> str:
    """What a stored parse depends on: the grammar, and the code that turns its parse into
    syntax-tree nodes (a change to either starts a new store)."""
    h = hashlib.sha256(grammar_text().encode("utf-8"))
    here = Path(__file__).parent
    for name in ("_grammar.py", "ast.py", "parser.py", "_memo.py"):
        try:
            h.update((here / name).read_bytes())
        except OSError:  # pragma: no cover - installed without sources: the grammar decides
            h.update(name.encode())
    return h.hexdigest()


@cache
def _store() -> _Store:
    store = _Store(cache_file("cfg-parsed", ".json"), _parser_hash())
    atexit.register(store.flush)
    return store


def _key(start: str, text: str) -> str:
    return f"{start}:{text}"


def _storable(text: str) -> bool:
    if len(text) > MAX_TEXT:
        return False
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch == ")":
            depth -= 1
    return True


def lookup(start: str, text: str) -> CfgExpr | CfgOption | None:
    """The stored parse of ``text`` from grammar rule ``start``, or ``None``."""
    store = _store()
    key = _key(start, text)
    found = store.decoded.get(key)
    if found is not None:
        return found
    raw = store.entries.get(key)
    if raw is None:
        return None
    try:
        found = _decode(raw)
    except (TypeError, ValueError, IndexError, RecursionError):
        del store.entries[key]  # not what this module writes: parse again, store afresh
        return None
    store.decoded[key] = found
    return found


def remember(start: str, text: str, expr: CfgExpr | CfgOption) -> None:
    """Store a successful parse (written at exit)."""
    if not _storable(text):
        return
    store = _store()
    key = _key(start, text)
    if len(store.entries) >= MAX_ENTRIES and key not in store.entries:
        store.entries = {}
    store.decoded[key] = expr
    store.entries[key] = _encode(expr)
    store.dirty = True


def _encode(expr: CfgExpr | CfgOption) -> list:
    if isinstance(expr, CfgName):
        return ["name", expr.name, expr.raw]
    if isinstance(expr, CfgKeyValue):
        return ["kv", expr.name, expr.value, expr.raw]
    if isinstance(expr, CfgBool):
        return ["bool", expr.value]
    if isinstance(expr, CfgNot):
        return ["not", _encode(expr.expr)]
    if isinstance(expr, CfgAll):
        return ["all", [_encode(e) for e in expr.items]]
    if isinstance(expr, CfgAny):
        return ["any", [_encode(e) for e in expr.items]]
    raise TypeError(f"not a cfg node: {expr!r}")


def _decode(raw: Any) -> Any:
    if not isinstance(raw, list) or not raw:
        raise ValueError("bad node")
    tag = raw[0]
    if tag == "name" and len(raw) == 3 and isinstance(raw[1], str) and isinstance(raw[2], bool):
        return CfgName(raw[1], raw[2])
    if (tag == "kv" and len(raw) == 4 and isinstance(raw[1], str) and isinstance(raw[2], str)
            and isinstance(raw[3], bool)):
        return CfgKeyValue(raw[1], raw[2], raw[3])
    if tag == "bool" and len(raw) == 2 and isinstance(raw[1], bool):
        return CfgBool(raw[1])
    if tag == "not" and len(raw) == 2:
        return CfgNot(_decode(raw[1]))
    if tag in ("all", "any") and len(raw) == 2 and isinstance(raw[1], list):
        items = tuple(_decode(e) for e in raw[1])
        return CfgAll(items) if tag == "all" else CfgAny(items)
    raise ValueError("bad node")
