"""The download progress bar in a Jupyter notebook: one live bar, a readable saved state.

With tqdm and ipywidgets (the ``notebook`` extra) the bar is tqdm's widget, and a final
text line is printed to stdout when the batch ends, so the saved notebook (where widgets
do not render without their JavaScript) still says what happened. Without them the bar is
rich output updated in place (an HTML ``<progress>`` with a text form), whose last state is
what the saved notebook keeps. Nothing goes to stderr (which notebooks render as errors).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .._notebook import escape, new_display
from ._progress import ProgressBar, TextProgressBar, TqdmProgressBar
from ._types import DownloadProgress

__all__ = ["DisplayProgressBar", "NotebookTqdmBar", "notebook_progress_bar"]


def render_text(progress: DownloadProgress, label: str = "download") -> str:
    """``download 100% [####...] 20/20 files  80.0 KiB  1.2 MiB/s``."""
    return TextProgressBar(width=24, label=label).render(progress)


def _html(progress: DownloadProgress, label: str = "download") -> str:
    total = progress.files_total
    bar = (
        f'<progress value="{progress.files_done}" max="{total}" style="width:20em"></progress> '
        if total
        else ""
    )
    text = escape(render_text(progress, label))
    return f'<div class="earthscope-progress">{bar}<code>{text}</code></div>'


class NotebookTqdmBar(TqdmProgressBar):
    """tqdm's widget bar, plus a final text line on stdout for the saved notebook."""

    def __init__(self, tqdm_class: Any, *, label: str = "download") -> None:
        super().__init__(tqdm_class, label=label)
        self._label = label
        self._last: DownloadProgress | None = None

    def __call__(self, progress: DownloadProgress) -> None:
        """Move the bar to ``progress``."""
        self._last = progress
        super().__call__(progress)

    def close(self) -> None:
        """Close the bar and print the final state as text (once)."""
        last, self._last = self._last, None
        super().close()
        if last is not None:
            print(render_text(last, self._label), file=sys.stdout, flush=True)


class DisplayProgressBar:
    """One rich output updated in place (at most every ``min_interval`` seconds)."""

    def __init__(self, *, min_interval: float = 0.2, label: str = "download") -> None:
        self._label = label
        self._min_interval = min_interval
        self._handle: Any = None
        self._last_draw = -float("inf")
        self._pending: DownloadProgress | None = None

    def __call__(self, progress: DownloadProgress) -> None:
        """Show ``progress`` (throttled, except for the final snapshot)."""
        now = time.monotonic()
        final = progress.bytes_total is not None
        if not final and now - self._last_draw < self._min_interval:
            self._pending = progress
            return
        self._draw(progress, now)

    def _draw(self, progress: DownloadProgress, now: float) -> None:
        self._last_draw, self._pending = now, None
        html_text, plain = _html(progress, self._label), render_text(progress, self._label)
        if self._handle is None:
            self._handle = new_display(html_text, plain)
        else:
            self._handle.update({"text/html": html_text, "text/plain": plain}, raw=True)

    def close(self) -> None:
        """Draw the last throttled snapshot, if any (the output stays)."""
        if self._pending is not None:
            self._draw(self._pending, time.monotonic())


def notebook_progress_bar(label: str = "download") -> ProgressBar:
    """Tqdm's widget bar with tqdm and ipywidgets installed, else :class:`DisplayProgressBar`."""
    try:
        import ipywidgets  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
        from tqdm.notebook import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return DisplayProgressBar(label=label)
    return NotebookTqdmBar(tqdm, label=label)
