"""One module per subcommand. Each defines ``register(subparsers, parents)``.

``register`` adds its subparser (with ``parents`` for the common flags) and sets
``func`` to a callable ``(args, ctx) -> int``. :mod:`nocargo_py.cli` imports the
modules listed in ``COMMANDS`` that exist.
"""

from __future__ import annotations

import argparse

COMMANDS = ("metadata", "cfg", "index", "lock", "plan", "explain", "gen", "init")


def help_text(doc: str) -> str:
    """A module docstring as ``--help`` prints it: reST literals (````x````) as `x`."""
    return doc.replace("``", "`")


def add_selection_args(parser: argparse.ArgumentParser, verb: str, default: str) -> None:
    """cargo's package selection and feature flags (``plan``, ``explain``, ``gen``,
    ``init``); ``verb`` says what is done with a selected package (``build``, ``plan``),
    ``default`` what is selected without ``-p``."""
    g = parser.add_argument_group("package selection")
    g.add_argument("-p", "--package", action="append", default=[], metavar="SPEC",
                   help=f"package to {verb} (name, name@version, pkgid URL or glob); repeatable "
                        f"(default: {default})")
    g.add_argument("--workspace", "--all", action="store_true", dest="workspace",
                   help=f"{verb} every workspace member")
    g.add_argument("--exclude", action="append", default=[], metavar="SPEC",
                   help="exclude a member (with --workspace)")
    f = parser.add_argument_group("features")
    f.add_argument("-F", "--features", action="append", default=[], metavar="FEATURES",
                   help="space or comma separated features to activate (`feat`, `pkg/feat`)")
    f.add_argument("--all-features", action="store_true", help="activate all features")
    f.add_argument("--no-default-features", action="store_true",
                   help="do not activate the `default` feature")
