"""Package sources: what a build needs from registry ``.crate`` files and git checkouts.

* :mod:`.download` — :class:`CrateDownloader`: ``.crate`` files from a registry's ``dl``
  URL into a verified, atomic, locked cache; :func:`download_crates` for a whole lock file.
* :mod:`.crate_info` — :class:`CrateInfo`: the facts of a crate that the index lacks (lib
  name, crate types, proc-macro, build script, edition, ``CARGO_PKG_*`` metadata), read from
  the normalized ``Cargo.toml`` inside the ``.crate``; the vendored side table
  (``crate-info/``) and :func:`vendor_crate_info`.
* :mod:`.git` — git dependencies pinned to the locked commit: a bare mirror per URL,
  checkouts per commit, cargo's rule for finding the package inside the repository, and
  the ``builtins.fetchGit`` arguments for Nix.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each name lives; a submodule is imported on first use of one of its names (an
#: offline ``gen`` needs crate facts, but neither downloads nor git).
_EXPORTS = {
    **dict.fromkeys(("CrateInfo", "LibInfo", "crate_info_from_package", "load_crate_info",
                     "load_git_info", "read_crate_file", "store_git_info",
                     "vendor_crate_info"), "crate_info"),
    **dict.fromkeys(("CrateDownloader", "CrateRequest", "crate_requests", "download_crates"),
                    "download"),
    **dict.fromkeys(("GitCheckout", "GitFetchSpec", "GitSources", "find_package_in_checkout"),
                    "git"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "CrateDownloader",
    "CrateInfo",
    "CrateRequest",
    "GitCheckout",
    "GitFetchSpec",
    "GitSources",
    "LibInfo",
    "crate_info_from_package",
    "crate_requests",
    "download_crates",
    "find_package_in_checkout",
    "load_crate_info",
    "load_git_info",
    "read_crate_file",
    "store_git_info",
    "vendor_crate_info",
]
