"""Package ID specifications (``-p foo``, ``foo@1.2``, ``path+file:///dir#foo@0.1.0``).

Cargo's ``PackageIdSpec``: a name, an optional *partial* version (``1``, ``1.2``,
``1.2.3-pre``) and an optional source URL and kind. Used by ``-p``/``--exclude`` and by
``[profile.X.package.<spec>]`` overrides. :meth:`PackageIdSpec.matches` and
:meth:`PackageIdSpec.query` follow cargo (a pre-release version is only matched by a
spec that names a pre-release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import unquote

from ..errors import NocargoError
from ..semver_req import Version
from ..source import PackageId, SourceKind

__all__ = ["PackageIdSpec", "PartialVersion", "source_url"]

_NUM = r"(0|[1-9][0-9]*)"
_PARTIAL = re.compile(
    rf"^{_NUM}(?:\.{_NUM}(?:\.{_NUM}(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?)?)?$"
)
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class PartialVersion:
    """``1``, ``1.2``, ``1.2.3``, ``1.2.3-alpha+build``."""

    major: int
    minor: int | None = None
    patch: int | None = None
    pre: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> "PartialVersion":
        m = _PARTIAL.match(text)
        if not m:
            raise NocargoError(f"invalid version `{text}` in package ID specification: expected "
                               "a version like `1`, `1.2` or `1.2.3`")
        major, minor, patch, pre, build = m.groups()
        return cls(int(major), None if minor is None else int(minor),
                   None if patch is None else int(patch), pre, build)

    def matches(self, version: str) -> bool:
        try:
            v = Version.parse(version)
        except NocargoError:
            return False
        if v.pre and self.pre is None:
            return False
        return (self.major == v.major
                and (self.minor is None or self.minor == v.minor)
                and (self.patch is None or self.patch == v.patch)
                and (self.pre is None or self.pre == v.pre)
                and (self.build is None or self.build == v.build))

    def __str__(self) -> str:
        text = str(self.major)
        if self.minor is not None:
            text += f".{self.minor}"
        if self.patch is not None:
            text += f".{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text


@dataclass(frozen=True)
class PackageIdSpec:
    """A parsed package ID specification."""

    name: str
    version: PartialVersion | None = None
    url: str | None = None  # source URL without protocol prefix (path: a directory)
    kind: SourceKind | None = None
    text: str = ""

    @classmethod
    def parse(cls, spec: str) -> "PackageIdSpec":
        """Parse as ``PackageIdSpec::parse`` does; raises :class:`NocargoError`."""
        if "://" in spec:
            return cls._from_url(spec)
        name, version = _split_spec(spec) or (spec, None)
        if not name or not _NAME.match(name):
            raise NocargoError(f"invalid package ID specification: `{spec}`")
        return cls(name, version, text=spec)

    @classmethod
    def _from_url(cls, spec: str) -> "PackageIdSpec":
        url, _, fragment = spec.partition("#")
        kind: SourceKind | None = None
        scheme, _, rest = url.partition("://")
        if "+" in scheme:
            proto, _, scheme = scheme.partition("+")
            kind = {"git": SourceKind.GIT, "registry": SourceKind.REGISTRY,
                    "sparse": SourceKind.SPARSE, "path": SourceKind.PATH}.get(proto)
            if kind is None:
                raise NocargoError(f"unsupported source protocol: {proto}")
            if kind is SourceKind.SPARSE:
                url = f"sparse+{scheme}://{rest}"
            else:
                url = f"{scheme}://{rest}"
        if kind is not SourceKind.GIT and "?" in url:
            raise NocargoError(f"cannot have a query string in a pkgid: {url}")
        url = url.partition("?")[0]
        segments = [s for s in url.split("://", 1)[-1].split("/")[1:]]
        if not segments:
            raise NocargoError(f"pkgid urls must have at least one path component: {url}")
        path_name = unquote(segments[-1])
        if fragment:
            split = _split_spec(fragment)
            if split is not None:
                name, version = split
            elif fragment[0].isalpha():
                name, version = fragment, None
            else:
                name, version = path_name, PartialVersion.parse(fragment)
        else:
            name, version = path_name, None
        if not name or not _NAME.match(name):
            raise NocargoError(f"invalid package ID specification: `{spec}`")
        if url.startswith("file://"):
            url = unquote(url[len("file://"):])
        return cls(name, version, url.rstrip("/") or "/", kind, text=spec)

    def matches(self, package_id: PackageId) -> bool:
        """Cargo's ``PackageIdSpec::matches``."""
        if self.name != package_id.name:
            return False
        if self.version is not None and not self.version.matches(package_id.version):
            return False
        if self.url is not None and self.url != source_url(package_id):
            return False
        if self.kind is not None and self.kind is not package_id.source.kind:
            return False
        return True

    def query(self, ids: Iterable[PackageId]) -> PackageId:
        """The one package id this spec names; errors as cargo for none or several."""
        all_ids = list(ids)
        found = [i for i in all_ids if self.matches(i)]
        if not found:
            raise NocargoError(
                f"package ID specification `{self}` did not match any packages"
            )
        if len(found) > 1:
            listing = "\n".join(f"  {i.to_spec()}" for i in sorted(found, key=_id_key))
            raise NocargoError(
                f"There are multiple `{self.name}` packages in your project, and the "
                f"specification `{self}` is ambiguous.",
                notes=("Please re-run this command with one of the following "
                       "specifications:", listing),
            )
        return found[0]

    def __str__(self) -> str:
        return self.text or (self.name if self.version is None else f"{self.name}@{self.version}")


def _split_spec(spec: str) -> tuple[str, PartialVersion] | None:
    if "@" in spec:
        name, _, ver = spec.rpartition("@")
    elif ":" in spec:
        name, _, ver = spec.rpartition(":")
        if name.endswith(":"):
            return None
    else:
        return None
    return name, PartialVersion.parse(ver)


def source_url(package_id: PackageId) -> str:
    """The URL a spec's URL part is compared with (paths without a trailing slash)."""
    src = package_id.source
    if src.kind is SourceKind.PATH or src.kind is SourceKind.DIRECTORY:
        return src.url.rstrip("/") or "/"
    return src.url


def _id_key(package_id: PackageId) -> tuple:
    return (package_id.name, package_id.version, package_id.source.sort_key())
