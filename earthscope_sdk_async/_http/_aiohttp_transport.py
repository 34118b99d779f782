"""An ``httpx`` transport on aiohttp: the fast backend on asyncio (the ``aiohttp`` extra).

httpx keeps doing everything above the wire (auth, redirects, cookies, decoding, the
``httpx.Response`` API); this transport only sends the request and streams the body, with
aiohttp's connection pool, which costs a fraction of httpcore's CPU per request. Imported
only when the aiohttp backend is chosen (see :mod:`._pool`).

aiohttp's errors are translated in one place, :func:`_mapped`, to the httpx errors httpcore
raises for the same fault, so retry decisions (:func:`retryable_transport`) do not depend on
the backend:

* refused, unreachable, DNS or TLS failure while connecting -> ``httpx.ConnectError``
* connect (or pool) timeout -> ``httpx.ConnectTimeout``
* read timeout (no byte for ``timeout.read``) -> ``httpx.ReadTimeout``
* closed before any response -> ``httpx.RemoteProtocolError``
* a body cut short (fewer bytes than ``Content-Length``) -> ``httpx.RemoteProtocolError``
* a connection reset (while sending, waiting or reading) -> ``httpx.ReadError``
* an unparsable response -> ``httpx.RemoteProtocolError``

(httx-aiohttp's table maps every ``ClientConnectionError``, a reset mid-body included, to
``ConnectTimeout``, which would make a POST that may have reached the server retryable.)
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from ._tls import default_context

__all__ = ["AiohttpTransport"]


class Answer(NamedTuple):
    """An answer as :meth:`AiohttpTransport.fetch` (body read) or
    :meth:`AiohttpTransport.open` (body to stream) got it."""

    status: int
    raw_headers: tuple[tuple[bytes, bytes], ...]
    """The headers as they came, (name, value), in order."""
    extensions: dict[str, object]
    """httpx's response extensions (HTTP version, reason phrase)."""
    body: bytes | httpx.AsyncByteStream
    """The body still encoded as sent: read whole (``fetch``), or to stream (``open``)."""


READ_BUFFER = 256 * 1024
"""aiohttp's per-connection read buffer (its default, 64 KiB, caps large-file throughput)."""


