"""``nocargo-py index``: look at registry index data, vendor it.

* ``index show NAME [VERSION]`` — what the index says: every version (yanked marked), or
  one version's checksum, links, rust-version, features and dependencies.
  ``--format json`` prints the same as JSON. ``--registry NAME`` / ``--index URL`` pick
  another registry than crates.io.
* ``index vendor [--manifest-path P | --lockfile L ...] [--out DIR] [--locked-only]`` —
  fetch exactly the index files the lock file(s) need into ``DIR`` (default
  ``registry-cache``), in the sparse layout that ``--index-dir`` reads: whole files by
  default, or with ``--locked-only`` only the locked versions' lines.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import NocargoError
from ..index.registries import Registries
from ..index.vendor import vendor_lockfiles
from ..source import SourceId
from ..summary import Summary
from . import help_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction, parents: list) -> None:
    """Add ``index`` with its ``show`` and ``vendor`` subcommands."""
    parser = subparsers.add_parser(
        "index", parents=parents, help="show or vendor registry index data",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="index_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args, ctx: _usage(parser))

    show = sub.add_parser("show", parents=parents, help="print what the index says about a crate")
    show.add_argument("name", metavar="NAME")
    show.add_argument("version", metavar="VERSION", nargs="?")
    show.add_argument("--format", choices=("text", "json"), default="text")
    where = show.add_mutually_exclusive_group()
    where.add_argument("--registry", metavar="NAME",
                       help="a registry named in .cargo/config.toml [registries]")
    where.add_argument("--index", metavar="URL",
                       help="a registry index URL (sparse+https://…)")
    show.set_defaults(func=_show)

    vendor = sub.add_parser(
        "vendor", parents=parents,
        help="fetch the index files a lock file needs into a directory")
    vendor.add_argument("--out", metavar="DIR", type=Path, default=Path("registry-cache"),
                        help="output directory (default: registry-cache)")
    vendor.add_argument("--locked-only", action="store_true",
                        help="keep only the lines of the locked versions")
    vendor.add_argument("--crate-info", action="store_true",
                        help="also record the crate facts planning needs (targets, links, "
                             "CARGO_PKG_*) of every locked registry package in DIR/crate-info/, "
                             "read from the downloaded .crate files (git packages from their "
                             "checkouts), so `gen --offline --index-dir DIR` needs nothing else")
    vendor.add_argument("--lockfile", metavar="PATH", type=Path, action="append", default=[],
                        help="a Cargo.lock to vendor for (repeatable; default: the lock file "
                             "of --manifest-path or the current directory)")
    vendor.set_defaults(func=_vendor)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _source(args: argparse.Namespace, registries: Registries) -> SourceId:
    if args.index:
        return SourceId.for_registry(args.index)
    if args.registry:
        assert registries.config is not None
        return registries.config.registry_source(args.registry)
    return SourceId.crates_io()


def _show(args: argparse.Namespace, ctx: Any) -> int:
    registries = Registries.from_options(ctx.options, ctx.shell, cwd=Path.cwd())
    try:
        source = _source(args, registries)
        index = registries.get(source)
        versions = index.versions(args.name)
        if args.version is None:
            if args.format == "json":
                _print_json([{"name": v.name, "version": v.version, "yanked": v.yanked,
                              "cksum": v.cksum, "links": v.links,
                              "rust_version": v.rust_version, "v": v.v} for v in versions])
            else:
                for v in versions:
                    print(f"{v.name} {v.version}{' (yanked)' if v.yanked else ''}")
            return 0
        summary = index.summary(args.name, args.version)
        if args.format == "json":
            _print_json(_summary_json(summary))
        else:
            print(_summary_text(summary), end="")
        return 0
    finally:
        registries.close()


def _summary_json(s: Summary) -> dict:
    return {
        "name": s.name,
        "version": s.version,
        "source": s.source.to_lock_string(),
        "cksum": s.checksum,
        "yanked": s.yanked,
        "links": s.links,
        "rust_version": s.rust_version,
        "features": {k: list(v) for k, v in sorted(s.declared_features.items())},
        "dependencies": [
            {"name": d.name, "rename": d.rename, "req": d.req, "kind": d.kind.value,
             "target": d.target, "optional": d.optional,
             "default_features": d.default_features, "features": list(d.features),
             "registry": d.registry}
            for d in s.dependencies
        ],
    }


def _summary_text(s: Summary) -> str:
    lines = [f"{s.name} {s.version}",
             f"checksum: {s.checksum or '-'}",
             f"yanked: {'true' if s.yanked else 'false'}",
             f"links: {s.links or '-'}",
             f"rust-version: {s.rust_version or '-'}",
             "features:"]
    for name, values in sorted(s.declared_features.items()):
        lines.append(f"  {name} = {json.dumps(list(values))}")
    lines.append("dependencies:")
    for d in s.dependencies:
        key = d.rename if d.rename is not None else d.name
        extra = []
        if d.rename is not None:
            extra.append(f"package = {d.name}")
        if d.kind.value != "normal":
            extra.append(d.kind.value)
        if d.optional:
            extra.append("optional")
        if not d.default_features:
            extra.append("default-features = false")
        if d.features:
            extra.append("features = " + json.dumps(list(d.features)))
        if d.target:
            extra.append(f"target = {d.target}")
        if d.registry:
            extra.append(f"registry = {d.registry}")
        suffix = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"  {key} {json.dumps(d.req)}{suffix}")
    return "\n".join(lines) + "\n"


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def _find_lockfile(manifest_path: Path | None, shell: Any) -> Path:
    """The ``Cargo.lock`` at the root of the workspace of ``manifest_path`` (or of the
    manifest found from the current directory), as cargo locates it."""
    from ..workspace import load_workspace

    ws = load_workspace(manifest_path, Path.cwd(), shell, strict=False)
    lock = ws.lockfile_path()
    if not lock.is_file():
        raise NocargoError(f"no `Cargo.lock` at the workspace root `{ws.root}`",
                           notes=["run `cargo generate-lockfile` (or `nocargo-py lock`) first"])
    return lock


def _vendor(args: argparse.Namespace, ctx: Any) -> int:
    lockfiles = [p.absolute() for p in args.lockfile] or [_find_lockfile(ctx.options.manifest_path, ctx.shell)]
    registries = Registries.from_options(ctx.options, ctx.shell, cwd=Path.cwd())
    try:
        report = vendor_lockfiles(lockfiles, registries, Path(args.out),
                                  locked_only=args.locked_only, shell=ctx.shell)
        if getattr(args, "crate_info", False):
            infos = _vendor_crate_info(lockfiles, registries, Path(args.out), ctx)
    finally:
        registries.close()
    out = os.path.relpath(args.out) if not Path(args.out).is_absolute() else str(args.out)
    ctx.shell.status("Vendored", f"{report.files} index file(s) ({report.whole} whole, "
                                 f"{report.partial} locked-only) into `{out}`")
    if getattr(args, "crate_info", False):
        ctx.shell.status("Vendored", f"crate info of {infos} package(s) into `{out}/crate-info`")
    return 0


def _vendor_crate_info(lockfiles: list[Path], registries: Registries, out: Path, ctx: Any) -> int:
    """``vendor --crate-info``: :func:`~nocargo_py.sources.vendor_crate_info` per lock file."""
    from ..lockfile import parse_lockfile
    from ..sources import GitSources, vendor_crate_info

    git = GitSources(registries.cache_root, offline=registries.offline, shell=ctx.shell)
    count = 0
    for path in lockfiles:
        lock = parse_lockfile(path.read_text(encoding="utf-8"), path)
        sources = {p.source.canonical() for p in lock.packages if p.source.is_registry()}
        count += len(vendor_crate_info(lock, out, registries=registries, sources=sources, git=git))
    return count
