"""Where a package comes from: :class:`SourceId` and :class:`PackageId`.

Cargo writes a source as ``<protocol>+<url>[?<ref>][#<precise>]``:

* ``registry+https://github.com/rust-lang/crates.io-index`` — crates.io (always written
  this way, although we fetch from the sparse index ``https://index.crates.io/``);
* ``sparse+https://example.com/index/`` — a sparse registry (the ``sparse+`` prefix is
  part of the URL);
* ``git+https://host/repo?branch=B#<commit>`` (or ``?tag=``/``?rev=``; no query for the
  default branch);
* ``path+file:///abs/dir`` — only in ``cargo metadata`` ids, never in ``Cargo.lock``.

Lockfile v4 URL-encodes git query values (form encoding); earlier versions write them raw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote_plus

from .errors import NocargoError

__all__ = [
    "CRATES_IO_INDEX",
    "CRATES_IO_SPARSE",
    "GitReference",
    "PackageId",
    "SourceId",
    "SourceKind",
    "canonical_url",
    "form_urlencode",
]

CRATES_IO_INDEX = "https://github.com/rust-lang/crates.io-index"
CRATES_IO_SPARSE = "sparse+https://index.crates.io/"


class SourceKind(enum.Enum):
    """The protocol of a source. ``rank`` is cargo's sort order (``SourceKind``'s ``Ord``):
    path < registry < sparse < directory < git."""

    PATH = "path"
    GIT = "git"
    REGISTRY = "registry"
    SPARSE = "sparse"
    DIRECTORY = "directory"

    @property
    def rank(self) -> int:
        return _KIND_RANK[self]


_KIND_RANK = {
    SourceKind.PATH: 0,
    SourceKind.REGISTRY: 1,
    SourceKind.SPARSE: 2,
    SourceKind.DIRECTORY: 3,
    SourceKind.GIT: 4,
}

_GIT_REF_RANK = {"tag": 0, "branch": 1, "rev": 2, "default": 3}


@dataclass(frozen=True, order=True)
class GitReference:
    """A git dependency's requested ref: ``branch``, ``tag``, ``rev`` or ``default`` (HEAD)."""

    kind: str  # "branch" | "tag" | "rev" | "default"
    value: str = ""

    DEFAULT_KIND = "default"

    @classmethod
    def default(cls) -> "GitReference":
        return cls("default", "")

    def is_default(self) -> bool:
        return self.kind == "default"

    def query(self, *, encode: bool) -> str:
        """``?branch=x`` style suffix (empty for the default branch).

        ``encode`` applies ``form_urlencoded::byte_serialize`` (lockfile v4 and
        ``cargo metadata``): only ``A-Za-z0-9*-._`` stay, space becomes ``+``.
        """
        if self.is_default():
            return ""
        value = form_urlencode(self.value) if encode else self.value
        return f"?{self.kind}={value}"

    def sort_key(self) -> tuple:
        """Cargo's ``GitReference`` order: tag < branch < rev < default, then the value."""
        return (_GIT_REF_RANK[self.kind], self.value)

    @classmethod
    def from_query(cls, query: str) -> "GitReference":
        """cargo's ``GitReference::from_query``: the last ``branch``/``ref``/``tag``/``rev``
        pair wins, other pairs are ignored, values are form-decoded (``+`` is a space)."""
        reference = cls.default()
        for pair in query.split("&"):
            if not pair:
                continue
            key, _, value = pair.partition("=")
            key = unquote_plus(key)
            if key in ("branch", "ref"):
                reference = cls("branch", unquote_plus(value))
            elif key in ("tag", "rev"):
                reference = cls(key, unquote_plus(value))
        return reference


def form_urlencode(value: str) -> str:
    """``url::form_urlencoded::byte_serialize``: keep ``A-Za-z0-9*-._``, space -> ``+``."""
    out: list[str] = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        if ch.isascii() and (ch.isalnum() or ch in "*-._"):
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


