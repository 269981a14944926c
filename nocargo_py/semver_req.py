"""Cargo's versions and version requirements (the Rust ``semver`` crate's rules).

:class:`Version` is a strict SemVer 2.0 version; :class:`VersionReq` a comma-separated list
of :class:`Comparator` s (``^`` when no operator is written, ``~``, ``=``, ``>``, ``>=``,
``<``, ``<=``, wildcards ``*``/``x``/``X``). Parsing follows ``semver::VersionReq::from_str``
character by character, so the same texts are accepted and rejected as by cargo, with the
same messages (``unexpected character 'v' while parsing major version number``), raised as
:class:`~nocargo_py.errors.ParseError` with a caret under the offending text.

Matching is ``semver``'s ``matches``: every comparator must match, and a pre-release version
only matches when some comparator names the same ``major.minor.patch`` *with* a pre-release
(so ``1``, ``*`` or ``>=1.2, <1.4`` never select ``1.3.0-alpha.1``). Build metadata is
ignored when matching.

``str(req)`` is the crate's ``Display`` — what ``cargo metadata`` prints as ``req``:
``"1.0"`` → ``"^1.0"``, ``">= 1.2 , <2"`` → ``">=1.2, <2"``, ``"*"`` → ``"*"``.

The grammar is hand-written rather than delegated to the Python ``semver`` package because
that package's parser differs from the Rust crate in what it accepts and how it reports
errors; the package serves as an independent oracle for version *ordering* in the tests
(:meth:`Version.to_semver` converts).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import ClassVar, Iterable

from .errors import ParseError

__all__ = [
    "Comparator",
    "Op",
    "Version",
    "VersionReq",
    "compat_key",
    "parse_version",
    "parse_req",
]

_U64_MAX = 2**64 - 1
_MAX_COMPARATORS = 32


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------

_POSITION_NAMES = {
    "major": "major version number",
    "minor": "minor version number",
    "patch": "patch version number",
    "pre": "pre-release identifier",
    "build": "build metadata",
}


def _char_debug(ch: str) -> str:
    """Rust's ``{:?}`` for a ``char``: ``'v'``, ``'\\0'``, ``'\\''``."""
    escapes = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "'": "\\'", "\\": "\\\\"}
    if ch in escapes:
        return f"'{escapes[ch]}'"
    if ch.isprintable():
        return f"'{ch}'"
    return "'\\u{%x}'" % ord(ch)


class _Fail(Exception):
    """Internal: a parse failure at ``span`` with the semver crate's message."""

    def __init__(self, message: str, span: tuple[int, int]) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def _unexpected(text: str, i: int, pos: str, *, after: bool = False) -> _Fail:
    if i >= len(text):
        return _Fail(f"unexpected end of input while parsing {_POSITION_NAMES[pos]}", (i, i))
    ch = text[i]
    if after:
        return _Fail(f"unexpected character {_char_debug(ch)} after {_POSITION_NAMES[pos]}", (i, i + 1))
    return _Fail(
        f"unexpected character {_char_debug(ch)} while parsing {_POSITION_NAMES[pos]}", (i, i + 1)
    )


# --------------------------------------------------------------------------------------
# lexical pieces (mirroring semver's parse.rs)
# --------------------------------------------------------------------------------------


def _numeric(text: str, i: int, pos: str) -> tuple[int, int]:
    """A numeric identifier at ``i``: returns (value, end). No leading zeros, fits in u64."""
    start = i
    value = 0
    while i < len(text) and "0" <= text[i] <= "9":
        if value == 0 and i > start:
            raise _Fail(f"invalid leading zero in {_POSITION_NAMES[pos]}", (start, i + 1))
        value = value * 10 + (ord(text[i]) - 48)
        if value > _U64_MAX:
            raise _Fail(f"value of {_POSITION_NAMES[pos]} exceeds u64::MAX", (start, i + 1))
        i += 1
    if i == start:
        raise _unexpected(text, i, pos)
    return value, i


def _is_wildcard(text: str, i: int) -> bool:
    return i < len(text) and text[i] in "*xX"


def _identifier(text: str, i: int, pos: str) -> int:
    """A dot-separated pre-release/build identifier starting at ``i``; returns its end.

    An empty identifier (nothing acceptable at ``i``) returns ``i`` unchanged; the caller
    reports "empty identifier segment".
    """
    start = i
    seg_start = i
    seg_has_nondigit = False
    while True:
        ch = text[i] if i < len(text) else None
        if ch is not None and ch.isascii() and (ch.isalpha() or ch == "-"):
            seg_has_nondigit = True
            i += 1
            continue
        if ch is not None and "0" <= ch <= "9":
            i += 1
            continue
        seg_len = i - seg_start
        if seg_len == 0:
            if i == start and ch != ".":
                return start
            raise _Fail(f"empty identifier segment in {_POSITION_NAMES[pos]}", (seg_start, seg_start + 1))
        if pos == "pre" and seg_len > 1 and not seg_has_nondigit and text[seg_start] == "0":
            raise _Fail(f"invalid leading zero in {_POSITION_NAMES[pos]}", (seg_start, i))
        if ch == ".":
            i += 1
            seg_start = i
            seg_has_nondigit = False
            continue
        return i


