"""How long one download attempt may wait: its stall bound (and, on the direct path, the
client's read timeout).

An attempt must keep making progress: at least :data:`STALL_BYTES` of body per
``stall_timeout`` seconds, the wait for the answer's headers included (a trickle counts as
stalled, like silence). Two ways hold an attempt to it, with the same interface
(:meth:`progress` per chunk, :meth:`answered` once the headers are in, :meth:`failure`):

* :class:`Watch`, on asyncio with the aiohttp backend (the direct path, Python 3.11+): the
  deadline is a :class:`~.._http._deadlines.Due` among the pool's deadlines (one timer for
  all the pool's attempts), moved by each chunk with an attribute write. It keeps the
  client's read timeout too (no byte for ``timeout_read`` seconds): aiohttp's own per-read
  timer is off for these requests, since it is made again at every chunk (about 13 µs of a
  small file's CPU, with the cancel scope of the other way as much again). Until the headers
  arrive, expiry cancels the attempt's task (it awaits only the request then); after, it
  closes the response, so the next read of the body fails and the attempt ends as after a
  dropped connection: never a cancellation inside the shielded writes of the ``.part``.
* :class:`ScopeBound`, everywhere else (trio, httpcore, Python 3.10): an anyio cancel scope
  whose deadline moves at most once per ``_SLACK`` of the bound and that much later each
  time, so a fast body reschedules the timer a hundred times per ``stall_timeout`` at most,
  not once per chunk; the read timeout is the transport's.

Neither declares an attempt stalled before its time: a :class:`Watch` is exact (to a timer
tick), a :class:`ScopeBound` at most 1 % late.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import httpx

from .._errors import TransportError
from .._loop import loop_clock
from .._network_errors import network_failure
from .._retry import Failure

if TYPE_CHECKING:
    from .._http._deadlines import Deadlines, Due
    from .._http._direct import DirectRoute

__all__ = ["DEFAULT_STALL_TIMEOUT", "STALL_BYTES", "ScopeBound", "Watch"]

DEFAULT_STALL_TIMEOUT = 60.0
"""Default ``stall_timeout`` of a download, in seconds."""
STALL_BYTES = 1024
"""Progress that resets the stall clock: a trickle slower than this per ``stall_timeout``
(e.g. one byte a second) counts as stalled, like silence."""
_SLACK = 0.01
"""How far (a fraction of ``stall_timeout``) a :class:`ScopeBound` may lag behind progress."""


def stalled(where: str, seconds: float | None) -> Failure:
    """The (retryable) failure of an attempt that stalled."""
    error = TransportError(
        f"GET {where}: stalled (less than {STALL_BYTES} bytes in {seconds:g} s); the "
        "partial file is kept for a retry. Raise stall_timeout for very slow servers."
    )
    return Failure(error, True)


class ScopeBound:
    """The stall bound as a cancel scope (``seconds`` None: no bound): enter :attr:`scope`
    around the attempt; :meth:`failure` once it was cancelled."""

    __slots__ = ("_moved", "_now", "_since", "scope", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._since = 0
        self._moved = 0.0
        if seconds is None:
            self.scope = anyio.CancelScope()
        else:
            self._now = loop_clock()
            self._moved = self._now()
            self.scope = anyio.CancelScope(deadline=self._moved + seconds * (1 + _SLACK))

    def answered(self, body: object) -> None:
        """The headers arrived (nothing to do: they are not body progress)."""

    def progress(self, count: int) -> None:
        """``count`` more bytes of body arrived."""
        seconds = self.seconds
        if seconds is None:
            return
        self._since += count
        if self._since >= STALL_BYTES:
            self._since = 0
            now = self._now()
            if now >= self._moved + seconds * _SLACK:
                self._moved = now
                self.scope.deadline = now + seconds * (1 + _SLACK)

    def failure(self, where: str) -> Failure:
        """The failure of the attempt whose scope was cancelled (it stalled)."""
        return stalled(where, self.seconds)


class Watch:
    """The stall bound and the read timeout of one attempt on the direct path, as one
    moving :class:`~.._http._deadlines.Due` of the pool's :class:`Deadlines`. Call
    :meth:`finish` when the attempt ends (also on errors); while the headers are awaited a
    ``CancelledError`` for which :meth:`finish` is True is this watch's expiry."""

    __slots__ = (
        "_deadlines",
        "_due",
        "_now",
        "_read_due",
        "_since",
        "_stall_due",
        "_task",
        "read",
        "seconds",
    )

    def __init__(self, route: DirectRoute, deadlines: Deadlines, seconds: float | None) -> None:
        self._task = route.current_task()
        loop_time = self._task.get_loop().time
        timeout = route.http.timeout
        self._now: Callable[[], float] = loop_time
        self._deadlines = deadlines
        self.seconds = seconds
        self.read = timeout.read
        """The client's read timeout (``None``: none)."""
        self._since = 0
        now = loop_time()
        self._stall_due = math.inf if seconds is None else now + seconds
        # before the headers: the read timeout counts from when the request could at the
        # latest have been sent (the pool's and the connection's limits are aiohttp's)
        before = timeout.pool if timeout.pool is not None else (timeout.connect or 0.0)
        self._read_due = math.inf if self.read is None else now + before + self.read
        when = min(self._stall_due, self._read_due)
        self._due: Due | None = deadlines.until(self._task, when) if when < math.inf else None

    @property
    def expired(self) -> bool:
        """Whether a bound passed (the attempt was cancelled, or its response closed)."""
        return self._due is not None and self._due.expired

    def answered(self, body: object) -> None:
        """The headers arrived: the read timeout now counts from here, and expiry closes
        the answer's ``body`` stream (its next read fails) instead of cancelling the task."""
        due = self._due
        if due is None:
            return
        if self.read is not None:  # (sooner than the bound before the headers)
            self._read_due = self._now() + self.read
            self._deadlines.sooner(self._task, min(self._stall_due, self._read_due))
        abort = getattr(body, "abort", None)  # (the aiohttp transport's body)
        if abort is not None:
            due.expire = abort

    def progress(self, count: int) -> None:
        """``count`` more bytes of body arrived."""
        due = self._due
        if due is None:
            return
        now = self._now()
        if self.read is not None:
            self._read_due = now + self.read
        self._since += count
        if self._since >= STALL_BYTES and self.seconds is not None:
            self._since = 0
            self._stall_due = now + self.seconds
        due.when = min(self._stall_due, self._read_due)

    def finish(self) -> bool:
        """Stop watching. True when the attempt's task was cancelled by this watch alone
        (its ``CancelledError`` is then to be turned into :meth:`failure`)."""
        return self._due is not None and self._deadlines.finish(self._task)

    def failure(self, where: str) -> Failure:
        """The failure of the attempt this watch expired: stalled, or a read timeout."""
        if self._read_due <= self._stall_due and self.read is not None:
            # worded as the transport's own read timeout is (see FileDownload)
            exc = httpx.ReadTimeout(f"no data for {self.read:g} s")
            error = TransportError(
                network_failure(f"GET {where}", exc, setting="that the URL is right")
            )
            error.__cause__ = exc
            return Failure(error, True)
        return stalled(where, self.seconds)
