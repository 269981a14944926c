"""Lazy parsing of index files: one JSON object per line, one line per published version.

A project needs one version out of the hundreds listed in a file, so :class:`IndexFile`
only *scans* each line for the few scalar fields that selection needs (``name``, ``vers``,
``yanked``, ``cksum``, ``v``, ``links``, ``rust_version``) and JSON-decodes a line only
when :meth:`IndexFile.summary` asks for that version.

Why the scan is safe: inside a JSON string every ``"`` is preceded by a backslash, so a
``"vers"`` whose opening quote is not, followed by optional blanks and ``:``, can only be an
object key. The keys looked for do not occur in dependency objects, and feature maps (whose
keys are free-form) always have array values, which the scan does not accept. String values
with escapes are decoded with ``json``; a key found twice or an unexpected value type makes
the line fall back to a full ``json.loads``.

Lines are skipped as cargo skips them: blank lines, lines that are not JSON objects,
lines without a valid ``name``/``vers``, and lines with ``v`` greater than
:data:`~nocargo_py.index.types.INDEX_V_MAX`. A line that passes the scan but turns out to be
broken JSON is reported by :meth:`IndexFile.summary` (:class:`InvalidIndexEntry`); callers
that select versions treat that like cargo's "invalid" index summaries and skip it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Mapping

from ..errors import NocargoError
from ..source import SourceId, intern_package_id
from ..summary import DepKind, Dependency, Summary, build_feature_map
from .types import INDEX_V_MAX, IndexVersion, NoSuchVersion

__all__ = ["IndexFile", "InvalidIndexEntry", "entry_to_summary", "scan_line"]

# A key's opening quote is never preceded by a backslash; inside a JSON string every quote
# is. String values may hold escapes (decoded with json.loads when they do).
_SCAN_RE = re.compile(
    rb'"(?<!\\")(vers|yanked|cksum|v|links|rust_version)"\s*:\s*'
    rb'("[^"\\]*(?:\\.[^"\\]*)*"|true|false|null|\d+)'
)
_VERS_RE = re.compile(rb'"(?<!\\")vers"\s*:\s*"([^"\\]*)"')
_NAME_RE = re.compile(rb'\{\s*"name"\s*:\s*("[^"\\]*(?:\\.[^"\\]*)*")')
# semver 2.0.0 (the official regular expression); cargo skips lines whose `vers` fails it.
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class InvalidIndexEntry(NocargoError):
    """An index line that names a version but cannot be decoded into a summary."""


def scan_line(line: bytes) -> IndexVersion | None:
    """Extract the cheap fields of one line; ``None`` if cargo would skip the line."""
    line = line.strip()
    if not line or line[:1] != b"{" or line[-1:] != b"}":
        return None
    fields: dict[bytes, bytes] = {}
    for m in _SCAN_RE.finditer(line):
        key = m.group(1)
        if key in fields:
            return _scan_slow(line)
        fields[key] = m.group(2)
    name_m = _NAME_RE.match(line)
    vers = fields.get(b"vers")
    if name_m is None or vers is None or vers[:1] != b'"':
        return _scan_slow(line)
    try:
        return _make_version(
            name=_str(name_m.group(1)),
            vers=_str(vers),
            yanked=fields.get(b"yanked", b"false") == b"true",
            cksum=_opt_str(fields.get(b"cksum")),
            links=_opt_str(fields.get(b"links")),
            rust_version=_opt_str(fields.get(b"rust_version")),
            v=fields.get(b"v", b"1"),
        )
    except (UnicodeDecodeError, ValueError):
        return _scan_slow(line)


def _str(raw: bytes) -> str:
    """A JSON string token (quotes included) as text; escapes decoded by ``json``."""
    if b"\\" in raw:
        value = json.loads(raw)
        if not isinstance(value, str):
            raise ValueError("not a string")
        return value
    return raw[1:-1].decode()


def _opt_str(raw: bytes | None) -> str | None:
    if raw is None or raw == b"null":
        return None
    if raw[:1] != b'"':
        raise ValueError("not a string")
    return _str(raw)


def _make_version(*, name: str, vers: str, yanked: bool, cksum: str | None,
                  links: str | None, rust_version: str | None, v: Any) -> IndexVersion | None:
    if not name or not SEMVER_RE.match(vers):
        return None
    v_int = int(v)
    return IndexVersion(name=name, version=vers, yanked=yanked, cksum=cksum, links=links,
                        rust_version=rust_version, v=v_int)


def _scan_slow(line: bytes) -> IndexVersion | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    name, vers = obj.get("name"), obj.get("vers")
    if not isinstance(name, str) or not isinstance(vers, str):
        return None
    v = obj.get("v", 1)
    links = obj.get("links")
    rv = obj.get("rust_version")
    cksum = obj.get("cksum")
    return _make_version(
        name=name, vers=vers, yanked=obj.get("yanked") is True,
        cksum=cksum if isinstance(cksum, str) else None,
        links=links if isinstance(links, str) else None,
        rust_version=rv if isinstance(rv, str) else None,
        v=v if isinstance(v, int) and not isinstance(v, bool) else 1,
    )


def _version_key(version: str) -> str:
    """The look-up key of a version: the string exactly as written (build metadata too)."""
    return version


class IndexFile:
    """One crate's index file: every usable version (scanned), summaries decoded on demand.

    ``complete`` is False for a partial (``--locked-only``) vendored file. ``where`` names
    the file or URL in error messages. Not thread-safe for :meth:`summary` memoisation races
    (harmless: both threads compute the same value).
    """

    def __init__(self, name: str, data: bytes, source_id: SourceId, *,
                 complete: bool = True, where: str = "") -> None:
        self.name = name
        self.source_id = source_id
        self.complete = complete
        self.where = where
        self.raw = data
        # First pass: only find each line's `vers` (one regex search); the other fields
        # are scanned when `versions` is first read or one version is asked for.
        lines: dict[str, bytes] = {}
        for line in data.split(b"\n"):
            line = line.strip()
            if not line or line[:1] != b"{" or line[-1:] != b"}":
                continue
            m = _VERS_RE.search(line)
            if m is not None:
                vers = m.group(1).decode("utf-8", "replace")
            else:
                iv = _scan_slow(line)
                if iv is None:
                    continue
                vers = iv.version
            # A later line for the same version replaces the earlier one (cargo keys its
            # map by `Version`).
            lines.pop(vers, None)
            lines[vers] = line
        self._lines = lines
        self._scanned: dict[str, IndexVersion | None] = {}
        self._versions: tuple[IndexVersion, ...] | None = None
        self._summaries: dict[str, Summary] = {}

    @property
    def versions(self) -> tuple[IndexVersion, ...]:
        """Every usable version in publication order (scanned on first access)."""
        if self._versions is None:
            self._versions = tuple(iv for v in self._lines if (iv := self.get(v)) is not None)
        return self._versions

    def get(self, version: str) -> IndexVersion | None:
        """The scanned entry of ``version``, or ``None`` (not listed, or a line cargo skips)."""
        key = _version_key(version)
        if key in self._scanned:
            return self._scanned[key]
        line = self._lines.get(key)
        iv = scan_line(line) if line is not None else None
        if iv is not None and (iv.v > INDEX_V_MAX or iv.version != key):
            iv = None
        self._scanned[key] = iv
        return iv

    def line(self, version: str) -> bytes:
        """The raw JSON line of ``version``."""
        if self.get(version) is None:
            raise NoSuchVersion(self.name, version, self.source_id, partial=not self.complete)
        return self._lines[_version_key(version)]

    def summary(self, version: str) -> Summary:
        """The full :class:`Summary` of ``version`` (decoded once, then memoised)."""
        key = _version_key(version)
        cached = self._summaries.get(key)
        if cached is not None:
            return cached
        line = self.line(version)
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InvalidIndexEntry(
                f"the index entry of `{self.name} v{version}` is not valid JSON: {exc}",
                notes=[f"in {self.where}"] if self.where else []) from None
        summary = entry_to_summary(obj, self.source_id, where=self.where)
        self._summaries[key] = summary
        return summary


def _expect(cond: bool, what: str, name: str, vers: str, where: str) -> None:
    if not cond:
        raise _invalid(what, name, vers, where)


def _invalid(what: str, name: str, vers: str, where: str) -> InvalidIndexEntry:
    return InvalidIndexEntry(f"the index entry of `{name} v{vers}` is invalid: {what}",
                             notes=[f"in {where}"] if where else [])


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def entry_to_summary(obj: Mapping[str, Any], source_id: SourceId, *, where: str = "") -> Summary:
    """Turn one decoded index object into a :class:`Summary` (cargo's
    ``index_package_to_summary``): ``features2`` merged into ``features``, dependency
    renames (``name`` is the key, ``package`` the real name), empty dependency features
    dropped, ``registry`` mapped to that registry's source.
    """
    name, vers = obj.get("name"), obj.get("vers")
    _expect(isinstance(name, str) and isinstance(vers, str), "`name`/`vers` missing",
            str(name), str(vers), where)
    assert isinstance(name, str) and isinstance(vers, str)
    deps_raw = obj.get("deps", [])
    _expect(isinstance(deps_raw, list), "`deps` is not a list", name, vers, where)
    deps = tuple(_dependency(d, source_id, name, vers, where) for d in deps_raw)

    declared: dict[str, list[str]] = {}
    for key in ("features", "features2"):
        table = obj.get(key)
        if table is None:
            continue
        _expect(isinstance(table, dict) and all(_str_list(v) for v in table.values()),
                f"`{key}` is not a map of string lists", name, vers, where)
        for feat, values in table.items():
            declared.setdefault(feat, []).extend(values)
    try:
        feature_map = build_feature_map(declared, deps, validate=False)
    except NocargoError as exc:
        raise InvalidIndexEntry(
            f"the index entry of `{name} v{vers}` has an invalid feature: {exc.message}",
            notes=[f"in {where}"] if where else []) from None

    links, rv, cksum = obj.get("links"), obj.get("rust_version"), obj.get("cksum")
    _expect(links is None or isinstance(links, str), "`links` is not a string", name, vers, where)
    _expect(rv is None or isinstance(rv, str), "`rust_version` is not a string", name, vers, where)
    _expect(cksum is None or isinstance(cksum, str), "`cksum` is not a string", name, vers, where)
    return Summary(
        package_id=intern_package_id(name, vers, source_id),
        dependencies=deps,
        features=feature_map,
        declared_features={k: tuple(v) for k, v in declared.items()},
        links=links,
        rust_version=rv,
        checksum=cksum,
        yanked=obj.get("yanked") is True,
    )


_KINDS = {"dev": DepKind.DEV, "build": DepKind.BUILD}


def _dependency(d: Any, default: SourceId, name: str, vers: str, where: str) -> Dependency:
    # runs for every dependency of every decoded line: messages are formatted only on failure
    if not isinstance(d, dict):
        raise _invalid("a dependency is not an object", name, vers, where)
    key, req = d.get("name"), d.get("req")
    if not (isinstance(key, str) and key):
        raise _invalid("a dependency has no `name`", name, vers, where)
    if not isinstance(req, str):
        raise _invalid(f"dependency `{key}` has no `req`", name, vers, where)
    package = d.get("package")
    if not (package is None or isinstance(package, str)):
        raise _invalid(f"dependency `{key}`: `package` is not a string", name, vers, where)
    features = d.get("features") or []
    if not _str_list(features):
        raise _invalid(f"dependency `{key}`: `features` is not a string list", name, vers, where)
    target = d.get("target")
    if not (target is None or isinstance(target, str)):
        raise _invalid(f"dependency `{key}`: `target` is not a string", name, vers, where)
    kind = d.get("kind")
    registry = d.get("registry")
    if not (registry is None or isinstance(registry, str)):
        raise _invalid(f"dependency `{key}`: `registry` is not a string", name, vers, where)
    source = SourceId.for_registry(registry) if registry else default
    public = d.get("public")
    return Dependency(
        name=package if package is not None else key,
        req=req,
        source=source,
        kind=_KINDS.get(kind, DepKind.NORMAL) if isinstance(kind, str) else DepKind.NORMAL,
        rename=key if package is not None else None,
        target=target,
        optional=d.get("optional") is True,
        default_features=d.get("default_features", True) is not False,
        features=tuple(f for f in features if f),
        registry=_registry_field(source),
        public=public if isinstance(public, bool) else None,
    )


@lru_cache(maxsize=None)
def _registry_field(source: SourceId) -> str | None:
    """``Dependency.registry`` of a dependency looked up in ``source``."""
    return None if source.is_crates_io() else source.to_lock_string().removeprefix("registry+")