def _pre_or_build(text: str, i: int, pos: str) -> tuple[str, int]:
    """Parse the identifier after ``-``/``+`` at ``i`` (already past the sign)."""
    end = _identifier(text, i, pos)
    if end == i:
        raise _Fail(f"empty identifier segment in {_POSITION_NAMES[pos]}", (i - 1, i))
    return text[i:end], end


# --------------------------------------------------------------------------------------
# Version
# --------------------------------------------------------------------------------------


def _pre_key(pre: str) -> tuple:
    """SemVer precedence of a pre-release: none sorts after any; numeric < alphanumeric."""
    if not pre:
        return (1,)
    parts = []
    for ident in pre.split("."):
        if ident.isdigit():
            parts.append((0, int(ident), ""))
        else:
            parts.append((1, 0, ident))
    return (0, tuple(parts))


def _build_key(build: str) -> tuple:
    """The Rust crate's total order on build metadata (empty first; numeric segments by value)."""
    if not build:
        return ()
    parts = []
    for ident in build.split("."):
        if ident.isdigit():
            stripped = ident.lstrip("0")
            parts.append((0, len(stripped), stripped, len(ident)))
        else:
            parts.append((1, 0, ident, 0))
    return (1, tuple(parts))


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    """A SemVer 2.0 version. Ordering is SemVer precedence (build metadata last, as in Rust)."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    build: str = ""
    _key: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_key", (self.major, self.minor, self.patch, _pre_key(self.pre), _build_key(self.build))
        )

    @classmethod
    def parse(cls, text: str) -> "Version":
        """Parse strictly (``semver::Version::parse``); raises :class:`ParseError`."""
        try:
            return _parse_version(text)
        except _Fail as fail:
            raise ParseError(fail.message, source=text, span=fail.span, what="a version") from None

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre)

    @property
    def compat_key(self) -> str:
        """Cargo's semver-compatibility class: ``"1"``, ``"0.2"`` or ``"0.0.3"``."""
        return compat_key(self)

    def without_build(self) -> "Version":
        return Version(self.major, self.minor, self.patch, self.pre) if self.build else self

    def to_semver(self):  # -> semver.Version (the PyPI package)
        """The same version as a :class:`semver.Version` of the ``semver`` package."""
        import semver

        return semver.Version(self.major, self.minor, self.patch, self.pre or None, self.build or None)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text


def _parse_version(text: str) -> Version:
    if not text:
        raise _Fail("empty string, expected a semver version", (0, 0))
    major, i = _numeric(text, 0, "major")
    i = _dot(text, i, "major")
    minor, i = _numeric(text, i, "minor")
    i = _dot(text, i, "minor")
    patch, i = _numeric(text, i, "patch")
    pos = "patch"
    pre = build = ""
    if i < len(text) and text[i] == "-":
        pos = "pre"
        pre, i = _pre_or_build(text, i + 1, "pre")
    if i < len(text) and text[i] == "+":
        pos = "build"
        build, i = _pre_or_build(text, i + 1, "build")
    if i < len(text):
        raise _unexpected(text, i, pos, after=True)
    return Version(major, minor, patch, pre, build)


def _dot(text: str, i: int, pos: str) -> int:
    if i < len(text) and text[i] == ".":
        return i + 1
    raise _unexpected(text, i, pos, after=True)


def parse_version(text: str) -> Version:
    """Shorthand for :meth:`Version.parse`."""
    return Version.parse(text)


def compat_key(version: Version) -> str:
    """Cargo's compatibility class of a version (at most one per class in a resolve).

    ``major`` when it is non-zero, else ``0.minor`` when minor is non-zero, else
    ``0.0.patch``.
    """
    if version.major > 0:
        return str(version.major)
    if version.minor > 0:
        return f"0.{version.minor}"
    return f"0.0.{version.patch}"


# --------------------------------------------------------------------------------------
# Comparators and requirements
# --------------------------------------------------------------------------------------


class Op(enum.Enum):
    """A comparator's operator. ``WILDCARD`` is ``1.*``/``1.2.x`` written without an operator."""

    EXACT = "="
    GREATER = ">"
    GREATER_EQ = ">="
    LESS = "<"
    LESS_EQ = "<="
    TILDE = "~"
    CARET = "^"
    WILDCARD = ""


