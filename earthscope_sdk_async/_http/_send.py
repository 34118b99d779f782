"""Send one API call through the retry engine; the one place API httpx errors become ours.

Non-2xx answers become :class:`ApiError` (status, EarthScope's ``detail``, request id);
network failures become :class:`TransportError` naming the method, the URL without its
query and the failure class (``raise ... from exc``); an invalid URL (unparsable, a port
outside 1..65535) is a :class:`ConfigError`, raised before anything is sent. Tokens never
appear: the bearer is added by the auth, and neither headers nor bodies are logged or quoted (C54).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import httpx

from .._checks import check_headers
from .._clock import Clock
from .._errors import ApiError, ConfigError, TransportError
from .._network_errors import API_SETTING, network_failure
from .._retry import (
    Failure,
    RetryPolicy,
    SharedPause,
    is_idempotent,
    retry,
    retryable_status,
    retryable_transport,
)
from .._retry_after import retry_after_seconds
from ._call import ApiCall
from ._direct import direct_route, send_direct

__all__ = ["ApiCall", "send_with_retries"]

logger = logging.getLogger(__name__)


def _transport_error(call: ApiCall, exc: httpx.HTTPError) -> TransportError:
    return TransportError(network_failure(str(call), exc, setting=API_SETTING))


def _invalid_url(call: ApiCall, why: str) -> ConfigError:
    return ConfigError(
        f"{call}: invalid URL ({why}); check the API URL in your settings and the URL passed in"
    )


_CHECKED: dict[str, httpx.URL] = {}
"""Absolute URLs already found valid, parsed (building a request to check one costs ~20 µs;
sending the parsed URL spares httpx parsing it again at every request). An absolute URL
parses the same in every pool: a pool's base URL only ever applies to relative ones."""
_CHECKED_MAX = 1024


def _check_url(http: httpx.AsyncClient, call: ApiCall) -> httpx.URL:
    """The request's URL, parsed and merged with the pool's base URL.

    Raises:
        ConfigError: the URL is invalid (nothing is sent).
    """
    known = _CHECKED.get(call.url)
    if known is not None:
        return known
    try:
        url = http.build_request(call.method, call.url).url
        port = url.port
    except (ValueError, httpx.InvalidURL) as exc:
        raise _invalid_url(call, str(exc)) from None
    if port is not None and not 1 <= port <= 65535:
        raise _invalid_url(call, f"port {port} is outside 1..65535")
    if url.is_absolute_url and str(url) == call.url:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[call.url] = url
    return url


async def _send(http: httpx.AsyncClient, call: ApiCall, url: httpx.URL) -> httpx.Response:
    """Send through ``httpx.AsyncClient.send``; read the body, or hand a successful one to
    ``call.consume`` (its result goes to ``response.extensions["consumed"]``)."""
    extra: dict[str, Any] = {} if call.timeout is None else {"timeout": call.timeout}
    request = http.build_request(
        call.method, url, json=call.json, params=call.params, headers=call.headers, **extra
    )
    auth = call.auth if call.auth is not None else httpx.USE_CLIENT_DEFAULT
    consume = call.consume
    response = await http.send(request, auth=auth, stream=True)
    try:
        if consume is not None and response.is_success:
            response.extensions = {**response.extensions, "consumed": await consume(response)}
        else:
            await response.aread()
    finally:
        await response.aclose()
    return response


async def _attempt(
    http: httpx.AsyncClient, call: ApiCall, url: httpx.URL, clock: Clock, limit: float
) -> httpx.Response | Failure:
    """One request, which must complete (body included) within ``limit`` seconds: a server
    trickling its answer never holds a call past the retry policy's ``max_total``."""
    try:
        route = direct_route(http) if call.auth is None and call.consume is None else None
        deadlines = route.deadlines if route is not None else None
        if deadlines is not None:  # asyncio 3.11+: one timer for all the pool's attempts
            assert route is not None
            task = route.current_task()
            deadlines.start(task, limit)
            try:
                response = await send_direct(route, call, url)
            except asyncio.CancelledError:
                if deadlines.finish(task):
                    return _missed(call, limit)
                raise
            finally:  # (also when an inner catch swallowed the cancellation)
                deadlines.finish(task)
        else:
            with anyio.move_on_after(limit) as scope:
                if route is not None:
                    response = await send_direct(route, call, url)
                else:
                    response = await _send(http, call, url)
            if scope.cancelled_caught:
                return _missed(call, limit)
    except OverflowError:  # a URL httpx accepted but the socket layer refuses
        raise _invalid_url(call, "the socket layer refused it") from None
    except httpx.HTTPError as exc:
        logger.debug("%s failed: %s", call, type(exc).__name__)
        error = _transport_error(call, exc)
        error.__cause__ = exc
        return Failure(error, call.retry and retryable_transport(call.method, exc))
    if 200 <= response.status_code < 300:  # (response.is_success, minus two calls)
        return response
    logger.debug("%s answered %d", call, response.status_code)
    wait = retry_after_seconds(response.headers, now=clock.now())
    retryable = call.retry and retryable_status(
        call.method, response.status_code, has_retry_after=wait is not None
    )
    return Failure(call.error(response), retryable, wait, response.status_code == 429)


def _missed(call: ApiCall, limit: float) -> Failure:
    """The failure of an attempt that missed its deadline."""
    logger.debug("%s missed its %s s deadline", call, limit)
    error = TransportError(
        f"{call} did not complete within {limit:g} s (the "
        "server is too slow or stalled); try again later"
    )
    return Failure(error, call.retry and is_idempotent(call.method))


def _paused_error(call: ApiCall, pause: SharedPause) -> ApiError:
    return ApiError(
        f"EarthScope API rate limit: this client's requests are paused for another "
        f"{pause.remaining():.1f} s (the server's Retry-After), longer than the retry policy "
        f"allows; {call} was not sent. Try again later.",
        status_code=429,
        url=call.safe_url,
    )


async def send_with_retries(
    http: httpx.AsyncClient,
    call: ApiCall,
    *,
    policy: RetryPolicy,
    pause: SharedPause,
    clock: Clock,
) -> httpx.Response:
    """Send ``call`` until it succeeds, fails for good, or the policy's budget is spent.

    Every attempt first waits for the client-wide ``pause``; a 429 (or a ``Retry-After``
    on a retryable answer) extends it for everyone.

    Raises:
        ConfigError: the URL or a header is invalid (nothing was sent).
    """
    url = _check_url(http, call)
    if call.headers:
        check_headers(call.headers)
    return await retry(
        lambda: _attempt(http, call, url, clock, policy.max_total),
        policy=policy,
        clock=clock,
        what=call,  # formatted only if a retry is logged
        pause=pause,
        paused=lambda: _paused_error(call, pause),
    )
