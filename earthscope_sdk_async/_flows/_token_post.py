"""Token requests that are safe to repeat (client credentials, revocation), retried by the
one engine (:func:`earthscope_sdk_async._retry.retry`) under the OAuth rules, kept as data:

* retryable: transport errors, 5xx/``temporarily_unavailable`` (:class:`OAuthServerError`)
  and 429 (:class:`RateLimitError`) except ``too_many_attempts``, which is a block
  (:data:`RETRYABLE_OAUTH`, :data:`FINAL_OAUTH_CODES`); other OAuth errors (C32) are final;
* the wait: ``Retry-After`` when the server sent one (C18, C44), otherwise 1 s, 2 s, 4 s...
  without jitter, at most ``MAX_RETRY_WAIT``; a ``Retry-After`` longer than that is not
  waited for: the error is raised (:data:`TOKEN_RULES`);
* no shared pause: the identity provider is another host than the API, and the token
  manager is shared by clients with their own pauses.

``max_attempts`` (3 by default, the flows' public argument) overrides the attempts of
:data:`TOKEN_RETRY_POLICY`. A client's :class:`~earthscope_sdk_async.RetryPolicy` does not
govern token requests: see "Retrying" in docs/design.md for why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from .._checks import check_count
from .._clock import Clock
from .._errors import (
    OAuthError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from .._retry import Failure, RetryPolicy, RetryRules, retry
from .._retry_after import retry_after_seconds
from .._settings import Settings
from ._http import post_form
from ._response import Context, Reply, read_reply, to_error

__all__ = [
    "FINAL_OAUTH_CODES",
    "MAX_RETRY_WAIT",
    "RETRYABLE_OAUTH",
    "TOKEN_RETRY_POLICY",
    "TOKEN_RULES",
    "check_attempts",
    "post_with_retries",
]

MAX_RETRY_WAIT = 60.0
"""The longest wait (seconds, ``Retry-After`` included) before giving up."""
TOKEN_RETRY_POLICY = RetryPolicy(max_attempts=3, max_total=600.0, base_delay=1.0, max_delay=60.0)
"""Token requests: 3 attempts, 1 s doubling up to 60 s, at most 10 minutes in all."""
TOKEN_RULES = RetryRules(jitter=False, max_wait=MAX_RETRY_WAIT, say_attempts=False)
"""No jitter, no wait over a minute, the server's error raised as it came."""
RETRYABLE_OAUTH: tuple[type[OAuthError], ...] = (OAuthServerError, RateLimitError)
"""OAuth errors worth another try."""
FINAL_OAUTH_CODES = frozenset({"too_many_attempts"})
"""``error`` codes that are final although their class is retryable (a block, not a blip)."""


def check_attempts(max_attempts: int) -> int:
    """Validate ``max_attempts`` (at least 1)."""
    return check_count("max_attempts", max_attempts)


def _is_retryable(error: OAuthError) -> bool:
    return isinstance(error, RETRYABLE_OAUTH) and error.error not in FINAL_OAUTH_CODES


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

    async def attempt(self) -> Reply | Failure:
        """One POST: the reply on success, else the failure."""
        try:
            response = await post_form(
                self.http, self.settings, self.url, self.form, what=self.what, headers=self.headers
            )
        except TransportError as exc:
            return Failure(exc, retryable=True)
        reply = read_reply(response, what=self.what)
        if self.is_success(reply):
            return reply
        error = to_error(reply, self.context, now=self.clock.now())
        if not _is_retryable(error):
            return Failure(error, retryable=False)
        return Failure(error, True, retry_after_seconds(reply.headers, now=self.clock.now()))


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
    return await retry(
        request.attempt,
        policy=TOKEN_RETRY_POLICY,
        clock=clock,
        what=what,
        max_attempts=max_attempts,
        rules=TOKEN_RULES,
    )