@dataclass(frozen=True)
class Comparator:
    """One comparator: operator, version with optional minor/patch, pre-release."""

    op: Op
    major: int
    minor: int | None = None
    patch: int | None = None
    pre: str = ""

    def matches(self, version: Version) -> bool:
        """``semver::Comparator::matches`` (including the pre-release rule for one comparator)."""
        return _matches_impl(self, version) and (not version.pre or _pre_is_compatible(self, version))

    def __str__(self) -> str:
        text = f"{self.op.value}{self.major}"
        if self.minor is not None:
            text += f".{self.minor}"
            if self.patch is not None:
                text += f".{self.patch}"
                if self.pre:
                    text += f"-{self.pre}"
            elif self.op is Op.WILDCARD:
                text += ".*"
        elif self.op is Op.WILDCARD:
            text += ".*"
        return text


@dataclass(frozen=True)
class VersionReq:
    """A version requirement: comparators that must all match. No comparators = ``*``."""

    comparators: tuple[Comparator, ...] = ()

    STAR: ClassVar["VersionReq"]  # the requirement `*` (set below)

    @classmethod
    def parse(cls, text: str) -> "VersionReq":
        """Parse as ``semver::VersionReq::parse``; raises :class:`ParseError` with a caret."""
        try:
            return _parse_req(text)
        except _Fail as fail:
            raise ParseError(
                fail.message, source=text, span=fail.span, what="a version requirement"
            ) from None

    @classmethod
    def exact(cls, version: Version) -> "VersionReq":
        """``=major.minor.patch[-pre]`` (what ``cargo update --precise`` / locking uses)."""
        return cls((Comparator(Op.EXACT, version.major, version.minor, version.patch, version.pre),))

    @property
    def is_star(self) -> bool:
        return not self.comparators

    def matches(self, version: Version | str) -> bool:
        """Does ``version`` satisfy this requirement (cargo's pre-release rule included)?"""
        if isinstance(version, str):
            version = Version.parse(version)
        for cmp in self.comparators:
            if not _matches_impl(cmp, version):
                return False
        if not version.pre:
            return True
        return any(_pre_is_compatible(cmp, version) for cmp in self.comparators)

    def filter(self, versions: Iterable[Version]) -> list[Version]:
        """The versions that match, in the given order."""
        return [v for v in versions if self.matches(v)]

    def __str__(self) -> str:
        if not self.comparators:
            return "*"
        return ", ".join(str(c) for c in self.comparators)


VersionReq.STAR = VersionReq(())


def parse_req(text: str) -> VersionReq:
    """Shorthand for :meth:`VersionReq.parse`."""
    return VersionReq.parse(text)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _wildcard_error(ch: str, span: tuple[int, int]) -> _Fail:
    return _Fail(f"wildcard req ({ch}) must be the only comparator in the version req", span)


def _parse_req(text: str) -> VersionReq:
    i = _skip_spaces(text, 0)
    if _is_wildcard(text, i):
        ch = text[i]
        rest = _skip_spaces(text, i + 1)
        if rest == len(text):
            return VersionReq.STAR
        if text[rest] == ",":
            return _raise(_wildcard_error(ch, (i, i + 1)))
        return _raise(_Fail("unexpected character after wildcard in version req", (i + 1, i + 2)))
    comparators: list[Comparator] = []
    while True:
        try:
            cmp, pos, i = _comparator(text, i)
        except _Fail as fail:
            if _is_wildcard(text, i):
                rest = _skip_spaces(text, i + 1)
                if rest == len(text) or text[rest] == ",":
                    raise _wildcard_error(text[i], (i, i + 1)) from None
            raise
        comparators.append(cmp)
        if i == len(text):
            return VersionReq(tuple(comparators))
        if text[i] != ",":
            raise _Fail(
                f"expected comma after {_POSITION_NAMES[pos]}, found {_char_debug(text[i])}",
                (i, i + 1),
            )
        i = _skip_spaces(text, i + 1)
        if len(comparators) == _MAX_COMPARATORS:
            raise _Fail("excessive number of version comparators", (0, len(text)))


def _raise(fail: _Fail):
    raise fail


