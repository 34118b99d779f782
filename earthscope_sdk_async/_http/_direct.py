"""API calls and download GETs straight to the aiohttp transport: the fast path on asyncio.

``httpx.AsyncClient.send`` spends about 150 µs of CPU on a small API call above the
transport (request merging, the auth generator, the redirect loop, a streamed body and its
wrappers, header re-encoding): twice what aiohttp itself spends on the wire. For calls the
Requester sends on the client's own pool with the client's own bearer auth,
:func:`send_direct` takes the same steps itself, in the same order:

* the request: the client's headers updated with the call's (as ``build_request`` merges
  them), the call's timeout or the client's; ``params`` and ``json`` applied by
  ``httpx.Request`` itself (so the query and the body are this httpx version's);
* the bearer token, only when the auth allows the URL (:meth:`EarthScopeAuth.applies_to`);
* redirects, followed with httpx's own redirect builder (method changes, ``Authorization``
  dropped when the origin changes, cookies), at most the client's ``max_redirects``;
* a 401 for the token sent (:func:`~.._auth.should_retry`, EarthScopeAuth's rule):
  ``TokenManager.handle_rejected`` and one resend;
* cookies an answer sets go into the client's jar (later calls then take httpx's path);
* the answer: an ``httpx.Response``, read and decoded, whose ``request`` is built from what
  was sent when first asked for (most answers are never asked);
* errors: aiohttp's, mapped to httpx's by the transport's one table.

:func:`stream_direct` does the same for a download's GET (``http.stream``): the answer's
body is left to be streamed, and each redirect's body is read and closed first, as httpx
does when streaming.

:func:`direct_route` says when this applies; everything else (a client or transport the
caller brought, event hooks, mounts such as proxies from the environment, cookies in the
jar, a call with its own auth or a streamed API body) goes through ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._auth import EarthScopeAuth, should_retry
from .._urls import parsed_url, plain_url
from ._deadlines import Deadlines
from ._deadlines import supported as deadlines_supported

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

    from ._aiohttp_transport import AiohttpTransport, Answer
    from ._call import ApiCall

__all__ = [
    "DirectRoute",
    "RawAnswer",
    "attach_direct_route",
    "direct_route",
    "raw_body",
    "send_direct",
    "stream_direct",
]

_CACHE_MAX = 1024
_R = TypeVar("_R", bound="httpx.Response | RawAnswer")


class DirectRoute:
    """What the direct path needs of one ``httpx.AsyncClient`` (made once per client)."""

    def __init__(
        self, http: httpx.AsyncClient, transport: AiohttpTransport, auth: EarthScopeAuth
    ) -> None:
        self.http = http
        self.transport = transport
        self.auth = auth
        self.deadlines = Deadlines() if deadlines_supported() else None
        """The deadlines of this pool's attempts (``None`` before Python 3.11)."""
        self.headers: dict[str, str] = dict(http.headers.multi_items())
        """The client's default headers (a new client has no repeated header)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[
            tuple[float | None, bool], tuple[dict[str, Any], aiohttp.ClientTimeout]
        ] = {}
        self._targets: dict[str, tuple[URL, bool]] = {}
        self._merged: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self._bearer = ("", "")

    def current_task(self) -> asyncio.Task[Any]:
        """The running task (looked up in the pool's loop, remembered from the first call:
        ``asyncio.current_task()`` would ask for the running loop, a system call on 3.11)."""
        loop = self._loop
        task = asyncio.current_task(loop) if loop is not None else None
        if task is None:  # the first call (or another loop: then the right answer anyway)
            self._loop = asyncio.get_running_loop()
            task = asyncio.current_task(self._loop)
        assert task is not None, "the direct path runs in a task"
        return task

    def timeout(
        self, seconds: float | None, *, reads: bool = True
    ) -> tuple[dict[str, Any], aiohttp.ClientTimeout]:
        """The timeout extension (httpx) and ClientTimeout (aiohttp) for a call's ``timeout``
        (``None``: the client's); ``reads=False`` leaves aiohttp's per-read timeout off (the
        caller bounds the reads itself, as a download's :class:`~.._download._bounds.Watch`
        does)."""
        made = self._timeouts.get((seconds, reads))
        if made is None:
            chosen = self.http.timeout if seconds is None else httpx.Timeout(seconds)
            extension = chosen.as_dict()
            limits = extension if reads else {**extension, "read": None}
            made = (extension, self.transport.timeout_for(limits))
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            self._timeouts[(seconds, reads)] = made
        return made

    def merged(self, extra: Mapping[str, str]) -> dict[str, str]:
        """The client's headers updated with ``extra`` (names compared without case), kept
        for the last few ``extra`` (a download's are nearly always the same). Not to be
        changed: shared."""
        key = tuple(extra.items())
        made = self._merged.get(key)
        if made is None:
            made = dict(self.headers)
            _update(made, extra)
            if len(self._merged) >= 16:
                self._merged.clear()
            self._merged[key] = made
        return made

    def bearer(self, token: str) -> str:
        """``Bearer <token>`` (the last one made is kept: tokens change once an hour)."""
        made_for, header = self._bearer
        if made_for != token:
            header = f"Bearer {token}"
            self._bearer = (token, header)
        return header

    def target(self, key: str | None, url: httpx.URL) -> tuple[URL, bool]:
        """``url`` for aiohttp, byte for byte as httpx encoded it, and whether the bearer
        token may go there (kept under ``key``, the URL as given, when there is one: hashing
        an ``httpx.URL`` formats it, and its host is decoded at each use)."""
        made = self._targets.get(key) if key is not None else None
        if made is None:
            made = (self.transport.wire_url(url), self.auth.applies_to(url))
            if key is not None:
                if len(self._targets) >= _CACHE_MAX:
                    self._targets.clear()
                self._targets[key] = made
        return made


def direct_route(http: httpx.AsyncClient) -> DirectRoute | None:
    """The direct path for ``http`` now, or ``None`` when its calls go through httpx."""
    route = getattr(http._transport, "direct", None)  # (set by attach_direct_route)
    if (
        not isinstance(route, DirectRoute)
        or route.http is not http
        or http.is_closed  # httpx raises its usual error
        or http._cookies.jar._cookies  # type: ignore[attr-defined]  # httpx sends them
        or http._event_hooks["request"]
        or http._event_hooks["response"]
    ):
        return None
    return route


def attach_direct_route(http: httpx.AsyncClient) -> None:
    """Give ``http`` (a client :func:`~._pool.new_http_client` just made) its direct path,
    when its transport is aiohttp's and its auth the SDK's bearer auth (and no proxy from
    the environment is mounted)."""
    transport = http._transport
    if isinstance(transport, httpx.AsyncHTTPTransport) or http._mounts:
        return
    from ._aiohttp_transport import AiohttpTransport  # loaded: the client runs on it

    auth = http.auth
    if isinstance(transport, AiohttpTransport) and isinstance(auth, EarthScopeAuth):
        transport.direct = DirectRoute(http, transport, auth)


class _Sent:
    """What was sent, to build the ``httpx.Request`` of an answer when it is asked for."""

    __slots__ = ("body", "extensions", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: httpx.URL | str,
        headers: dict[str, str],
        body: bytes | None,
        extensions: dict[str, Any],
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.extensions = extensions

    def request(self) -> httpx.Request:
        return httpx.Request(
            self.method,
            self.url,
            headers=self.headers,
            content=self.body,
            extensions={"timeout": self.extensions},
        )


class _Answer(httpx.Response):
    """An ``httpx.Response`` whose ``request`` (made from what was sent) and ``elapsed`` (a
    ``timedelta``) are built on first use."""

    _sent: _Sent | None = None
    _seconds: float | None = None

    @property
    def elapsed(self) -> datetime.timedelta:
        """The time from sending the request to the end of the answer (as httpx's)."""
        if not hasattr(self, "_elapsed") and self._seconds is not None:
            self._elapsed = datetime.timedelta(seconds=self._seconds)
        return super().elapsed

    @elapsed.setter
    def elapsed(self, value: datetime.timedelta) -> None:
        self._elapsed = value

    @property
    def request(self) -> httpx.Request:
        """The request this answers (built from what was sent, on first use)."""
        if self._request is None and self._sent is not None:
            self._request = self._sent.request()
        return super().request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


async def send_direct(route: DirectRoute, call: ApiCall, url: httpx.URL) -> httpx.Response:
    """Send ``call`` to ``url`` (already checked) as ``httpx.AsyncClient.send`` would with
    the client's bearer auth, following redirects; return the read response.

    Raises:
        httpx.HTTPError: as httpx raises them (network failures, too many redirects, an
            invalid redirect location, an undecodable body).
    """
    key: str | None = call.url
    headers = route.headers
    body = None
    if call.params is not None or call.json is not None or call.headers:
        url, key, headers, body = _prepared(route, call, url)
    target, bearer = route.target(key, url)

    def send(sent: dict[str, str]) -> Awaitable[httpx.Response]:
        return _send(route, call.method, target, url, sent, body, call.timeout)

    return await _authorized(route, bearer, headers, send)


async def _authorized(
    route: DirectRoute,
    bearer: bool,
    headers: dict[str, str],
    send: Callable[[dict[str, str]], Awaitable[_R]],
) -> _R:
    """``send(headers)``, with the bearer token when ``bearer``; a 401 for that token
    (EarthScopeAuth's rule) refreshes it once and sends once more (the refused answer is
    closed first)."""
    if not bearer:
        return await send(headers)
    manager = route.auth.manager
    token = manager.cached_access_token() or await manager.get_access_token()
    response = await send({**headers, "Authorization": route.bearer(token)})
    if isinstance(response, httpx.Response) and response.status_code == 401:
        first = response.history[0] if response.history else response
        if should_retry(first.request, response):
            await response.aclose()
            token = await manager.handle_rejected(token)
            response = await send({**headers, "Authorization": route.bearer(token)})
    return response


def _prepared(
    route: DirectRoute, call: ApiCall, url: httpx.URL
) -> tuple[httpx.URL, str | None, dict[str, str], bytes | None]:
    """The URL (its key for the target cache), headers and body of a call with params, a
    JSON body or headers of its own, each made as this httpx version makes them."""
    key: str | None = call.url
    headers = dict(route.headers)
    if call.headers:
        _update(headers, call.headers)
    body = None
    if call.params is not None or call.json is not None:
        made = httpx.Request(call.method, url, params=call.params, json=call.json)
        if call.params is not None:  # httpx 0.28 replaces the URL's query, 0.27 merged
            url, key = made.url, None
        if call.json is not None:
            body = made.content
            _update(headers, {"Content-Type": made.headers["Content-Type"]})
    return url, key, headers, body


def _update(headers: dict[str, str], extra: Any) -> None:
    """``headers.update(extra)`` with header names compared without case."""
    for name, value in extra.items():
        lower = name.lower()
        for old in [key for key in headers if key.lower() == lower]:
            del headers[old]
        headers[name] = value


async def _send(
    route: DirectRoute,
    method: str,
    target: URL,
    url: httpx.URL,
    headers: dict[str, str],
    body: bytes | None,
    seconds: float | None,
) -> httpx.Response:
    """Send once and read the whole answer (following redirects)."""
    extension, timeout = route.timeout(seconds)
    sent = _Sent(method, url, headers, body, extension)  # (headers: never changed after)
    started = time.perf_counter()
    answer = await route.transport.fetch(method, target, headers, body, timeout, sent.request)
    response: httpx.Response = _response(route, answer, sent)
    if answer.status in _REDIRECTS and response.has_redirect_location:
        response = await _follow(route, response)
        await response.aread()  # (decoded as httpx reads it)
    _took(response, time.perf_counter() - started)
    return response


def _took(response: httpx.Response, seconds: float) -> None:
    """Set ``response.elapsed`` (on a direct answer, when first read)."""
    if isinstance(response, _Answer):
        response._seconds = seconds
    else:
        response.elapsed = datetime.timedelta(seconds=seconds)


_REDIRECTS = frozenset((301, 302, 303, 307, 308))


def _response(route: DirectRoute, answer: Answer, sent: _Sent) -> _Answer:
    """The ``httpx.Response`` for what the transport got; its request is built from
    ``sent`` when first asked for. A body read whole is decoded as httpx decodes it."""
    body = answer.body
    response = _Answer(
        answer.status,
        stream=httpx.ByteStream(body) if isinstance(body, bytes) else body,
        extensions=answer.extensions,
    )
    response._sent = sent
    names = _fill_headers(response, answer.raw_headers)
    if isinstance(body, bytes):
        if b"content-encoding" in names:
            response.read()  # decoded as httpx would (a DecodingError is an httpx error)
        else:  # what read() does for a body with no encoding, without its generators
            response._content = body
            response._num_bytes_downloaded = len(body)
            response.is_stream_consumed = True
            response.is_closed = True
    _received(route, response, names)
    return response


def _fill_headers(response: httpx.Response, raw_headers: Any) -> set[bytes]:
    """Fill ``response.headers`` as httpx keeps them, (name, lower-case name, value),
    without its per-header checks (names and values are bytes from the wire, as httpcore
    gives them); return the lower-case names."""
    items = response.headers._list = [(key, key.lower(), value) for key, value in raw_headers]
    return {lower for _, lower, _ in items}


def _received(route: DirectRoute, response: httpx.Response, names: set[bytes]) -> None:
    """What the client does with every answer (whose lower-case header ``names`` are
    given): keep its cookies, set its default encoding."""
    http = route.http
    if b"set-cookie" in names:
        http._cookies.extract_cookies(response)
    response.default_encoding = http._default_encoding


async def _follow(route: DirectRoute, response: httpx.Response) -> httpx.Response:
    """Follow ``response``'s redirects as ``httpx.AsyncClient`` does (each redirect's body
    read and closed); the final answer's body is still to be read."""
    http: Any = route.http
    history = [response]
    while True:
        try:
            await response.aread()
        finally:
            await response.aclose()
        request: httpx.Request = http._build_redirect_request(response.request, response)
        if len(history) > http.max_redirects:
            raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)
        response = await route.transport.handle_async_request(request)
        _received(route, response, {lower for _, lower, _ in response.headers._list})
        response.history = list(history)
        if not response.has_redirect_location:
            return response
        history.append(response)


# -- streamed answers (downloads) ---------------------------------------------------------------


class RawAnswer:
    """A successful (2xx) streamed answer as the transport got it, with no
    ``httpx.Response`` made for it: what a download reads of most answers (see
    :class:`stream_direct`'s ``lean``)."""

    __slots__ = ("body", "raw_headers", "status_code")

    def __init__(
        self,
        status_code: int,
        raw_headers: Sequence[tuple[bytes, bytes]],
        body: httpx.AsyncByteStream,
    ) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        """The headers as they came, ``(name, value)``, in order."""
        self.body = body
        """The body, to stream once (closed by the :class:`stream_direct` that made it)."""


class stream_direct:
    """``async with stream_direct(route, url, headers) as response``: what
    ``http.stream("GET", url, headers=headers)`` gives, with the client's bearer auth, on
    the direct path: the answer's body is still to be read (:func:`raw_body`); the bearer
    token, redirects, the 401 retry and cookies as in :func:`send_direct`. Closed on exit.
    (A class, not a generator-based context manager: one less layer per download.)

    ``reads=False``: no per-read timeout in aiohttp (the caller bounds the reads);
    ``lean=True``: a 2xx answer is a :class:`RawAnswer` (no ``httpx.Response`` is made for
    it: about 8 µs of a small download), any other an ``httpx.Response`` as always.

    Raises:
        httpx.HTTPError: as httpx raises them (``httpx.InvalidURL`` for an unusable URL).
    """

    __slots__ = ("_headers", "_lean", "_reads", "_response", "_route", "_started", "_url")

    def __init__(
        self,
        route: DirectRoute,
        url: str,
        headers: Mapping[str, str],
        *,
        reads: bool = True,
        lean: bool = False,
    ) -> None:
        self._route, self._url, self._headers = route, url, headers
        self._reads = reads
        self._lean = lean
        self._response: httpx.Response | RawAnswer | None = None
        self._started = 0.0

    async def __aenter__(self) -> httpx.Response | RawAnswer:
        route = self._route
        self._started = time.perf_counter()
        plain = plain_url(self._url)
        url: httpx.URL | str
        if plain is not None:  # as httpx would make it: no parse (see _urls.plain_url)
            url, target = self._url, route.transport.wire_url(self._url)
            bearer = route.auth.applies_to(plain)
        else:  # (not kept: a download URL is used once)
            url = parsed_url(self._url)  # (parsed already when the item was checked)
            target, bearer = route.target(None, url)
        sent = route.merged(self._headers)

        async def send(headers: dict[str, str]) -> httpx.Response | RawAnswer:
            extension, timeout = route.timeout(None, reads=self._reads)
            what = _Sent("GET", url, headers, None, extension)
            answer = await route.transport.open("GET", target, headers, timeout, what.request)
            if (
                self._lean
                and 200 <= answer.status < 300
                and b"set-cookie" not in (name.lower() for name, _ in answer.raw_headers)
            ):
                body = answer.body
                assert isinstance(body, httpx.AsyncByteStream)  # (open: a body to stream)
                return RawAnswer(answer.status, answer.raw_headers, body)
            response = _response(route, answer, what)
            if answer.status in _REDIRECTS and response.has_redirect_location:
                return await _follow(route, response)
            return response

        self._response = await _authorized(route, bearer, sent, send)
        return self._response

    async def __aexit__(self, *_exc: object) -> None:
        response = self._response
        if response is None:
            return
        if isinstance(response, RawAnswer):
            await response.body.aclose()  # (the transport's: hands the connection back)
            return
        await response.aclose()
        _took(response, time.perf_counter() - self._started)


def raw_body(response: httpx.Response) -> AsyncIterator[bytes]:
    """``response.aiter_raw()``; for an answer of the direct path, the transport's stream
    itself (without httpx's per-chunk layer: the response is marked consumed, and closed by
    its :class:`stream_direct`)."""
    stream = response.stream
    if (
        isinstance(response, _Answer)
        and isinstance(stream, httpx.AsyncByteStream)
        and not isinstance(stream, httpx.ByteStream)  # (a streamed body, not one read whole)
        and not (response.is_stream_consumed or response.is_closed)
    ):
        response.is_stream_consumed = True
        return stream.__aiter__()
    return response.aiter_raw()
