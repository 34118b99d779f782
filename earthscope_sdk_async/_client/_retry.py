"""Retry policy and the client-wide pause shared by every request (one back-off budget).

:class:`RetryPolicy` bounds retries in attempts *and* total time, with exponential back-off
and full jitter. :class:`SharedPause` holds one "paused until" deadline per client: a 429
(or a ``Retry-After``) seen by any request pauses every request of the client, new and
retrying, so concurrent calls back off together instead of hammering a rate-limited API.

What is retried (see :func:`retry_decision`):

* 429, 502, 503, 504 and 500 for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS). 500 is
  retried because EarthScope's gateway answers it for transient upstream failures; the
  bounded budget keeps a persistent 500 cheap.
* For other methods (POST, PATCH) only 429 and 503 that carry ``Retry-After``: the server
  then says it did not process the request.
* Transport errors: for idempotent methods any connection, read/write, timeout or protocol
  failure; for other methods only failures that happen before the request is sent (connect
  errors and pool timeouts).
* Never 400, 401 (the auth already refreshed and retried once, C48/C49), 403, 404 or any
  other 4xx.

Nothing here stores an event-loop object: the pause is a float on the clock's monotonic
time guarded by a ``threading.Lock``, so a client works across event loops and threads.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

import httpx

from .._clock import Clock
from .._errors import ApiError, ConfigError, EarthScopeError
from .._network_errors import gave_up_after

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "SharedPause",
    "is_idempotent",
    "retryable_status",
    "retryable_transport",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods that may be replayed after the request may have reached the server."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses retried for idempotent methods."""

_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RANDOM = random.SystemRandom()


def _check_number(name: str, value: object, *, minimum: float, allow_equal: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or math.isnan(value) or math.isinf(value):  # type: ignore[arg-type]
        raise ConfigError(f"RetryPolicy.{name} must be a finite number, got {value!r}")
    if value < minimum or (value == minimum and not allow_equal):  # type: ignore[operator]
        bound = f">= {minimum}" if allow_equal else f"> {minimum}"
        raise ConfigError(f"RetryPolicy.{name} must be {bound}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RetryPolicy:
    """How API requests are retried.

    ``max_attempts`` counts every request sent (4: the first try and 3 retries);
    ``max_total`` bounds the seconds spent on one call, waits included: a retry whose wait
    would end after it is not attempted. Without ``Retry-After`` the n-th retry waits a
    random time in ``[0, min(max_delay, base_delay * 2**(n-1))]`` (full jitter); a
    ``Retry-After`` (seconds or HTTP-date) is honoured as sent. ``RetryPolicy(max_attempts=1)``
    disables retries.
    """

    max_attempts: int = 4
    """Requests sent at most per call (the first included)."""
    max_total: float = 60.0
    """Seconds one call may take in all, waits included."""
    base_delay: float = 0.5
    """Cap of the first jittered back-off, in seconds."""
    max_delay: float = 30.0
    """Largest jittered back-off, in seconds."""

    def __post_init__(self) -> None:
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigError(f"RetryPolicy.max_attempts must be an integer >= 1, got {attempts!r}")
        set_ = object.__setattr__
        set_(
            self,
            "max_total",
            _check_number("max_total", self.max_total, minimum=0, allow_equal=False),
        )
        set_(
            self,
            "base_delay",
            _check_number("base_delay", self.base_delay, minimum=0, allow_equal=True),
        )
        set_(
            self,
            "max_delay",
            _check_number("max_delay", self.max_delay, minimum=0, allow_equal=True),
        )

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number ``retry`` (1 for the first retry)."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** min(max(retry - 1, 0), 60))
        return _RANDOM.uniform(0.0, cap)


class SharedPause:
    """One "paused until" deadline for a whole client, on ``clock.monotonic()``.

    :meth:`pause` only ever pushes the deadline later; :meth:`wait` sleeps until it has
    passed (re-checking, as another request may extend it meanwhile).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until = -math.inf
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"SharedPause(remaining={self.remaining():.3f})"

    def pause(self, seconds: float) -> None:
        """Pause every request of the client for ``seconds`` from now (never shortens)."""
        until = self._clock.monotonic() + max(0.0, seconds)
        with self._guard:
            self._until = max(self._until, until)

    def remaining(self) -> float:
        """Seconds left before requests may be sent again (0 when not paused)."""
        with self._guard:
            until = self._until
        return max(0.0, until - self._clock.monotonic())

    async def wait(self, deadline: float) -> bool:
        """Sleep until the pause is over; ``False`` (without sleeping) when it would end
        after ``deadline`` (a ``clock.monotonic()`` time)."""
        while True:
            left = self.remaining()
            if left <= 0:
                return True
            if self._clock.monotonic() + left > deadline:
                return False
            await self._clock.sleep(left)


@dataclass(frozen=True)
class Failure:
    """A failed attempt: the error to raise, whether to retry, the server's wait, whether it
    was a 429 (pauses everyone), and whether to restart at once without back-off."""

    error: EarthScopeError
    retryable: bool
    retry_after: float | None = None
    rate_limited: bool = False
    immediate: bool = False


def api_error_after(error: ApiError, attempts: int) -> ApiError:
    """``error`` again, its message saying how many attempts were made."""
    final = ApiError(
        f"{error} ({gave_up_after(attempts)})",
        status_code=error.status_code,
        detail=error.detail,
        request_id=error.request_id,
        url=error.url,
    )
    final.__cause__ = error.__cause__
    return final


def is_idempotent(method: str) -> bool:
    """True for methods that may be replayed once the request may have been sent."""
    return method.upper() in IDEMPOTENT_METHODS


def retryable_status(method: str, status: int, *, has_retry_after: bool) -> bool:
    """Whether an answer with ``status`` may be retried (see the module docstring)."""
    if is_idempotent(method):
        return status in RETRY_STATUSES
    return status in (429, 503) and has_retry_after


def retryable_transport(method: str, exc: httpx.HTTPError) -> bool:
    """Whether a transport failure may be retried: before sending always, after only for
    idempotent methods."""
    if isinstance(exc, _BEFORE_SEND):
        return True
    return is_idempotent(method) and isinstance(exc, _TRANSIENT)
