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

from .crate_info import (
    CrateInfo,
    LibInfo,
    crate_info_from_package,
    load_crate_info,
    load_git_info,
    read_crate_file,
    store_git_info,
    vendor_crate_info,
)
from .download import CrateDownloader, CrateRequest, crate_requests, download_crates
from .git import GitCheckout, GitFetchSpec, GitSources, find_package_in_checkout

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