@dataclass(frozen=True)
class SourceId:
    """A package source. ``url`` has no protocol prefix except for sparse registries.

    ``precise`` is the locked git commit (or ``None``); it is not part of equality used for
    dependency matching — use :meth:`without_precise` where that matters.
    """

    kind: SourceKind
    url: str
    reference: GitReference | None = None
    precise: str | None = None

    def __hash__(self) -> int:
        # The same value as the dataclass hash, computed once: source ids (and package ids,
        # below) are dictionary keys all over the resolvers and the planner.
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.kind, self.url, self.reference, self.precise))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_hash", "_sort_key")}

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def crates_io(cls) -> "SourceId":
        return _interned_source(SourceKind.REGISTRY, CRATES_IO_INDEX)

    @classmethod
    def for_path(cls, directory: Path | str) -> "SourceId":
        return _interned_source(SourceKind.PATH, Path(directory).as_posix())

    @classmethod
    def for_registry(cls, index_url: str) -> "SourceId":
        """A registry from its index URL as written in config (``sparse+`` prefix kept)."""
        if index_url.startswith("sparse+"):
            return _interned_source(SourceKind.SPARSE, index_url)
        if index_url.startswith("registry+"):
            index_url = index_url[len("registry+"):]
        return _interned_source(SourceKind.REGISTRY, index_url)

    @classmethod
    def for_git(cls, url: str, reference: GitReference, precise: str | None = None) -> "SourceId":
        return cls(SourceKind.GIT, url, reference, precise)

    @classmethod
    def parse(cls, text: str) -> "SourceId":
        """Parse a lockfile / package-id source string (``registry+…``, ``git+…``…)."""
        proto, sep, rest = text.partition("+")
        if not sep or not rest:
            raise NocargoError(f"invalid source `{text}`: expected `<kind>+<url>`")
        if proto == "registry":
            return _interned_source(SourceKind.REGISTRY, rest)
        if proto == "sparse":
            return _interned_source(SourceKind.SPARSE, text)
        if proto == "path":
            url = rest
            if url.startswith("file://"):
                url = url[len("file://"):]
            return _interned_source(SourceKind.PATH, url)
        if proto == "directory":
            return cls(SourceKind.DIRECTORY, rest)
        if proto == "git":
            body, _, precise = rest.partition("#")
            base, _, query = body.partition("?")
            reference = GitReference.from_query(query)
            return cls(SourceKind.GIT, base, reference, precise or None)
        raise NocargoError(f"unsupported source protocol `{proto}` in `{text}`")

    # -- predicates -----------------------------------------------------------------------
    def is_registry(self) -> bool:
        return self.kind in (SourceKind.REGISTRY, SourceKind.SPARSE)

    def is_crates_io(self) -> bool:
        return (self.kind is SourceKind.REGISTRY and self.url == CRATES_IO_INDEX) or (
            self.kind is SourceKind.SPARSE and self.url == CRATES_IO_SPARSE
        )

    def is_path(self) -> bool:
        return self.kind is SourceKind.PATH

    def is_git(self) -> bool:
        return self.kind is SourceKind.GIT

    def without_precise(self) -> "SourceId":
        return SourceId(self.kind, self.url, self.reference, None) if self.precise else self

    def with_precise(self, precise: str | None) -> "SourceId":
        return SourceId(self.kind, self.url, self.reference, precise)

    def canonical(self) -> "SourceId":
        """crates.io in its one lockfile spelling; other sources unchanged (minus precise)."""
        if self.is_crates_io():
            return SourceId.crates_io()
        return self.without_precise()

    # -- formatting ------------------------------------------------------------------------
    def to_lock_string(self, *, encode_query: bool = True, with_precise: bool = True) -> str:
        """The string cargo writes in ``Cargo.lock`` (``encode_query``: lockfile v4 rules)."""
        if self.kind is SourceKind.REGISTRY:
            return f"registry+{self.url}"
        if self.kind is SourceKind.SPARSE:
            return self.url
        if self.kind is SourceKind.GIT:
            ref = self.reference.query(encode=encode_query) if self.reference else ""
            precise = f"#{self.precise}" if (with_precise and self.precise) else ""
            return f"git+{self.url}{ref}{precise}"
        if self.kind is SourceKind.PATH:
            return f"path+{_file_url(self.url)}"
        return f"directory+{_file_url(self.url)}"

    def to_metadata_string(self) -> str:
        """The source string as ``cargo metadata`` prints it in ``source`` fields.

        Query values are *not* encoded there (``?branch=feat/x``; cargo 1.95 serialises
        ``SourceId::as_url``), unlike package ids (:meth:`PackageId.to_spec`) and lock v4.
        """
        return self.to_lock_string(encode_query=False)

    def sort_key(self) -> tuple:
        """Cargo's ``SourceId`` order: kind (git: by reference), then the canonical URL
        (computed once per object: every package-id sort and source comparison uses it)."""
        key = self.__dict__.get("_sort_key")
        if key is None:
            ref = self.reference or GitReference.default()
            ref_key = ref.sort_key() if self.kind is SourceKind.GIT else ()
            key = (self.kind.rank, ref_key, canonical_url(self.url))
            object.__setattr__(self, "_sort_key", key)
        return key

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.to_lock_string()


