"""Clocks: where flows and the token manager read time and sleep (C19, C61).

Intervals and deadlines use :meth:`Clock.monotonic`; token expiry uses :meth:`Clock.now`.
Tests inject a :class:`ScaledClock` so that RFC-sized waits (5 s) take milliseconds.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "ScaledClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Time source and sleeper used by flows and the token manager."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock, for intervals and deadlines."""
        ...

    def now(self) -> datetime:
        """The current wall-clock time, aware UTC, for token expiry."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (cancellable)."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, UTC now and ``anyio.sleep``."""

    def monotonic(self) -> float:
        """Seconds on ``time.monotonic``."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        """``anyio.sleep(seconds)``."""
        await anyio.sleep(max(0.0, seconds))


class ScaledClock:
    """A clock whose seconds last ``scale`` real seconds (``scale=0.01``: 5 s pass in 50 ms).

    ``monotonic`` and ``now`` advance ``1/scale`` times faster than real time, so intervals,
    deadlines and expiry stay consistent with the scaled sleeps.
    """

    def __init__(self, scale: float) -> None:
        if not scale > 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self._t0 = time.monotonic()
        self._wall0 = datetime.now(timezone.utc)

    def monotonic(self) -> float:
        """Scaled seconds since this clock was created."""
        return (time.monotonic() - self._t0) / self.scale

    def now(self) -> datetime:
        """Wall time advancing at the scaled rate."""
        return self._wall0 + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds * scale`` real seconds."""
        await anyio.sleep(max(0.0, seconds) * self.scale)
