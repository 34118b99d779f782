"""Download progress on stderr: a live rich bar on a terminal, else periodic plain lines."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .._client import DownloadProgress
from ._output import Output, format_bytes, is_terminal, rich_available

__all__ = ["PlainProgress", "progress_display"]

ProgressCallback = Callable[[DownloadProgress], None]


def describe_progress(p: DownloadProgress) -> str:
    """``57/200 files, 3.5 MiB, 1.2 MiB/s``."""
    total = "?" if p.files_total is None else str(p.files_total)
    return (
        f"{p.files_done}/{total} files, {format_bytes(p.bytes_done)}, "
        f"{format_bytes(p.rate_bytes_per_s)}/s"
    )


class PlainProgress:
    """One ``download: ...`` line on stderr at most every ``every`` seconds, and at the end."""

    def __init__(self, ui: Output, every: float = 1.0) -> None:
        self.ui = ui
        self.every = every
        self.last = time.monotonic()

    def __call__(self, p: DownloadProgress) -> None:
        now = time.monotonic()
        final = p.bytes_total is not None
        if final or now - self.last >= self.every:
            self.last = now
            self.ui.note(f"download: {describe_progress(p)}")


class _RichProgress:
    """A rich progress bar: files done of total, bytes, rate, elapsed time."""

    def __init__(self, ui: Output, files_total: int | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("downloading"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TextColumn("{task.fields[size]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(file=ui.err),
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.progress.add_task("download", total=files_total, size="0 B", rate="")

    def __call__(self, p: DownloadProgress) -> None:
        fields: dict[str, Any] = {
            "size": format_bytes(p.bytes_done),
            "rate": f"{format_bytes(p.rate_bytes_per_s)}/s",
        }
        self.progress.update(self.task, completed=p.files_done, total=p.files_total, **fields)


@contextmanager
def progress_display(
    ui: Output, files_total: int | None, *, quiet: bool = False
) -> Iterator[ProgressCallback | None]:
    """The ``progress`` callback to give ``client.download`` (``None`` when quiet)."""
    if quiet:
        yield None
        return
    if not (is_terminal(ui.err) and rich_available()):
        yield PlainProgress(ui)
        return
    bar = _RichProgress(ui, files_total)
    with bar.progress:
        yield bar