# Interning: equal ids built from the same text are the same object, so the dictionaries
# keyed by ids all over the resolvers and the planner stop at the identity check instead
# of calling ``__eq__``. Equality never depends on it (an evicted id is only a copy), and
# the caches are bounded for long-lived processes.

@lru_cache(maxsize=4096)
def _interned_source(kind: SourceKind, url: str) -> SourceId:
    """The one :class:`SourceId` of a registry, sparse registry or path ``url``."""
    return SourceId(kind, url)


@lru_cache(maxsize=1 << 16)
def intern_package_id(name: str, version: str, source: SourceId) -> PackageId:
    """``PackageId(name, version, source)``, the same object for equal arguments."""
    return PackageId(name, version, source)


def canonical_url(url: str) -> str:
    """cargo's ``CanonicalUrl``: no trailing ``/``, no ``.git`` suffix, GitHub lower-cased.

    Cargo compares (and orders) sources by kind and this form, so ``https://host/r.git``
    and ``https://host/r/`` are the same git source.
    """
    prefix = ""
    if url.startswith("sparse+"):
        prefix, url = "sparse+", url[len("sparse+"):]
    base, hashmark, fragment = url.partition("#")
    base, qmark, query = base.partition("?")
    if base.endswith("/") and base.count("/") > 2:
        base = base[:-1]
    scheme, sep, rest = base.partition("://")
    if sep and rest.split("/", 1)[0].lower() == "github.com":
        scheme = "https"
        base = f"{scheme}://{rest.lower()}"
    if base.endswith(".git"):
        base = base[: -len(".git")]
    return prefix + base + qmark + query + hashmark + fragment


def _file_url(path: str) -> str:
    if path.startswith("file://"):
        return path
    return "file://" + quote_path(path)


def quote_path(path: str) -> str:
    """Percent-encode a filesystem path the way the `url` crate does in ``file://`` URLs."""
    from urllib.parse import quote

    return quote(path, safe="/:@!$&'()*+,;=-._~")


@dataclass(frozen=True)
class PackageId:
    """A package's identity: name, version (as written), source."""

    name: str
    version: str
    source: SourceId

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.name, self.version, self.source))
            object.__setattr__(self, "_hash", h)
        return h

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def to_spec(self) -> str:
        """cargo's package-id spec string as used in ``cargo metadata`` (since cargo 1.77).

        ``path+file:///dir#0.1.0`` when the directory name equals the package name, else
        ``path+file:///dir#name@0.1.0``; registries always ``…#name@version``; git sources
        without the locked commit (``git+url?branch=x#name@1.0.0``).
        """
        base = self.source.to_lock_string(encode_query=True, with_precise=False)
        if self.source.is_path() or self.source.is_git():
            last = self.source.url.rstrip("/").rsplit("/", 1)[-1]
            if self.source.is_git() and last.endswith(".git"):
                last = last[: -len(".git")]
            if last == self.name:
                return f"{base}#{self.version}"
        return f"{base}#{self.name}@{self.version}"

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