def _caused_by_os_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and not isinstance(seen, aiohttp.ClientError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _httpx_type(exc: BaseException) -> type[httpx.TransportError] | None:
    """The httpx error httpcore raises for the fault behind ``exc`` (``None``: not ours)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ClientSSLError, ssl.SSLError)):
        return httpx.ConnectError
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError if _caused_by_os_error(exc) else httpx.RemoteProtocolError
    if isinstance(exc, (aiohttp.ClientOSError, aiohttp.ClientConnectionResetError)):
        return httpx.ReadError
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol
    if isinstance(exc, aiohttp.ClientError):
        return httpx.NetworkError
    return None


_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError)
"""What aiohttp raises for a network fault (all mapped by :func:`_httpx_type`)."""


def _httpx_error(
    exc: BaseException, request: httpx.Request | Callable[[], httpx.Request]
) -> httpx.TransportError:
    """The httpx error for ``exc``, carrying ``request`` (or ``request()``, made only then)."""
    kind = _httpx_type(exc) or httpx.NetworkError  # every _ERRORS is mapped
    if not isinstance(request, httpx.Request):
        request = request()
    return kind(f"{type(exc).__name__}: {exc}", request=request)


@contextmanager
def _mapped(request: httpx.Request | Callable[[], httpx.Request]) -> Iterator[None]:
    """Re-raise aiohttp's errors as httpx's (``raise ... from exc``)."""
    try:
        yield
    except _ERRORS as exc:
        raise _httpx_error(exc, request) from exc


def _extensions(response: aiohttp.ClientResponse) -> dict[str, object]:
    """The response extensions httpcore sets (HTTP version, reason phrase)."""
    if response.reason:
        reason = response.reason.encode("latin-1", "replace")
        return {"http_version": b"HTTP/1.1", "reason_phrase": reason}
    return {"http_version": b"HTTP/1.1"}


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives (whatever aiohttp has buffered, up to its buffer).
    ``request`` (or ``request()``) is what its errors carry."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: httpx.Request | Callable[[], httpx.Request],
    ) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:  # (_mapped's work, inline: a context manager costs ~2 µs a body)
            while chunk := await content.readany():
                yield chunk
        except _ERRORS as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end; closed otherwise.
        self._response.release()

    def abort(self) -> None:
        """Close the connection now: a read of the body waiting or to come fails (a
        deadline's way to end a download whose body stopped arriving)."""
        self._response.close()


_AUTO = frozenset(("accept", "accept-encoding", "user-agent"))
"""Headers aiohttp adds to a body-less request that lacks them (httpx adds none)."""
_SKIP = ("User-Agent", "Accept-Encoding", "Accept", "Content-Type")
"""Every header aiohttp may add on its own (``Content-Type`` to a body, or to a POST)."""
_BODYLESS = frozenset(("GET", "HEAD", "DELETE", "OPTIONS"))


def _skipped(method: str, headers: Mapping[str, str], data: object) -> tuple[str, ...] | None:
    """The ``skip_auto_headers`` argument of a request: none when it would add nothing anyway
    (no body, not a POST, and the headers it adds present), which keeps aiohttp on its fast
    path (a skip list costs ~10 µs a request: it is rebuilt and merged each time); else every
    header it adds, so the wire carries exactly the headers httpx would send."""
    if data is None and method in _BODYLESS and _AUTO.issubset([name.lower() for name in headers]):
        return None
    return _SKIP


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one ``aiohttp.ClientSession`` (created on first use, in
    the running event loop; close it with :meth:`aclose` on the same loop).


    ``max_connections`` bounds the pool (``None``: unbounded); ``keepalive`` is how long an
    idle connection is kept, in seconds; ``verify`` is an ``ssl.SSLContext`` or a bool, as
    in httpx.
    """

    def __init__(
        self,
        *,
        max_connections: int | None = 100,
        keepalive: float = 15.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._limit = max_connections or 0
        self._keepalive = keepalive
        # True: the shared context of the SDK's pools, made for the first https request
        # (plain http, as to a local server, never loads a CA bundle)
        self._ssl = verify
        self._session: aiohttp.ClientSession | None = None
        self.direct: object = None
        """The direct path of the client it carries, when it has one (a
        :class:`._direct.DirectRoute`, set and read there)."""
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    @property
    def max_connections(self) -> int | None:
        """The pool's bound on open connections (``None``: unbounded)."""
        return self._limit or None

    def grow(self, connections: int) -> None:
        """Allow at least ``connections`` open connections (never shrinks the pool)."""
        if self._limit and connections > self._limit:
            self._limit = connections
            if self._session is not None:
                # aiohttp reads the limit on every acquire; no public setter exists.
                self._session.connector._limit = connections  # type: ignore[union-attr]

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limit,
            limit_per_host=0,
            keepalive_timeout=self._keepalive,
            ssl=self._ssl,  # True: replaced per https request (see _tls)
        )
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # httpx decodes (downloads read the raw bytes)
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            read_bufsize=READ_BUFFER,
            trust_env=False,
        )
        # aiohttp silently resends an idempotent request once when the connection drops;
        # httpcore does not, and our retry engine (back-off, shared pause, budget) decides.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        return session

    def timeout_for(self, timeout: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        """The ``aiohttp.ClientTimeout`` for httpx's timeouts (one per setting, reused)."""
        key = (timeout.get("pool"), timeout.get("connect"), timeout.get("read"))
        made = self._timeouts.get(key)
        if made is None:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            made = aiohttp.ClientTimeout(
                total=None, connect=key[0], sock_connect=key[1], sock_read=key[2]
            )
            self._timeouts[key] = made
        return made

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; return the response with its body still to be streamed."""
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict(request.headers.multi_items())
        data: bytes | httpx.AsyncByteStream | None
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            if isinstance(request.stream, httpx.ByteStream):  # e.g. replayed by a 307/308
                data = request.read() or None  # (an empty one is no body, not a chunked one)
            else:
                data = request.stream  # type: ignore[assignment]
                headers.popall("Transfer-Encoding", None)  # aiohttp chunks it itself
        with _mapped(request):
            response = await self._request(
                request.method,
                self.wire_url(request.url),
                headers,
                data,
                self.timeout_for(timeout),
                request.extensions.get("sni_hostname"),
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions=_extensions(response),
        )

    async def fetch(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: aiohttp.ClientTimeout,
        request: Callable[[], httpx.Request],
    ) -> Answer:
        """Send one request and read its whole answer: the direct path of API calls
        (:mod:`._direct`), with no httpx object in between. The connection goes back to the
        pool at once. Errors (while sending or
        reading) are httpx's, as in :meth:`handle_async_request`; ``request()`` makes the
        ``httpx.Request`` they carry.
        """
        try:  # (_mapped's work, inline: a context manager costs ~2 µs a call)
            response = await self._request(method, url, headers, body, timeout)
            try:
                content = await response.read()
            except BaseException:
                response.close()
                raise
        except _ERRORS as exc:
            raise _httpx_error(exc, request) from exc
        response.release()
        return Answer(response.status, response.raw_headers, _extensions(response), content)

    async def open(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        timeout: aiohttp.ClientTimeout,
        request: Callable[[], httpx.Request],
    ) -> Answer:
        """Send a body-less request; its answer's body is left to stream (closing it returns
        the connection to the pool once read to the end): the direct path of downloads
        (:func:`._direct.stream_direct`). Errors are httpx's, as in :meth:`fetch`."""
        try:
            response = await self._request(method, url, headers, None, timeout)
        except _ERRORS as exc:
            raise _httpx_error(exc, request) from exc
        body = _Body(response, request)
        return Answer(response.status, response.raw_headers, _extensions(response), body)

    @staticmethod
    def wire_url(url: httpx.URL | str) -> URL:
        """``url`` for aiohttp, byte for byte as httpx encoded it (yarl would otherwise
        re-quote it, e.g. ``%2F`` -> ``/`` in a query, and a SigV4 signature covers the
        exact URL); a string must be one httpx keeps as written (``_urls.plain_url``)."""
        return URL(url if isinstance(url, str) else str(url), encoded=True)

    async def _request(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        data: object,
        timeout: aiohttp.ClientTimeout,
        server_hostname: str | None = None,
    ) -> aiohttp.ClientResponse:
        """The transport's one aiohttp call (aiohttp's errors are the caller's to map):
        no redirects followed, no compression, the TLS context for the URL."""
        session = self._session or self._start()
        return await session.request(
            method,
            url,
            headers=headers,
            data=data,
            skip_auto_headers=_skipped(method, headers, data),
            allow_redirects=False,
            compress=None,
            timeout=timeout,
            server_hostname=server_hostname,
            ssl=self._tls(url),
        )

    def _tls(self, url: URL) -> ssl.SSLContext | bool:
        """The ``ssl`` argument of a request to ``url``: the SDK's shared context for https
        when verifying by default (made on the first https request), else the connector's."""
        if self._ssl is True and url.scheme == "https":
            return default_context()
        return True  # aiohttp: the connector's setting

    def _start(self) -> aiohttp.ClientSession:
        self._session = self._open()
        return self._session

    async def aclose(self) -> None:
        """Close the session and its connections (on the event loop that opened it)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
