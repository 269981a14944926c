"""``nocargo-py gen``: resolve the workspace and write its self-contained ``Cargo.nix``.

Steps, as ``cargo build`` would take them:

1. load the workspace; create or update ``Cargo.lock`` through the version resolver when
   it is missing or stale (``--locked``/``--frozen``: fail instead);
2. read what the index and the ``.crate`` manifests say about every locked package
   (``CrateInfo``: from the vendored ``--index-dir`` side table, the user cache, or
   downloaded; git packages from their checkout);
3. for each ``--target`` (default: the host, as cargo without ``--target``), plan
   ``cargo build`` and ``cargo test --no-run`` in the dev and release profiles;
4. render the plan and write it atomically (temporary file + rename) to ``Cargo.nix`` at
   the workspace root (``-o`` to change). ``--check`` writes nothing and exits 1 when the
   file on disk differs from what would be written.

The output depends only on the inputs (manifests, lock file, index data, config and
``RUSTFLAGS``-style variables): byte-identical when run again, no machine paths in it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import NocargoError
from ..fsutil import replace_file
from ..plan import Plan
from ..resolve.features import PackageSelection
from . import add_selection_args, help_text

__all__ = ["add_gen_args", "build_plan", "generate", "register", "run", "write_atomic",
           "write_if_changed"]

_EPILOG = """\
examples:
  nocargo-py gen                                   # Cargo.nix for the host, all members
  nocargo-py gen --target x86_64-unknown-linux-gnu --target wasm32-unknown-unknown
  nocargo-py gen --offline --index-dir registry-cache
  nocargo-py gen --check                           # CI: fail if Cargo.nix is stale
  nix-build Cargo.nix -A workspaceMembers.<name>
"""


def register(subparsers: argparse._SubParsersAction, parents: list) -> None:
    """Add the ``gen`` subcommand."""
    parser = subparsers.add_parser(
        "gen", parents=parents, help="write Cargo.nix (resolve, plan, render)",
        description=help_text(__doc__), epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_gen_args(parser)
    parser.set_defaults(func=run)


def add_gen_args(parser: argparse.ArgumentParser) -> None:
    """Selection, feature and target flags of ``gen`` (and ``init``)."""
    add_selection_args(parser, "plan", "every member")
    c = parser.add_argument_group("output")
    c.add_argument("--target", action="append", default=[], metavar="TRIPLE",
                   help="plan for this target (repeatable; each gets its own plan, the first "
                        "is the default of Cargo.nix; default: `build.target` from "
                        ".cargo/config.toml, else the host without --target)")
    c.add_argument("--host", metavar="TRIPLE", default=None,
                   help="the host triple (default: this machine's)")
    c.add_argument("-o", "--output", metavar="FILE", type=Path, default=None,
                   help="where to write (default: Cargo.nix at the workspace root)")
    c.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if the file on disk is not what gen would write")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`~nocargo_py.fsutil.replace_file`),
    mode 0644; failures as a :class:`NocargoError` naming the file."""
    try:
        replace_file(path, text, mode=0o644)
    except OSError as exc:
        raise NocargoError(f"failed to write `{path}`: {exc.strerror or exc}") from None


def build_plan(args: argparse.Namespace, ctx: Any, *, write_lock: bool = True) -> tuple[Path, Plan]:
    """Resolve and plan as described in the module docstring (steps 1–3); returns the
    output path (``args.output``, default ``Cargo.nix`` at the workspace root: path sources
    are relative to it) and the :class:`~nocargo_py.plan.Plan`. ``gen``, ``init`` and
    ``plan`` (its default output) share it. Selection: ``-p`` members, else every member
    (``--workspace`` or not) minus ``--exclude``."""
    from ..cfg import host_triple
    from ..index.registries import Registries
    from ..planner import PlanOptions, plan_workspace
    from ..workspace import load_workspace
    from ..planner.inputs import load_resolved_graph

    options = ctx.options
    ws = load_workspace(options.manifest_path, Path.cwd(), ctx.shell)
    output = getattr(args, "output", None)
    out = output if output is not None else ws.root / "Cargo.nix"
    out = Path(os.path.abspath(out))
    registries = Registries.from_options(options, ctx.shell, cwd=Path.cwd())
    try:
        graph, provider = load_resolved_graph(ws, registries, options, ctx.shell,
                                              write_lock=write_lock)
        host = args.host or host_triple()
        configured = registries.config.build_target() if registries.config else ()
        # cargo's fallback: `build.target` / CARGO_BUILD_TARGET when no --target is given
        targets = tuple(dict.fromkeys(args.target or configured)) or (None,)
        if args.package and not getattr(args, "workspace", False):
            selection = PackageSelection(packages=tuple(args.package))
            if args.exclude:
                raise NocargoError("--exclude cannot be combined with --package")
        else:
            selection = PackageSelection(workspace=True, exclude=tuple(args.exclude))
        plan = plan_workspace(
            ws, graph, nix_file=out, host=host,
            options=PlanOptions(selection=selection, features=tuple(args.features),
                                all_features=args.all_features,
                                no_default_features=args.no_default_features,
                                targets=targets),
            config=registries.config, provider=provider, shell=ctx.shell)
    finally:
        registries.close()
    return out, plan


def generate(args: argparse.Namespace, ctx: Any, *, write_lock: bool = True) -> tuple[Path, str]:
    """:func:`build_plan`, rendered: returns (output path, ``Cargo.nix`` text)."""
    from ..render import render_cargo_nix

    out, plan = build_plan(args, ctx, write_lock=write_lock)
    return out, render_cargo_nix(plan)


def run(args: argparse.Namespace, ctx: Any) -> int:
    """Run the command; returns the exit status."""
    if args.check:
        out, text = generate(args, ctx, write_lock=False)
        try:
            current = out.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            what = "does not exist" if current is None else "is out of date"
            ctx.shell.error(f"`{_display(out)}` {what}; run `nocargo-py gen` to regenerate it")
            return 1
        ctx.shell.status("Fresh", _display(out))
        return 0
    out, text = generate(args, ctx)
    changed = write_if_changed(out, text)
    ctx.shell.status("Generated" if changed else "Fresh", _display(out))
    return 0


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds exactly that (the
    file's time stamp then stays); whether it was written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive
        return str(path)

