"""Printing for ``earthscope-async``: plain lines, aligned fields, tables, JSON.

Results go to stdout, progress and messages to stderr; every write is flushed at once, so
output reaches a pipe or a file as it happens. When the reader of stdout goes away
(``earthscope-async status | head -1``) the rest of the output is dropped quietly, as
``git log | head`` does, and the command still ends with its own exit code. ``rich`` (the
``cli`` extra) draws tables when stdout is a terminal; without it, or when piped, output is
plain text.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Output", "format_bytes", "format_duration", "rich_available", "silence_stdout"]

INSTALL_HINT = "pip install 'earthscope-sdk-async[cli]'"


def rich_available() -> bool:
    """True when ``rich`` can be imported."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def silence_stdout() -> None:
    """Point stdout at /dev/null after its reader went away (a broken pipe), so that later
    writes and the interpreter's final flush succeed silently."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def format_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``3725`` -> ``1 h 2 min``; ``59`` -> ``59 s``; negative values count as 0."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class Output:
    """Where a command writes: ``out`` (results) and ``err`` (progress, messages).

    The streams default to ``sys.stdout``/``sys.stderr`` as they are when first used.
    """

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out
        self._err = err

    @property
    def out(self) -> TextIO:
        """The results stream."""
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        """The messages and progress stream."""
        return self._err or sys.stderr

    def line(self, text: str = "") -> None:
        """Print a line of results on stdout (dropped once its reader has gone away)."""
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:
            silence_stdout()

    def note(self, text: str) -> None:
        """Print a message on stderr."""
        print(text, file=self.err, flush=True)

    def warn(self, text: str) -> None:
        """Print a warning on stderr."""
        self.note(f"earthscope-async: warning: {text}")

    def json(self, data: Any) -> None:
        """Print ``data`` as indented JSON on stdout."""
        self.line(json.dumps(data, indent=2, default=str))

    def fields(self, rows: Sequence[tuple[str, str]], *, indent: str = "") -> None:
        """Print ``name  value`` lines with the values aligned."""
        width = max((len(name) for name, _ in rows), default=0)
        for name, value in rows:
            self.line(f"{indent}{name:<{width}}  {value}")

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        title: str | None = None,
        right: Sequence[int] = (),
    ) -> None:
        """Print a table: drawn by rich on a terminal, else aligned plain text.

        ``right`` lists the columns to right-align (numbers).
        """
        if is_terminal(self.out) and rich_available():
            self._rich_table(headers, rows, title, right)
            return
        if title:
            self.line(title)
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        for row in (headers, *rows):
            cells = [
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            self.line("  ".join(cells).rstrip())

    def _rich_table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        title: str | None,
        right: Sequence[int],
    ) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for i, header in enumerate(headers):
            table.add_column(header, justify="right" if i in right else "left")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # literal text, not rich markup
        try:
            Console(file=self.out).print(table)
            self.out.flush()
        except BrokenPipeError:
            silence_stdout()
