"""The project's error types.

Library code raises these and never prints; the CLI turns them into one
``error: ...`` line (plus optional context lines) and an exit code.

* :class:`NocargoError` — any user-facing failure (bad manifest, missing crate,
  unresolvable requirements...). The CLI exits with 101, as cargo does.
* :class:`ParseError` — a failure that can point at a span of some source text
  (a cfg expression, a version requirement, a feature value). Its ``str()``
  shows the text with a ``^^^`` marker under the bad part, in the manner of
  pypa/packaging's ``ParserSyntaxError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["NocargoError", "ParseError", "Location"]


@dataclass(frozen=True)
class Location:
    """Where an error comes from: a file, optionally a dotted key and line/column (1-based)."""

    path: Path | str | None = None
    key: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.key:
            parts.append(f"key `{self.key}`")
        return ", ".join(parts)


class NocargoError(Exception):
    """A failure caused by the user's input or environment; shown without a traceback.

    ``message`` is one line. ``location`` (optional) names the file/key/line.
    ``notes`` are extra lines shown after the message (context, hints).
    """

    exit_code = 101

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        notes: tuple[str, ...] | list[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.notes = tuple(notes)

    def with_location(self, location: Location) -> "NocargoError":
        """Return a copy of this error that carries ``location`` (keeps notes)."""
        err = NocargoError(self.message, location=location, notes=self.notes)
        err.__cause__ = self
        return err

    def headline(self) -> str:
        """The one-line summary: location (if any) then message."""
        if self.location is not None and str(self.location):
            return f"{self.location}: {self.message}"
        return self.message

    def render(self) -> str:
        """Full text for the terminal: headline, then notes indented."""
        lines = [self.headline()]
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ParseError(NocargoError):
    """A syntax error in a small language (cfg, version requirement, feature value...).

    ``source`` is the whole text that was parsed, ``span`` the (start, end) offsets of
    the offending characters (end exclusive; an empty span points between characters).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        span: tuple[int, int],
        what: str = "",
        location: Location | None = None,
        notes: tuple[str, ...] | list[str] = (),
    ) -> None:
        super().__init__(message, location=location, notes=notes)
        self.source = source
        self.span = span
        self.what = what

    @property
    def column(self) -> int:
        """1-based column of the start of the span."""
        return self.span[0] + 1

    def marker(self) -> str:
        """The source line holding the span's start and a caret line under the span.

        Tabs and other control characters are shown as spaces so the caret lines up.
        """
        start, end = self.span
        line_start = self.source.rfind("\n", 0, start) + 1
        line_end = self.source.find("\n", line_start)
        if line_end < 0:
            line_end = len(self.source)
        line = "".join(" " if ch < " " else ch for ch in self.source[line_start:line_end])
        width = max(1, min(end, line_end) - start)
        return f"    {line}\n    {' ' * (start - line_start)}{'^' * width}"

    def with_location(self, location: Location) -> "ParseError":
        err = ParseError(
            self.message,
            source=self.source,
            span=self.span,
            what=self.what,
            location=location,
            notes=self.notes,
        )
        err.__cause__ = self
        return err

    def headline(self) -> str:
        prefix = f"{self.location}: " if self.location is not None and str(self.location) else ""
        what = f"failed to parse `{self.source}` as {self.what}: " if self.what else ""
        return f"{prefix}{what}{self.message}"

    def render(self) -> str:
        lines = [self.headline(), self.marker()]
        lines.extend(self.notes)
        return "\n".join(lines)