def _comparator(text: str, i: int) -> tuple[Comparator, str, int]:
    """One comparator at ``i``; returns it, the last position parsed, and the index after it."""
    op = Op.CARET
    default_op = True
    for token, value in ((">=", Op.GREATER_EQ), ("<=", Op.LESS_EQ), ("=", Op.EXACT),
                         (">", Op.GREATER), ("<", Op.LESS), ("~", Op.TILDE), ("^", Op.CARET)):
        if text.startswith(token, i):
            op, default_op = value, False
            i += len(token)
            break
    i = _skip_spaces(text, i)
    pos = "major"
    major, i = _numeric(text, i, pos)
    minor = patch = None
    has_wildcard = False
    if i < len(text) and text[i] == ".":
        i += 1
        pos = "minor"
        if _is_wildcard(text, i):
            has_wildcard = True
            if default_op:
                op = Op.WILDCARD
            i += 1
        else:
            minor, i = _numeric(text, i, pos)
    if i < len(text) and text[i] == ".":
        i += 1
        pos = "patch"
        if _is_wildcard(text, i):
            if default_op:
                op = Op.WILDCARD
            i += 1
        elif has_wildcard:
            raise _Fail("unexpected character after wildcard in version req", (i, i + 1))
        else:
            patch, i = _numeric(text, i, pos)
    pre = ""
    if patch is not None and i < len(text) and text[i] == "-":
        pos = "pre"
        pre, i = _pre_or_build(text, i + 1, "pre")
    if patch is not None and i < len(text) and text[i] == "+":
        pos = "build"
        _, i = _pre_or_build(text, i + 1, "build")
    i = _skip_spaces(text, i)
    return Comparator(op, major, minor, patch, pre), pos, i


# --------------------------------------------------------------------------------------
# matching (semver's eval.rs)
# --------------------------------------------------------------------------------------


def _pre_cmp(a: str, b: str) -> int:
    ka, kb = _pre_key(a), _pre_key(b)
    return (ka > kb) - (ka < kb)


def _matches_impl(cmp: Comparator, ver: Version) -> bool:
    op = cmp.op
    if op is Op.EXACT or op is Op.WILDCARD:
        return _matches_exact(cmp, ver)
    if op is Op.GREATER:
        return _matches_greater(cmp, ver)
    if op is Op.GREATER_EQ:
        return _matches_exact(cmp, ver) or _matches_greater(cmp, ver)
    if op is Op.LESS:
        return _matches_less(cmp, ver)
    if op is Op.LESS_EQ:
        return _matches_exact(cmp, ver) or _matches_less(cmp, ver)
    if op is Op.TILDE:
        return _matches_tilde(cmp, ver)
    return _matches_caret(cmp, ver)


def _matches_exact(cmp: Comparator, ver: Version) -> bool:
    if ver.major != cmp.major:
        return False
    if cmp.minor is not None and ver.minor != cmp.minor:
        return False
    if cmp.patch is not None and ver.patch != cmp.patch:
        return False
    return ver.pre == cmp.pre


def _matches_greater(cmp: Comparator, ver: Version) -> bool:
    if ver.major != cmp.major:
        return ver.major > cmp.major
    if cmp.minor is None:
        return False
    if ver.minor != cmp.minor:
        return ver.minor > cmp.minor
    if cmp.patch is None:
        return False
    if ver.patch != cmp.patch:
        return ver.patch > cmp.patch
    return _pre_cmp(ver.pre, cmp.pre) > 0


def _matches_less(cmp: Comparator, ver: Version) -> bool:
    if ver.major != cmp.major:
        return ver.major < cmp.major
    if cmp.minor is None:
        return False
    if ver.minor != cmp.minor:
        return ver.minor < cmp.minor
    if cmp.patch is None:
        return False
    if ver.patch != cmp.patch:
        return ver.patch < cmp.patch
    return _pre_cmp(ver.pre, cmp.pre) < 0


def _matches_tilde(cmp: Comparator, ver: Version) -> bool:
    if ver.major != cmp.major:
        return False
    if cmp.minor is not None and ver.minor != cmp.minor:
        return False
    if cmp.patch is not None and ver.patch != cmp.patch:
        return ver.patch > cmp.patch
    return _pre_cmp(ver.pre, cmp.pre) >= 0


def _matches_caret(cmp: Comparator, ver: Version) -> bool:
    if ver.major != cmp.major:
        return False
    minor = cmp.minor
    if minor is None:
        return True
    patch = cmp.patch
    if patch is None:
        return ver.minor >= minor if cmp.major > 0 else ver.minor == minor
    if cmp.major > 0:
        if ver.minor != minor:
            return ver.minor > minor
        if ver.patch != patch:
            return ver.patch > patch
    elif minor > 0:
        if ver.minor != minor:
            return False
        if ver.patch != patch:
            return ver.patch > patch
    elif ver.minor != minor or ver.patch != patch:
        return False
    return _pre_cmp(ver.pre, cmp.pre) >= 0


def _pre_is_compatible(cmp: Comparator, ver: Version) -> bool:
    return (
        cmp.major == ver.major
        and cmp.minor == ver.minor
        and cmp.patch == ver.patch
        and bool(cmp.pre)
    )
