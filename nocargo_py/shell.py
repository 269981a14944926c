"""Terminal output: warnings, status lines and errors on stderr, cargo style.

The CLI creates one :class:`Shell` from ``-q``/``-v``/``--color`` and passes it to library
functions that have something to say (warnings). Library code never prints directly.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["Shell"]

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "status": "\x1b[1;32m", "note": "\x1b[1;36m"}
_RESET = "\x1b[0m"


@dataclass
class Shell:
    """Where diagnostics go. ``verbosity``: -1 quiet, 0 normal, 1+ verbose."""

    verbosity: int = 0
    color: str = "auto"  # auto | always | never
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    warnings: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _line(self, text: str) -> None:
        """Write one whole line: download threads report at the same time, and ``print``
        writes the text and its newline separately (lines ran into each other)."""
        with self._lock:
            self.stream.write(text + "\n")

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def use_color(self) -> bool:
        if self.color == "always":
            return True
        if self.color == "never" or os.environ.get("NO_COLOR"):
            return False
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def is_tty(self) -> bool:
        """True when a progress bar makes sense (interactive stderr, not quiet, not CI)."""
        if self.quiet or os.environ.get("CI"):
            return False
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def _label(self, kind: str) -> str:
        if self.use_color():
            return f"{_COLORS[kind]}{kind}{_RESET}:"
        return f"{kind}:"

    def warn(self, message: str) -> None:
        """A ``warning:`` line (suppressed by ``-q``; always recorded in ``warnings``)."""
        self.warnings.append(message)
        if not self.quiet:
            self._line(f"{self._label('warning')} {message}")

    def note(self, message: str) -> None:
        if not self.quiet:
            self._line(f"{self._label('note')} {message}")

    def status(self, verb: str, message: str) -> None:
        """A cargo-style right-aligned status line (``   Fetching index``), not shown with -q."""
        if self.quiet:
            return
        label = f"{verb:>12}"
        if self.use_color():
            label = f"{_COLORS['status']}{label}{_RESET}"
        self._line(f"{label} {message}")

    def verbose(self, message: str) -> None:
        if self.verbosity > 0:
            self._line(message)

    def error(self, message: str) -> None:
        self._line(f"{self._label('error')} {message}")
