"""Requester: the one object through which services reach the EarthScope API.

It holds what sending needs (the HTTP client, the retry policy, the client-wide 429 pause,
the clock, the settings) and sends requests through the one retry loop. Services
(user, discovery, data, S3, dropoff, downloads) are given a requester, never the client, so
no service reads the client's private state and no service imports the client.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

from .._clock import Clock
from .._errors import ApiError
from .._manager import TokenManager
from .._retry import RetryPolicy, SharedPause
from .._settings import Settings
from ._send import ApiCall, send_with_retries

__all__ = ["Requester"]

_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
"""An absolute URL: a scheme, then ``://`` (RFC 3986 section 3.1)."""


class Requester:
    """Sends API requests for the services of one client.

    ``http`` is a callable returning the client's current ``httpx.AsyncClient`` (the pool
    is per event loop, so it is looked up at each request).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        http: Callable[[], httpx.AsyncClient],
        tokens: TokenManager,
        clock: Clock,
        policy: RetryPolicy,
        pause: SharedPause,
    ) -> None:
        self.settings = settings
        """The client's settings (API URL, timeouts, ...)."""
        self.tokens = tokens
        """The client's token manager (for services that need the user's claims)."""
        self.clock = clock
        """Time source for expiry, back-off and caches."""
        self.policy = policy
        """The retry policy every request of this client follows."""
        self.pause = pause
        """The client-wide pause set by a 429 / Retry-After."""
        self._http = http
        self._joined: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Requester(api_url={self.settings.api_url!r})"

    @property
    def http(self) -> httpx.AsyncClient:
        """The client's ``httpx.AsyncClient`` for the current event loop."""
        return self._http()

    def url(self, url_or_path: str) -> str:
        """``url_or_path`` joined to ``settings.api_url`` (an absolute URL is kept)."""
        joined = self._joined.get(url_or_path)
        if joined is None:
            joined = url_or_path
            if not _ABSOLUTE.match(url_or_path):  # ("://" may be in a path's query)
                joined = urljoin(self.settings.api_url, url_or_path.lstrip("/"))
            if len(self._joined) >= 1024:  # bounded: paths may carry ids
                self._joined.clear()
            self._joined[url_or_path] = joined
        return joined

    async def request(
        self,
        method: str,
        url_or_path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        auth: httpx.Auth | None = None,
        error: Callable[[httpx.Response], ApiError] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send an API request (bearer token, one 401 refresh+retry) with the client's retry
        policy; return the successful (2xx, fully read) response.

        A path is joined to ``settings.api_url``; an absolute URL is used as is (the token
        only goes to allowed hosts). ``retry=False`` sends once (the shared pause is still
        honoured). ``auth`` replaces the bearer auth for this request (S3 requests pass their
        SigV4 signer), ``error`` builds the error for an unsuccessful answer (default: an
        :class:`ApiError` from EarthScope's JSON). ``timeout`` (seconds) replaces the client's
        timeouts for this call (the data products use 30 s, like earthscope-sdk 1.9.3).

        Raises:
            ApiError: a non-2xx answer (after retries, for retryable ones).
            TransportError: the network failed (after retries, where allowed).
            ClientClosedError: the client was closed.
            ConfigError: an invalid URL or header (nothing was sent).
        """
        call = ApiCall(method.upper(), self.url(url_or_path), json, params, headers, retry, auth)
        if error is not None:
            call.error = error
        if timeout is not None:
            call.timeout = timeout
        return await send_with_retries(
            self.http, call, policy=self.policy, pause=self.pause, clock=self.clock
        )

    async def request_streamed(
        self,
        method: str,
        url_or_path: str,
        consume: Callable[[httpx.Response], Awaitable[Any]],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        retry: bool = True,
    ) -> Any:
        """Like :meth:`request`, but a successful body is not read into memory: ``await
        consume(response)`` reads it (``response.aiter_bytes()``) and its result is
        returned. A network failure while reading is retried like any other.

        Raises:
            ApiError: a non-2xx answer (after retries, for retryable ones).
            TransportError: the network failed (after retries, where allowed).
        """
        call = ApiCall(method.upper(), self.url(url_or_path), None, params, headers, retry)
        call.timeout, call.consume = timeout, consume
        response = await send_with_retries(
            self.http, call, policy=self.policy, pause=self.pause, clock=self.clock
        )
        return response.extensions.pop("consumed")  # the response may live on in a cycle
