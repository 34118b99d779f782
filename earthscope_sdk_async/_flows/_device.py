"""The OAuth 2.0 device authorization grant, exactly per RFC 8628 (C1-C19).

One request for a code (never in a loop, C8), then polling: wait ``interval`` measured from
the previous response (C10), keep going on ``authorization_pending`` (C11), add 5 s on every
``slow_down`` (C12), back off on network trouble, 5xx and non-JSON answers (C16, C17), honour
``Retry-After`` on other 429s (C18), and stop at the local deadline (C15). Every wait goes
through the injected clock, so the whole flow is cancellable by anyio scopes (C19).
"""

from __future__ import annotations

import inspect
import logging

import httpx

from .._clock import Clock, SystemClock
from .._errors import (
    ConfigError,
    DeviceCodeExpiredError,
    InvalidResponseError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from .._settings import Settings
from .._tokens import Tokens, fingerprint
from ._device_code import DeviceCode, Prompt, parse_device_code, print_prompt
from ._http import DEVICE_CODE_GRANT, post_form
from ._response import Reply, read_reply, to_error
from ._token_response import parse_tokens

__all__ = ["DeviceCodeFlow"]

log = logging.getLogger(__name__)

SLOW_DOWN_STEP = 5.0
"""Seconds added to the polling interval on every ``slow_down`` (C12)."""
MIN_BACKOFF = 1.0
"""The smallest base for backing off, even when the server's interval is 0."""
MIN_INTERVAL = 1.0
"""The shortest polling interval used, even when the server sends ``interval: 0``."""


class _Poller:
    """The state of one polling run: interval, failure count, next poll time."""

    def __init__(self, code: DeviceCode, clock: Clock, max_backoff: float) -> None:
        self.code = code
        self.clock = clock
        self.max_backoff = max_backoff
        self.interval = max(code.interval, MIN_INTERVAL)  # no tight loop on interval 0
        self.failures = 0
        self.wait = self.interval

    def on_answer(self) -> None:
        """A regular answer (pending): wait ``interval`` again."""
        self.failures = 0
        self.wait = self.interval

    def on_slow_down(self) -> None:
        """C12: the interval grows by 5 s for all later polls."""
        self.interval += SLOW_DOWN_STEP
        self.on_answer()

    def on_failure(self, retry_after: float | None = None) -> None:
        """C16-C18: double the wait (capped, never below interval), or obey the server."""
        self.failures += 1
        base = max(self.interval, MIN_BACKOFF)
        backoff = min(base * 2.0 ** min(self.failures, 30), self.max_backoff)
        if retry_after is not None:
            backoff = retry_after
        self.wait = max(self.interval, backoff)

    async def sleep(self) -> None:
        """Sleep ``wait`` from now (the previous response); never past the deadline (C15)."""
        now = self.clock.monotonic()
        remaining = self.code.deadline - now
        if now + self.wait >= self.code.deadline:
            await self.clock.sleep(max(0.0, remaining))
            raise DeviceCodeExpiredError(
                "the sign-in code expired before it was approved (local deadline reached); "
                "log in again"
            )
        await self.clock.sleep(self.wait)


def _retryable_non_json(reply: Reply) -> bool:
    """A body-less answer worth polling again: not a 4xx (429 is handled as a rate limit)."""
    return reply.body is None and not 400 <= reply.status_code < 500


class DeviceCodeFlow:
    """Log a person in with the device authorization grant (RFC 8628).

    ``http`` is used for the token endpoint requests only; its own auth is bypassed. The
    device flow never sends a client secret (C3), even when ``settings`` has one.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        clock: Clock | None = None,
        max_backoff: float = 60.0,
    ) -> None:
        if not max_backoff > 0:
            raise ConfigError(
                f"max_backoff must be a positive number of seconds, got {max_backoff!r}"
            )
        self._http = http
        self._settings = settings
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._max_backoff = float(max_backoff)

    async def request_code(self) -> DeviceCode:
        """Ask for a device code and user code (C1-C8). Makes exactly one request."""
        settings = self._settings
        form = {"client_id": settings.client_id, "audience": settings.audience}
        if settings.scope:
            form["scope"] = settings.scope
        what = "device authorization request"
        response = await post_form(self._http, settings, settings.device_code_url, form, what=what)
        reply = read_reply(response, what=what)
        if not reply.is_success:
            raise to_error(reply, "device", now=self._clock.now())
        code = parse_device_code(reply, received_at=self._clock.monotonic())
        log.debug(
            "device code <%s> issued: expires_in=%s interval=%s",
            fingerprint(code.device_code),
            code.expires_in,
            code.interval,
        )
        return code

    async def poll(self, code: DeviceCode) -> Tokens:
        """Poll the token endpoint until the user approves, refuses, or the code expires."""
        poller = _Poller(code, self._clock, self._max_backoff)
        while True:
            await poller.sleep()
            tokens = await self._poll_once(code, poller)
            if tokens is not None:
                return tokens

    async def _poll_once(self, code: DeviceCode, poller: _Poller) -> Tokens | None:
        settings = self._settings
        form = {
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": code.device_code,
            "client_id": settings.client_id,
        }
        what = "token request (device_code)"
        # C15: no poll outlives the code, however slowly its answer trickles in. (The time
        # left is measured on the flow's clock and waited in real seconds: never shorter.)
        left = max(0.0, code.deadline - self._clock.monotonic())
        deadline = min(settings.token_request_timeout, left)
        sent_at = self._clock.now()  # C21: expiry counts from the request
        try:
            response = await post_form(
                self._http, settings, settings.token_url, form, what=what, deadline=deadline
            )
        except TransportError:
            poller.on_failure()
            return None
        except InvalidResponseError as exc:
            if not isinstance(exc.__cause__, httpx.DecodingError):
                raise
            log.debug("poll answer could not be decoded; backing off")
            poller.on_failure()  # C17: a garbled body is a transport problem while polling
            return None
        received_at = self._clock.now()
        reply = read_reply(response, what=what)
        if reply.is_success:
            log.debug("device login approved")
            return parse_tokens(
                reply,
                settings,
                received_at=received_at,
                sent_at=sent_at,
                requested_scope=settings.scope or None,
            )
        self._on_error_reply(reply, poller)
        return None

    def _on_error_reply(self, reply: Reply, poller: _Poller) -> None:
        code = reply.error_code
        if code == "authorization_pending":  # C11 (Auth0: HTTP 403)
            poller.on_answer()
            return
        if code == "slow_down":  # C12 (Auth0: HTTP 429)
            poller.on_slow_down()
            log.debug("slow_down: polling interval is now %s s", poller.interval)
            return
        error = to_error(reply, "device", now=self._clock.now())
        if isinstance(error, RateLimitError) and code != "too_many_attempts":
            poller.on_failure(error.retry_after)  # C18
        elif isinstance(error, OAuthServerError) or _retryable_non_json(reply):
            poller.on_failure()  # C17: 5xx, temporarily_unavailable, non-JSON outside 4xx
        else:
            raise error  # C14: access_denied, expired_token, too_many_attempts, ...
        log.debug("poll got HTTP %d; next poll in %s s", reply.status_code, poller.wait)

    async def login(self, prompt: Prompt | None = None) -> Tokens:
        """Request a code, show it with ``prompt`` (default: print to stderr), then poll.

        ``prompt`` may be a plain or ``async`` function; an awaitable it returns is awaited.
        """
        code = await self.request_code()
        result = (prompt or print_prompt)(code)
        if inspect.isawaitable(result):
            await result
        return await self.poll(code)
