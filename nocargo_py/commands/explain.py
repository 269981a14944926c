"""``nocargo-py explain PKG[@VER] [FEATURE]``: why is a package built, why is a feature on.

Resolves like ``plan`` (same selection, feature, target, profile and ``--tests`` flags) and
prints the chain of dependency edges and feature values that first activated the package
(or the feature), back to the command line. Cargo's closest equivalent is
``cargo tree -e features -i PKG``.
"""

from __future__ import annotations

import argparse
import sys

from ..resolve.explain import explain
from . import help_text
from .plan import add_resolution_args, resolve_from_args

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  nocargo-py explain serde                  # why is serde in the graph?
  nocargo-py explain serde@1.0.200 derive   # why is serde's `derive` feature on?
  nocargo-py explain libc std --target wasm32-unknown-unknown --tests
"""


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        parents=parents,
        help="why is a package in the graph, why is a feature on",
        description=help_text(__doc__.split("\n\n")[0]),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", metavar="PKG[@VER]", help="the package (a package ID spec)")
    parser.add_argument("feature", metavar="FEATURE", nargs="?", default=None,
                        help="a feature of that package")
    add_resolution_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    """Run the command; returns the exit status."""
    req = resolve_from_args(args, ctx)
    sys.stdout.write(explain(req.graph, req.resolution, args.spec, args.feature) + "\n")
    return 0
