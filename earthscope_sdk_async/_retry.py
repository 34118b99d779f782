"""The one retry engine: API calls, downloads and token requests all retry through :func:`retry`.

A call site supplies only its attempt (a coroutine function returning the result or a
:class:`Failure`) and its wording; the engine owns the loop: the overall deadline, the shared
pause, the back-off, ``Retry-After``, when to give up, and the "(gave up after N attempts)"
wording. What differs between kinds of request is data, not a second loop: the
:class:`RetryPolicy` (how many attempts, how long, how far apart) and the :class:`RetryRules`
(jitter, the longest single wait, whether a 429 pauses everyone).

:class:`RetryPolicy` bounds retries in attempts *and* total time, with exponential back-off
and full jitter. :class:`SharedPause` holds one "paused until" deadline per client: a 429
(or a ``Retry-After``) seen by any request pauses every request of the client, new and
retrying, so concurrent calls back off together instead of hammering a rate-limited API.

What is retried by API calls and downloads (the attempts decide, with :func:`retryable_status`
and :func:`retryable_transport`; token requests have their own RFC rules, in
:mod:`earthscope_sdk_async._flows._token_post`):

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

import logging
import math
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from ._checks import check_count, is_number
from ._clock import Clock
from ._errors import ApiError, ConfigError, EarthScopeError
from ._network_errors import gave_up_after

__all__ = [
    "API_RULES",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Failure",
    "RetryPolicy",
    "RetryRules",
    "SharedPause",
    "api_error_after",
    "gave_up",
    "is_idempotent",
    "retry",
    "retryable_status",
    "retryable_transport",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods that may be replayed after the request may have reached the server."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses retried for idempotent methods."""

_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RANDOM = random.SystemRandom()


def _check_number(name: str, value: object, *, minimum: float, allow_equal: bool) -> float:
    if not is_number(value) or math.isnan(value) or math.isinf(value):
        raise ConfigError(f"RetryPolicy.{name} must be a finite number, got {value!r}")
    if value < minimum or (value == minimum and not allow_equal):
        bound = f">= {minimum}" if allow_equal else f"> {minimum}"
        raise ConfigError(f"RetryPolicy.{name} must be {bound}, got {value!r}")
    return float(value)


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
        check_count("RetryPolicy.max_attempts", self.max_attempts)
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
        return _RANDOM.uniform(0.0, self.backoff_cap(retry))

    def backoff_cap(self, retry: int) -> float:
        """The longest back-off before retry number ``retry``: ``base_delay`` doubled per
        retry, at most ``max_delay`` (the wait itself, without jitter)."""
        return min(self.max_delay, self.base_delay * 2.0 ** min(max(retry - 1, 0), 60))


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


@dataclass(frozen=True)
class RetryRules:
    """What a kind of request adds to its :class:`RetryPolicy`: data, not another loop."""

    jitter: bool = True
    """Wait a random time up to the back-off (``True``) or exactly the back-off."""
    max_wait: float = math.inf
    """A single wait longer than this (e.g. a long ``Retry-After``) is not waited for."""
    say_attempts: bool = True
    """The final error says "(gave up after N attempts)" when there were several."""


API_RULES = RetryRules()
"""API calls and downloads: full jitter, any wait within the policy's deadline."""


def gave_up(failure: Failure, attempts: int) -> EarthScopeError:
    """The error to raise after ``attempts`` attempts, saying so when there were several."""
    error = failure.error
    if attempts < 2:
        return error
    if isinstance(error, ApiError):
        return api_error_after(error, attempts)
    final = type(error)(f"{error} ({gave_up_after(attempts)})")
    final.__cause__ = error.__cause__
    return final


def _wait(policy: RetryPolicy, rules: RetryRules, attempt: int, failure: Failure) -> float:
    if failure.retry_after is not None:
        return failure.retry_after
    if failure.immediate:
        return 0.0
    return policy.backoff(attempt) if rules.jitter else policy.backoff_cap(attempt)


async def retry(
    attempt: Callable[[], Awaitable[T | Failure]],
    *,
    policy: RetryPolicy,
    clock: Clock,
    what: object,
    pause: SharedPause | None = None,
    max_attempts: int | None = None,
    paused: Callable[[], EarthScopeError] | None = None,
    rules: RetryRules = API_RULES,
) -> T:
    """Run ``attempt`` until it returns a result, fails for good, or the budget is spent.

    ``what`` names the request in log lines (formatted only when logged); ``max_attempts``
    overrides the policy's; ``pause`` is the shared pause (waited for before every attempt,
    extended by a 429 or a ``Retry-After``); ``paused`` builds the error raised when the
    pause outlasts the deadline before anything was sent.

    Raises:
        EarthScopeError: the last failure's error (see :func:`gave_up`).
    """
    attempts = max_attempts if max_attempts is not None else policy.max_attempts
    deadline = clock.monotonic() + policy.max_total
    failure: Failure | None = None
    for number in range(1, attempts + 1):
        if pause is not None and pause.remaining() > 0 and not await pause.wait(deadline):
            if failure is not None:
                raise _final(rules, failure, number - 1)
            assert paused is not None, "a shared pause needs a paused error"
            raise paused()
        outcome = await attempt()
        if not isinstance(outcome, Failure):
            return outcome
        failure = outcome
        wait = _wait(policy, rules, number, outcome)
        if pause is not None and (outcome.rate_limited or outcome.retry_after is not None):
            pause.pause(wait)
        give_up = number >= attempts or clock.monotonic() + wait > deadline
        if not outcome.retryable or give_up or wait > rules.max_wait:
            raise _final(rules, outcome, number)
        logger.debug("%s: attempt %d failed, retrying in %.2f s", what, number, wait)
        await clock.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _final(rules: RetryRules, failure: Failure, attempts: int) -> EarthScopeError:
    return gave_up(failure, attempts) if rules.say_attempts else failure.error


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
