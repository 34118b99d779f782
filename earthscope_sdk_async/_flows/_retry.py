"""Bounded retries for requests that are safe to repeat (client credentials, revocation).

Transport errors, 5xx/``temporarily_unavailable`` and 429 (but not ``too_many_attempts``,
which is a block) are retried up to ``max_attempts`` times, waiting ``Retry-After`` when the
server sent one (C18, C44) and otherwise 1 s, 2 s, 4 s... (at most ``MAX_RETRY_WAIT``).
Final errors (C32) are raised at once. A ``Retry-After`` longer than ``MAX_RETRY_WAIT`` is
not waited for: the error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from earthscope_sdk_async._clock import Clock
from earthscope_sdk_async._errors import (
    ConfigError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from earthscope_sdk_async._retry_after import retry_after_seconds
from earthscope_sdk_async._settings import Settings

from ._http import post_form
from ._response import Context, Reply, read_reply, to_error

__all__ = ["MAX_RETRY_WAIT", "check_attempts", "post_with_retries"]

log = logging.getLogger(__name__)

MAX_RETRY_WAIT = 60.0
"""The longest ``Retry-After`` (seconds) we wait for before giving up."""
BASE_BACKOFF = 1.0
"""The first wait, in seconds, when the server gave no ``Retry-After``."""


def check_attempts(max_attempts: int) -> int:
    """Validate ``max_attempts`` (at least 1)."""
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    return max_attempts


def _is_retryable(error: OAuthError) -> bool:
    if isinstance(error, RateLimitError):
        return error.error != "too_many_attempts"
    return isinstance(error, OAuthServerError)


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the error to raise, and whether (and when) to try again."""

    error: TransportError | OAuthError
    retryable: bool
    retry_after: float | None = None


@dataclass(frozen=True, repr=False)  # no repr: the form holds secrets (C54)
class _Request:
    http: httpx.AsyncClient
    settings: Settings
    url: str
    form: Mapping[str, str]
    what: str
    context: Context
    clock: Clock
    headers: Mapping[str, str] | None
    is_success: Callable[[Reply], bool]

    async def attempt(self) -> Reply | _Failure:
        """One POST: the reply on success, else the failure."""
        try:
            response = await post_form(
                self.http, self.settings, self.url, self.form, what=self.what, headers=self.headers
            )
        except TransportError as exc:
            return _Failure(exc, retryable=True)
        reply = read_reply(response, what=self.what)
        if self.is_success(reply):
            return reply
        error = to_error(reply, self.context, now=self.clock.now())
        if not _is_retryable(error):
            return _Failure(error, retryable=False)
        return _Failure(error, True, retry_after_seconds(reply.headers, now=self.clock.now()))


def _wait_before(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    return min(BASE_BACKOFF * 2.0 ** min(attempt - 1, 30), MAX_RETRY_WAIT)


def _default_success(reply: Reply) -> bool:
    return reply.is_success


async def post_with_retries(
    http: httpx.AsyncClient,
    settings: Settings,
    url: str,
    form: Mapping[str, str],
    *,
    what: str,
    context: Context,
    clock: Clock,
    max_attempts: int,
    headers: Mapping[str, str] | None = None,
    is_success: Callable[[Reply], bool] = _default_success,
) -> Reply:
    """POST ``form`` until it succeeds, fails for good, or the attempts run out."""
    request = _Request(http, settings, url, form, what, context, clock, headers, is_success)
    for attempt in range(1, max_attempts + 1):
        outcome = await request.attempt()
        if isinstance(outcome, Reply):
            return outcome
        wait = _wait_before(attempt, outcome.retry_after)
        if not outcome.retryable or attempt >= max_attempts or wait > MAX_RETRY_WAIT:
            raise outcome.error
        log.debug("%s: attempt %d failed, retrying in %s s", what, attempt, wait)
        await clock.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
