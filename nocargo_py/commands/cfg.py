"""``nocargo-py cfg``: evaluate ``[target.KEY]`` keys for a target, list and print targets.

    nocargo-py cfg --target TRIPLE KEY...    one `true`/`false` line per KEY, in order
    nocargo-py cfg --target TRIPLE --print   the target's cfg set, like `rustc --print cfg`
    nocargo-py cfg --list-targets            every built-in target name

Each KEY is written exactly as a ``[target.KEY]`` table key in Cargo.toml: ``cfg(...)`` or
a plain target name (anything that does not start with ``cfg(``, as in cargo). Every key is
parsed before anything is printed; a bad one is an error (exit 101) with cargo's message
and a caret under the offending text.
"""

from __future__ import annotations

import argparse
import sys

from ..cfg import Platform, host_triple, list_targets, target_info
from . import help_text

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  nocargo-py cfg --target wasm32-unknown-unknown 'cfg(unix)' 'cfg(target_family = "wasm")'
  nocargo-py cfg --target x86_64-pc-windows-msvc --print
  nocargo-py cfg --target aarch64-apple-darwin --cfg 'tokio_unstable' 'cfg(tokio_unstable)'

The cfg set is what cargo sees: `rustc --print cfg --target T` without profile flags
(so `debug_assertions` is set), from a built-in database of every rustc target, or from
a live rustc with --rustc. `test`, `proc_macro` and `feature = "..."` are never set.
"""


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``cfg`` subcommand."""
    parser = subparsers.add_parser(
        "cfg",
        parents=parents,
        help="evaluate [target.KEY] keys (cfg(...) or a target name) for a target",
        description=help_text(__doc__.split("\n\n")[0]),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("keys", nargs="*", metavar="KEY",
                        help="a [target.KEY] key: cfg(...) or a target name")
    parser.add_argument("--target", metavar="TRIPLE",
                        help="target triple, or PATH.json for a custom target "
                             "(default: the host)")
    parser.add_argument("--rustc", metavar="PATH",
                        help="ask this rustc for the cfg set instead of the built-in database")
    parser.add_argument("--cfg", dest="extra_cfgs", action="append", default=[], metavar="SPEC",
                        help='add a cfg option as RUSTFLAGS="--cfg SPEC" would '
                             '(`name` or `key="value"`; repeatable)')
    parser.add_argument("--print", dest="print_cfg", action="store_true",
                        help="print the target's cfg set like `rustc --print cfg`")
    parser.add_argument("--list-targets", action="store_true",
                        help="print every built-in target name (with --rustc: that rustc's)")
    parser.set_defaults(func=run, _cfg_parser=parser)


def run(args: argparse.Namespace, ctx) -> int:
    """Run the command; returns the exit status."""
    if not (args.keys or args.print_cfg or args.list_targets):
        args._cfg_parser.error("give at least one KEY, or --print, or --list-targets")
    out = sys.stdout
    if args.list_targets:
        for name in list_targets(args.rustc):
            out.write(name + "\n")
    if not (args.keys or args.print_cfg):
        return 0

    platforms = [Platform.parse(key) for key in args.keys]
    triple = args.target if args.target is not None else host_triple(args.rustc)
    target = target_info(triple, rustc=args.rustc, extra_cfgs=args.extra_cfgs)
    if args.print_cfg:
        out.write(target.print_cfg())
    for platform in platforms:
        for warning in platform.warnings() + platform.keyword_warnings():
            ctx.shell.warn(warning)
    for platform in platforms:
        out.write("true\n" if platform.matches(target) else "false\n")
    return 0
