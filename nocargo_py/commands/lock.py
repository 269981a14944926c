"""``nocargo-py lock``: create or update ``Cargo.lock`` without cargo.

Resolves the workspace's versions as cargo does before a build: from the manifests and the
registry index, keeping every locked version that still fits and changing only what must
change. The file is left untouched when nothing changes.

* ``--locked`` — fail (exit 101) instead of changing ``Cargo.lock``;
* ``--offline`` — use only cached or vendored index data (``--index-dir``);
* ``--dry-run`` — resolve and report, but do not write;
* ``--stdout`` — print the resulting lock file instead of writing it;
* ``--from-scratch`` — ignore the existing lock (``cargo generate-lockfile``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..lockfile import Lockfile
from ..source import PackageId
from . import help_text

__all__ = ["register", "lock_changes"]


def register(subparsers: argparse._SubParsersAction, parents: list) -> None:
    """Add the ``lock`` subcommand."""
    parser = subparsers.add_parser(
        "lock", parents=parents, help="create or update Cargo.lock (resolve versions)",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true",
                        help="resolve and report changes, but do not write Cargo.lock")
    parser.add_argument("--stdout", action="store_true",
                        help="print the lock file to standard output instead of writing it")
    parser.add_argument("--from-scratch", action="store_true",
                        help="ignore the existing Cargo.lock (like `cargo generate-lockfile`)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace, ctx: Any) -> int:
    from ..index.registries import Registries
    from ..resolve.git_source import GitSources
    from ..resolve.lockgen import (lock_workspace, registry_loader, unused_patch_warnings,
                                   write_outcome)
    from ..workspace import load_workspace

    options = ctx.options
    ws = load_workspace(options.manifest_path, Path.cwd(), ctx.shell)
    registries = Registries.from_options(options, ctx.shell, cwd=Path.cwd())
    git = GitSources(offline=options.effective_offline, shell=ctx.shell)
    flag = "--frozen" if options.frozen else "--locked"
    try:
        outcome = lock_workspace(ws, registry_loader(registries, git),
                                 locked=options.effective_locked, locked_flag=flag,
                                 config=registries.config, ignore_previous=args.from_scratch)
    finally:
        registries.close()
    for warning in unused_patch_warnings(outcome.resolution):
        ctx.shell.warn(warning)
    _report(ctx.shell, outcome.previous, outcome.lockfile, outcome.rust_version)
    if args.stdout:
        print(outcome.text, end="")
        return 0
    if args.dry_run:
        if outcome.changed:
            ctx.shell.warn("not updating lockfile due to dry run")
        return 0
    write_outcome(outcome)
    return 0


def lock_changes(previous: Lockfile | None, new: Lockfile,
                 members: set[tuple[str, str]] = frozenset()) -> list[tuple[str, str]]:
    """Cargo-style change lines ``(verb, text)``: Adding, Updating, Downgrading, Removing."""
    def key(pid: PackageId) -> tuple[str, str]:
        src = "" if pid.source.is_path() else pid.source.to_lock_string(with_precise=False)
        return pid.name, src

    def grouped(lock: Lockfile | None) -> dict[tuple[str, str], list[PackageId]]:
        out: dict[tuple[str, str], list[PackageId]] = {}
        for pkg in (lock.packages if lock is not None else ()):
            if pkg.id.source.is_path():
                continue
            out.setdefault(key(pkg.id), []).append(pkg.id)
        return out

    from ..semver_req import Version

    old, cur = grouped(previous), grouped(new)
    lines: list[tuple[str, str]] = []
    for k in sorted(set(old) | set(cur)):
        before = sorted(old.get(k, []), key=lambda p: Version.parse(p.version))
        after = sorted(cur.get(k, []), key=lambda p: Version.parse(p.version))
        bv = {p.version for p in before}
        av = {p.version for p in after}
        removed = [p for p in before if p.version not in av]
        added = [p for p in after if p.version not in bv]
        while removed and added:
            r, a = removed.pop(0), added.pop(0)
            verb = "Updating" if Version.parse(a.version) > Version.parse(r.version) else "Downgrading"
            lines.append((verb, f"{r.name} v{r.version} -> v{a.version}"))
        lines.extend(("Adding", f"{p.name} v{p.version}") for p in added)
        lines.extend(("Removing", f"{p.name} v{p.version}") for p in removed)
    return lines


def _report(shell, previous: Lockfile | None, new: Lockfile, rust_version: str | None) -> None:
    changes = lock_changes(previous, new)
    new_count = sum(1 for verb, _ in changes if verb != "Removing")
    if not new_count and not changes:
        return
    if new_count:
        plural = "" if new_count == 1 else "s"
        rust = f"Rust {rust_version} " if rust_version else ""
        shell.status("Locking",
                     f"{new_count} package{plural} to latest {rust}compatible version{plural}")
    if previous is None:
        return
    for verb, text in changes:
        shell.status(verb, text)
