"""The ``nocargo-py`` command line: a thin layer over the library.

Turns :class:`~nocargo_py.errors.NocargoError` into ``error: ...`` and exit code 101,
bad usage into exit code 2 (argparse), success into 0. Each subcommand lives in
:mod:`nocargo_py.commands`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import __version__
from .commands import COMMANDS
from .errors import NocargoError
from .shell import Shell

__all__ = ["GlobalOptions", "main", "build_parser"]

EXIT_USER_ERROR = 101
EXIT_USAGE = 2

#: The cyclic garbage collector's first-generation threshold for a run (default 700). A
#: run builds hundreds of thousands of small, long-lived objects (summaries, units, plan
#: entries) and frees few cycles; collecting every 700 allocations costs ~4% of a large
#: ``gen`` for nothing. Memory stays bounded: the collector still runs.
GC_THRESHOLD = 100_000

_DESCRIPTION = """\
A cargo-free build planner for Rust. Reads Cargo.toml, Cargo.lock and registry index
data, resolves versions and features exactly as cargo does, and emits Nix that builds
every crate as its own derivation by calling rustc directly.
"""

_EPILOG = """\
exit status: 0 on success, 101 on an error in the input (as cargo), 2 on bad usage.
Run `nocargo-py COMMAND --help` for the options of one command.
"""


@dataclass(frozen=True)
class GlobalOptions:
    """The cargo-style flags every command understands."""

    manifest_path: Path | None
    offline: bool
    locked: bool
    frozen: bool
    verbosity: int
    color: str
    index_dir: Path | None
    cache_dir: Path | None

    @property
    def effective_offline(self) -> bool:
        """``--frozen`` implies ``--offline`` (as in cargo)."""
        return self.offline or self.frozen

    @property
    def effective_locked(self) -> bool:
        """``--frozen`` implies ``--locked`` (as in cargo)."""
        return self.locked or self.frozen


_GLOBAL_DEFAULTS = {
    "manifest_path": None,
    "offline": False,
    "locked": False,
    "frozen": False,
    "verbose": 0,
    "quiet": False,
    "color": "auto",
    "index_dir": None,
    "cache_dir": None,
}


def _add_global_flags(parser: argparse.ArgumentParser) -> None:
    """Common flags; defaults are SUPPRESSed so they may appear before or after the command."""
    g = parser.add_argument_group("common options")
    sup = argparse.SUPPRESS
    g.add_argument("--manifest-path", metavar="PATH", type=Path, default=sup,
                   help="path to Cargo.toml (default: search from the current directory upwards)")
    g.add_argument("--offline", action="store_true", default=sup,
                   help="never touch the network; use cached or vendored index data only")
    g.add_argument("--locked", action="store_true", default=sup,
                   help="fail if Cargo.lock is missing or would change")
    g.add_argument("--frozen", action="store_true", default=sup,
                   help="same as --locked --offline")
    g.add_argument("-v", "--verbose", action="count", default=sup,
                   help="say more (repeat for even more)")
    g.add_argument("-q", "--quiet", action="store_true", default=sup,
                   help="print no warnings or status lines")
    g.add_argument("--color", choices=("auto", "always", "never"), default=sup,
                   help="coloring of diagnostics (default: auto)")
    g.add_argument("--index-dir", metavar="DIR", type=Path, default=sup,
                   help="read registry index data from this vendored directory "
                        "(same layout as a sparse index) instead of the network")
    g.add_argument("--cache-dir", metavar="DIR", type=Path, default=sup,
                   help="index cache directory (default: $NOCARGO_PY_CACHE_DIR or the "
                        "user cache dir)")


#: Global flags that take a value (``--color never``): skipped when looking for the command.
_VALUE_FLAGS = frozenset({"--manifest-path", "--color", "--index-dir", "--cache-dir"})


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first positional word), if it is one of ours."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word in _VALUE_FLAGS or (word.startswith("--") and "=" not in word and any(
                f.startswith(word) for f in _VALUE_FLAGS)):  # argparse takes abbreviations
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full argument parser with every available subcommand registered (``only``:
    just that one, which is all a run of that command needs: the other command modules and
    what they import are not loaded)."""
    parser = argparse.ArgumentParser(
        prog="nocargo-py",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"nocargo-py {__version__}")
    _add_global_flags(parser)
    common = argparse.ArgumentParser(add_help=False)
    _add_global_flags(common)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.commands.{name}":
                continue
            raise
        module.register(sub, [common])
    return parser


def global_options(args: argparse.Namespace) -> GlobalOptions:
    """Collect the common flags from a parsed namespace (filling defaults)."""
    values = {k: getattr(args, k, v) for k, v in _GLOBAL_DEFAULTS.items()}
    verbosity = -1 if values["quiet"] else int(values["verbose"] or 0)
    return GlobalOptions(
        manifest_path=values["manifest_path"],
        offline=bool(values["offline"]),
        locked=bool(values["locked"]),
        frozen=bool(values["frozen"]),
        verbosity=verbosity,
        color=values["color"],
        index_dir=values["index_dir"],
        cache_dir=values["cache_dir"],
    )


@dataclass(frozen=True)
class Context:
    """What a command receives besides its own arguments."""

    options: GlobalOptions
    shell: Shell


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nocargo-py`` console script; returns the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    parser = build_parser(only=_command_in(words))
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    options = global_options(args)
    shell = Shell(verbosity=options.verbosity, color=options.color)
    ctx = Context(options=options, shell=shell)
    try:
        return int(args.func(args, ctx) or 0)
    except NocargoError as err:
        shell.error(err.render())
        return err.exit_code
    except KeyboardInterrupt:
        shell.error("interrupted")
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - last-resort boundary
        shell.error(f"internal error: {type(exc).__name__}: {exc}")
        if options.verbosity > 0 or os.environ.get("NOCARGO_PY_BACKTRACE"):
            traceback.print_exc()
        else:
            print("note: this is a bug in nocargo-py; run with -v or "
                  "NOCARGO_PY_BACKTRACE=1 for a backtrace", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
