"""Index file layout and ``config.json``: where a crate's file lives, where its ``.crate`` is.

* :func:`index_path` — ``1/a``, ``2/ab``, ``3/a/abc``, ``se/rd/serde`` (on the lower-cased name).
* :class:`RegistryConfig` — ``config.json`` (``dl``, ``api``, ``auth-required``).
* :func:`expand_dl` — the ``dl`` template with ``{crate}``, ``{version}``, ``{prefix}``,
  ``{lowerprefix}``, ``{sha256-checksum}``; ``/{crate}/{version}/download`` appended when the
  template has no marker (cargo's original format).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import NocargoError

__all__ = ["RegistryConfig", "dep_prefix", "expand_dl", "index_path", "validate_crate_name"]

_MARKERS = ("{crate}", "{version}", "{prefix}", "{lowerprefix}", "{sha256-checksum}")
# What a crate name may look like in an index path: cargo's own names plus the odd historic
# ones; anything that could escape the index root (`/`, `..`, `\`) is refused.
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def validate_crate_name(name: str) -> None:
    """Refuse names that cannot be an index file name (and could escape the index root)."""
    if not _NAME_RE.match(name) or len(name) > 64:
        raise NocargoError(f"invalid crate name `{name}` for a registry index look-up")


def dep_prefix(name: str) -> str:
    """cargo's ``make_dep_prefix``: the directory part for ``name`` (case kept)."""
    n = len(name.encode())
    if n == 1:
        return "1"
    if n == 2:
        return "2"
    if n == 3:
        return f"3/{name[0]}"
    return f"{name[0:2]}/{name[2:4]}"


def index_path(name: str) -> str:
    """Relative path of ``name``'s index file (``se/rd/serde``); the name is lower-cased."""
    validate_crate_name(name)
    lower = name.lower()
    return f"{dep_prefix(lower)}/{lower}"


def expand_dl(template: str, name: str, version: str, cksum: str | None) -> str:
    """The download URL of ``name-version.crate`` from a ``config.json`` ``dl`` template."""
    if not any(m in template for m in _MARKERS):
        return f"{template}/{name}/{version}/download"
    prefix = dep_prefix(name)
    if "{sha256-checksum}" in template and not cksum:
        raise NocargoError(
            f"the registry's `dl` template needs the checksum of `{name} v{version}`, "
            "which is not known")
    return (template.replace("{crate}", name)
            .replace("{version}", version)
            .replace("{prefix}", prefix)
            .replace("{lowerprefix}", prefix.lower())
            .replace("{sha256-checksum}", cksum or ""))


@dataclass(frozen=True)
class RegistryConfig:
    """A registry's ``config.json``."""

    dl: str
    api: str | None = None
    auth_required: bool = False

    @classmethod
    def parse(cls, data: bytes | str, where: str) -> "RegistryConfig":
        """Parse ``config.json`` text; ``where`` (URL or path) goes into error messages."""
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NocargoError(f"invalid registry config.json at `{where}`: {exc}") from None
        if not isinstance(obj, dict):
            raise NocargoError(f"invalid registry config.json at `{where}`: expected an object")
        dl = obj.get("dl")
        if not isinstance(dl, str) or not dl:
            raise NocargoError(f"invalid registry config.json at `{where}`: "
                               "missing string field `dl`")
        api = obj.get("api")
        if api is not None and not isinstance(api, str):
            raise NocargoError(f"invalid registry config.json at `{where}`: `api` must be a string")
        auth = obj.get("auth-required", False)
        if not isinstance(auth, bool):
            raise NocargoError(f"invalid registry config.json at `{where}`: "
                               "`auth-required` must be a boolean")
        return cls(dl=dl, api=api, auth_required=auth)

    def dl_url(self, name: str, version: str, cksum: str | None = None) -> str:
        """See :func:`expand_dl`."""
        return expand_dl(self.dl, name, version, cksum)
