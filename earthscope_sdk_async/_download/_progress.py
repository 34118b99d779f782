r"""Progress of a bulk download: the throttled tracker, and the bar shown for ``progress=True``.

The default bar is ``tqdm.auto.tqdm`` when tqdm is installed (a widget in Jupyter, text in
a terminal), else :class:`TextProgressBar`: one line on stderr rewritten with ``\\r``
(Jupyter renders that in place too). tqdm is optional and imported only for
``progress=True``.

Every call happens in the event loop running the download: for the blocking
``EarthScopeClient`` that is the client's loop thread, never the caller's thread. The
tracker therefore owns all the counters (nothing is shared across threads), a callback that
raises is logged and dropped (it cannot break the batch), and the bar is closed when the
batch ends in any way (done, failed or cancelled).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO, TypeAlias

from .._errors import ConfigError
from ._types import DownloadProgress

__all__ = [
    "ProgressBar",
    "ProgressCallback",
    "ProgressOption",
    "TextProgressBar",
    "TqdmProgressBar",
    "Tracker",
    "default_progress_bar",
    "resolve_progress",
]

logger = logging.getLogger(__name__)

ProgressCallback: TypeAlias = Callable[[DownloadProgress], None]
"""Called with a :class:`DownloadProgress` at most about 10 times a second, and at the end."""
ProgressOption: TypeAlias = "ProgressCallback | bool | None"
"""A callback, ``True`` for the default bar, ``False``/``None`` for nothing."""

_INTERVAL = 0.1


class ProgressBar(Protocol):
    """A progress callback that must be closed when the batch ends."""

    def __call__(self, progress: DownloadProgress) -> None: ...

    def close(self) -> None: ...


def human_size(count: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _files(progress: DownloadProgress) -> str:
    total = progress.files_total
    if total is None:
        return f"{progress.files_done} files"
    return f"{progress.files_done}/{total} files"


class TextProgressBar:
    r"""A one-line text bar on ``stream`` (stderr by default), rewritten in place with ``\\r``.

    ``download  40% [#########-------------] 20/50 files  5.0 MiB  2.5 MiB/s``. Redrawn at
    most every ``min_interval`` seconds (the final snapshot always); :meth:`close` ends the
    line. Plain ASCII, so any console encoding can show it.
    """

    def __init__(
        self, stream: TextIO | None = None, *, min_interval: float = 0.2, width: int = 24
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._min_interval = min_interval
        self._width = width
        self._last_draw = -float("inf")
        self._drawn_length = 0
        self._pending: DownloadProgress | None = None
        self._closed = False

    def __call__(self, progress: DownloadProgress) -> None:
        """Show ``progress`` (throttled, except for the final snapshot)."""
        if self._closed:
            return
        now = time.monotonic()
        final = progress.bytes_total is not None
        if not final and now - self._last_draw < self._min_interval:
            self._pending = progress
            return
        self._draw(progress, now)

    def render(self, progress: DownloadProgress) -> str:
        """The text of the bar for ``progress`` (without the leading carriage return)."""
        total = progress.files_total
        sizes = f"{human_size(progress.bytes_done)}  {human_size(progress.rate_bytes_per_s)}/s"
        if total is None:
            return f"download  {_files(progress)}  {sizes}"
        done = min(progress.files_done / total, 1.0) if total else 1.0
        filled = int(done * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        return f"download {done:4.0%} [{bar}] {_files(progress)}  {sizes}"

    def _draw(self, progress: DownloadProgress, now: float) -> None:
        self._last_draw = now
        self._pending = None
        line = self.render(progress)
        padding = " " * max(self._drawn_length - len(line), 0)
        self._drawn_length = len(line)
        self._stream.write("\r" + line + padding)
        self._stream.flush()

    def close(self) -> None:
        """Draw the last throttled snapshot, if any, and end the line; idempotent."""
        if self._closed:
            return
        if self._pending is not None:
            self._draw(self._pending, time.monotonic())
        self._closed = True
        if self._drawn_length:
            self._stream.write("\n")
            self._stream.flush()


class TqdmProgressBar:
    """The download as a tqdm bar over files, bytes and rate in its postfix.

    ``tqdm_class`` is ``tqdm.auto.tqdm`` by default; the bar is created on the first
    snapshot (when the number of files may be known) and closed by :meth:`close`.
    """

    def __init__(self, tqdm_class: Callable[..., Any]) -> None:
        self._tqdm_class = tqdm_class
        self._bar: Any = None

    def __call__(self, progress: DownloadProgress) -> None:
        """Move the bar to ``progress``."""
        bar = self._bar
        if bar is None:
            bar = self._bar = self._tqdm_class(
                total=progress.files_total, unit="file", desc="download", leave=True
            )
        if progress.files_total is not None and bar.total != progress.files_total:
            bar.total = progress.files_total
        sizes = f"{human_size(progress.bytes_done)}, {human_size(progress.rate_bytes_per_s)}/s"
        bar.set_postfix_str(sizes, refresh=False)
        bar.update(progress.files_done - bar.n)

    def close(self) -> None:
        """Close the bar (it stays displayed); idempotent."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


def default_progress_bar() -> ProgressBar:
    """The bar used for ``progress=True``: tqdm's (``tqdm.auto``) if installed, else text."""
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return TextProgressBar()
    return TqdmProgressBar(tqdm)


def resolve_progress(
    progress: ProgressOption,
) -> tuple[ProgressCallback | None, ProgressBar | None]:
    """``(callback, bar to close at the end)`` for the ``progress`` option."""
    if progress is True:
        bar = default_progress_bar()
        return bar, bar
    if progress is None or progress is False:
        return None, None
    if not callable(progress):
        raise ConfigError(f"progress must be a callable, True, False or None; got {progress!r}")
    return progress, None


class Tracker:
    """Counts bytes and files; calls the callback at most every ``_INTERVAL`` seconds."""

    def __init__(self, callback: ProgressCallback | None, files_total: int | None) -> None:
        self.callback = callback
        self.files_total = files_total
        self.bytes_done = 0
        self.files_done = 0
        self.started = time.monotonic()
        self.last = -float("inf")

    def add_bytes(self, count: int) -> None:
        """``count`` more bytes were written."""
        self.bytes_done += count
        self._maybe_emit()

    def file_done(self) -> None:
        """One more item finished (in any way)."""
        self.files_done += 1
        self._maybe_emit()

    def finish(self) -> None:
        """The final snapshot: every total known."""
        self.files_total = self.files_done
        self._emit(self.bytes_done)

    def _maybe_emit(self) -> None:
        if self.callback is not None and time.monotonic() - self.last >= _INTERVAL:
            self._emit(None)

    def _emit(self, bytes_total: int | None) -> None:
        callback = self.callback
        if callback is None:
            return
        now = time.monotonic()
        self.last = now
        rate = self.bytes_done / max(now - self.started, 1e-6)
        snapshot = DownloadProgress(
            self.bytes_done, bytes_total, self.files_done, self.files_total, rate
        )
        try:
            callback(snapshot)
        except Exception:  # a broken callback must not abort the batch
            logger.warning("the download progress callback failed; ignoring it", exc_info=True)
            self.callback = None
