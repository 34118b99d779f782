"""Deadlines for many concurrent attempts on one asyncio loop, kept with one timer.

``asyncio.timeout()`` makes, schedules and cancels a timer for every use: about 4 µs of CPU
per API call when 64 calls are in flight, a tenth of the SDK's own cost on the direct path.
:class:`Deadlines` holds the deadlines of all the attempts of one connection pool (one event
loop) in a dict and keeps a single timer, set for the earliest of them. When it fires,
every task past its deadline is cancelled, as ``asyncio.timeout`` would cancel it, and
:meth:`Deadlines.finish` then tells the attempt whether the ``CancelledError`` it caught was
this deadline's (turned into a "did not complete in time" failure) or someone else's (left
to propagate): the same ``Task.cancelling`` / ``Task.uncancel`` bookkeeping as
``asyncio.timeout``, so anyio cancel scopes and outer timeouts keep working.

Each deadline is exact (the timer is always set for the earliest one still pending). When
the task with the earliest deadline finishes first, as most do, the timer fires for
nothing, finds the next earliest in one pass over the pending attempts and is set again:
about one pass per deadline length, whatever the number of calls.

A deadline may also move later (a download's stall bound moves with each chunk of its
body: see ``_download._bounds``): its owner writes the new time into its :class:`Due`, and
the timer, when it fires early for it, only sets itself for the next earliest. A
:class:`Due` with an ``expire`` callback is not cancelled at expiry: the callback runs
instead (a download closes the response it reads, so no cancellation lands in its file
writes).

Needs Python 3.11 (``Task.uncancel``); :func:`supported` says so, and callers fall back to
a cancel scope per attempt without it.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Deadlines", "Due", "supported"]

_SLACK = 0.001
"""Seconds a deadline may be called early (so an early timer never spins)."""


def supported() -> bool:
    """Whether this Python has what :class:`Deadlines` needs (``Task.uncancel``, 3.11+)."""
    return sys.version_info >= (3, 11)


class Due:
    """One attempt's deadline (on the loop's clock). Its owner may move :attr:`when` later
    at any time, at the cost of an attribute write (the timer finds out when it fires);
    earlier only with :meth:`Deadlines.sooner` (the timer must be set again). ``expire``,
    when set, is what expiry does instead of cancelling the task (e.g. close the response
    being read)."""

    __slots__ = ("cancelling", "expire", "expired", "when")

    def __init__(self, when: float, cancelling: int) -> None:
        self.when = when
        self.cancelling = cancelling
        """The task's ``cancelling()`` count at the start."""
        self.expire: Callable[[], object] | None = None
        self.expired = False
        """Set when the deadline passed (whatever expiry then did)."""


class Deadlines:
    """The deadlines of the attempts running on one asyncio loop."""

    __slots__ = ("_due", "_expired", "_timer")

    def __init__(self) -> None:
        self._due: dict[asyncio.Task[Any], Due] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        """Tasks this timer cancelled, not finished yet."""
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._due)

    def start(self, task: asyncio.Task[Any], seconds: float) -> Due:
        """``task`` must finish its attempt within ``seconds`` (then call :meth:`finish`)."""
        return self.until(task, task.get_loop().time() + seconds)

    def until(self, task: asyncio.Task[Any], when: float) -> Due:
        """``task`` must finish its attempt by ``when``, on the loop's clock (then call
        :meth:`finish`); the :class:`Due` returned may be moved later."""
        due = Due(when, task.cancelling())  # type: ignore[attr-defined,unused-ignore]
        self._due[task] = due
        self._arm(task.get_loop(), when)
        return due

    def sooner(self, task: asyncio.Task[Any], when: float) -> None:
        """Bring ``task``'s deadline forward to ``when`` (moving it later needs no call:
        write :attr:`Due.when`)."""
        due = self._due.get(task)
        if due is not None and when < due.when:
            due.when = when
            self._arm(task.get_loop(), when)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        """Have the timer fire by ``when``."""
        timer = self._timer
        if timer is None or when < timer.when():
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(when, self._fire, loop)

    def finish(self, task: asyncio.Task[Any]) -> bool:
        """Forget ``task``'s deadline. True when it expired and the task's cancellation was
        only this deadline's (turn the ``CancelledError`` into a timeout); False otherwise
        (no expiry, an ``expire`` callback instead of a cancellation, or another
        cancellation is pending: let it propagate)."""
        due = self._due.pop(task, None)
        if not self._expired or task not in self._expired:
            return False
        self._expired.discard(task)
        left: int = task.uncancel()  # type: ignore[attr-defined,unused-ignore]
        return left <= (due.cancelling if due is not None else 0)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time() + _SLACK  # the loop may run a timer a clock tick early
        soonest: float | None = None
        for task, due in list(self._due.items()):
            when = due.when
            if when <= now:
                due.expired = True
                if due.expire is not None:  # (it stays registered until finish())
                    due.when = math.inf
                    due.expire()
                elif task not in self._expired:
                    self._expired.add(task)
                    task.cancel()
            elif soonest is None or when < soonest:
                soonest = when
        if soonest is not None:
            self._timer = loop.call_at(soonest, self._fire, loop)
