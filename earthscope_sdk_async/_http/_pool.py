"""The client's connection pool: which HTTP backend carries it, and how big it is.

``Settings.http_backend``:

* ``"auto"`` (default): aiohttp (:mod:`._aiohttp_transport`) when the ``aiohttp`` extra is
  installed and the running event loop is asyncio; httpcore (httpx's own) otherwise -- under
  trio, outside an event loop, or without aiohttp.
* ``"aiohttp"``: aiohttp; a :class:`ConfigError` when it is not installed or on trio.
* ``"httpcore"``: httpx's own transport everywhere.

Both backends raise the same httpx errors for the same faults, so the rest of the client
(retries, downloads, error messages) does not know which one it is talking through. The pool
starts at :data:`POOL_SIZE` connections and grows to a download's ``concurrency``
(:func:`grow_pool`) so that no worker waits for a connection.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Literal
from weakref import WeakSet

import httpx

from .._errors import ConfigError
from ._direct import attach_direct_route
from ._tls import default_context

__all__ = [
    "POOL_SIZE",
    "Backend",
    "chosen_backend",
    "grow_pool",
    "new_http_client",
]

Backend = Literal["httpcore", "aiohttp"]
POOL_SIZE = 100
"""Connections a new pool may open (grown by downloads with a higher concurrency)."""
KEEPALIVE = 15.0
"""Seconds an idle connection stays in the pool."""

_OURS: WeakSet[httpx.AsyncClient] = WeakSet()
"""The clients :func:`new_http_client` made (the only ones :func:`grow_pool` touches)."""


def _aiohttp_installed() -> bool:
    return importlib.util.find_spec("aiohttp") is not None


def _running_library() -> str | None:
    """``"asyncio"``, ``"trio"``... or ``None`` outside any event loop."""
    try:
        import sniffio  # installed with trio: without it, trio cannot be running
    except ImportError:  # pragma: no cover - the test extra installs trio
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None
        return "asyncio"
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None


def auto_backend() -> Backend:
    """What ``"auto"`` means here and now (see the module docstring)."""
    if _running_library() == "asyncio" and _aiohttp_installed():
        return "aiohttp"
    return "httpcore"


def chosen_backend(setting: str) -> Backend:
    """The backend for ``Settings.http_backend`` in the running event loop.

    Raises:
        ConfigError: ``"aiohttp"`` without the extra, or on another event loop than asyncio.
    """
    if setting == "auto":
        return auto_backend()
    if setting == "aiohttp":
        if not _aiohttp_installed():
            raise ConfigError(
                "http_backend='aiohttp' needs the aiohttp extra: "
                "pip install 'earthscope-sdk-async[aiohttp]' (or use http_backend='auto')"
            )
        library = _running_library()
        if library not in (None, "asyncio"):
            raise ConfigError(
                f"http_backend='aiohttp' only runs on asyncio, not {library}; "
                "use http_backend='auto' or 'httpcore'"
            )
        return "aiohttp"
    return "httpcore"


def _transport(backend: Backend) -> httpx.AsyncBaseTransport:
    if backend == "aiohttp":
        from ._aiohttp_transport import AiohttpTransport

        return AiohttpTransport(max_connections=POOL_SIZE, keepalive=KEEPALIVE)
    limits = httpx.Limits(
        max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=KEEPALIVE
    )
    return httpx.AsyncHTTPTransport(limits=limits, verify=default_context())


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, minus its per-response work when there is nothing to store.

    ``httpx.AsyncClient`` hands every response to ``extract_cookies``, which builds two
    urllib adapter objects even when no ``Set-Cookie`` header came (~5 % of a small API
    call's CPU); a response without one cannot change the jar, so it is skipped.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the cookies ``response`` sets (nothing to do without ``Set-Cookie``)."""
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def new_http_client(
    backend: Backend, *, auth: httpx.Auth, timeout: httpx.Timeout, headers: dict[str, str]
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on ``backend``'s pool, following redirects."""
    client = httpx.AsyncClient(
        auth=auth,
        timeout=timeout,
        headers=headers,
        follow_redirects=True,
        transport=_transport(backend),
    )
    # The setter would copy into a plain Cookies; the jar is empty at this point.
    client._cookies = _Cookies()
    _OURS.add(client)
    attach_direct_route(client)
    return client


def grow_pool(http: httpx.AsyncClient, connections: int) -> None:
    """Let ``http``'s pool open at least ``connections`` connections, when it is one of
    ours (a client the caller brought is left alone). Never shrinks it."""
    if http not in _OURS:
        return
    transport = http._transport
    if not isinstance(transport, httpx.AsyncHTTPTransport):  # our aiohttp transport
        transport.grow(connections)  # type: ignore[attr-defined]
        return
    pool = transport._pool
    # httpcore reads these on every request; it has no public setter.
    if pool._max_connections < connections:
        pool._max_connections = connections
        pool._max_keepalive_connections = max(pool._max_keepalive_connections, connections)
