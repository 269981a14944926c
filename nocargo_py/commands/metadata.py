"""``nocargo-py metadata``: a cargo-free ``cargo metadata --no-deps --format-version 1``.

Prints the workspace's packages (dependencies as declared, targets, features, …) as the
same JSON cargo prints. Full metadata (``resolve``, non-member packages) needs dependency
resolution; without ``--no-deps`` the command fails with exit status 101 until the resolver
is wired in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import NocargoError
from ..metadata import metadata_text
from ..workspace import load_workspace
from . import help_text

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  nocargo-py metadata --no-deps --format-version 1
  nocargo-py metadata --no-deps --format-version 1 --manifest-path examples/workspace/Cargo.toml

The output matches `cargo metadata --no-deps --format-version 1` byte for byte.
"""


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``metadata`` subcommand."""
    parser = subparsers.add_parser(
        "metadata",
        parents=parents,
        help="print the workspace's packages as `cargo metadata` JSON",
        description=help_text(__doc__.split("\n\n")[0]),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-deps", action="store_true",
                        help="only the workspace members, without resolving dependencies")
    parser.add_argument("--format-version", choices=("1",), default=None,
                        help="format version (only 1 exists)")
    parser.add_argument("--filter-platform", metavar="TRIPLE", action="append", default=[],
                        help="only include resolve dependencies matching the given target "
                             "(no effect with --no-deps)")
    parser.add_argument("-F", "--features", action="append", default=[], metavar="FEATURES",
                        help="features to activate (no effect with --no-deps)")
    parser.add_argument("--all-features", action="store_true",
                        help="activate all features (no effect with --no-deps)")
    parser.add_argument("--no-default-features", action="store_true",
                        help="do not activate the `default` feature (no effect with --no-deps)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    """Run the command; returns the exit status."""
    if args.format_version is None:
        ctx.shell.warn("please specify `--format-version` flag explicitly to avoid "
                       "compatibility problems")
    ws = load_workspace(ctx.options.manifest_path, Path.cwd(), ctx.shell, strict=False)
    if not args.no_deps:
        raise NocargoError(
            "`metadata` without `--no-deps` needs dependency resolution, which is not "
            "available yet; use `nocargo-py metadata --no-deps --format-version 1`")
    sys.stdout.write(metadata_text(ws))
    return 0
