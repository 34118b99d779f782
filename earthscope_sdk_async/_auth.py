"""EarthScopeAuth: an ``httpx.Auth`` that puts a fresh bearer token on EarthScope requests.

The token goes only to allowed hosts, over https or loopback (C46, C58, C59); httpx itself
drops the ``Authorization`` header on redirects to another origin. A 401 whose challenge says
``invalid_token`` (or carries no error) triggers one single-flight refresh and one retry, and
only when the request body can be replayed (C48, C49).
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from urllib.parse import urlsplit

import httpx

from ._manager import TokenManager
from ._settings import is_loopback_host
from ._urls import PlainURL
from ._www_authenticate import bearer_error

__all__ = ["EarthScopeAuth", "should_retry"]


class EarthScopeAuth(httpx.Auth):
    """Bearer authentication for EarthScope, backed by a :class:`TokenManager`.

    ``allowed_hosts`` defaults to ``settings.allowed_hosts`` plus the host of
    ``settings.api_url``; ``*.`` wildcards match subdomains. Works with ``httpx.AsyncClient``
    and, through the token manager's loop thread, with ``httpx.Client``.
    """

    def __init__(
        self, manager: TokenManager, *, allowed_hosts: Iterable[str] | None = None
    ) -> None:
        self.manager = manager
        settings = manager.settings
        hosts = list(settings.allowed_hosts if allowed_hosts is None else allowed_hosts)
        api_host = urlsplit(settings.api_url).hostname
        if api_host:
            hosts.append(api_host)
        self.allowed_hosts: tuple[str, ...] = tuple(h.lower() for h in hosts)
        self._verdicts: dict[tuple[str, str], bool] = {}

    def __repr__(self) -> str:
        return f"EarthScopeAuth(allowed_hosts={self.allowed_hosts!r})"

    def applies_to(self, url: httpx.URL | PlainURL) -> bool:
        """True when ``url`` may receive the bearer token (allowed host, https or loopback)."""
        key = (url.scheme, url.host)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._judge(*key)
            if len(self._verdicts) < 1024:  # bounded: hosts come from URLs we are given
                self._verdicts[key] = verdict
        return verdict

    def _judge(self, scheme: str, host: str) -> bool:
        host = host.lower()
        if scheme != "https" and not (scheme == "http" and is_loopback_host(host)):
            return False
        return any(
            host == pattern or (pattern.startswith("*.") and fnmatch.fnmatchcase(host, pattern))
            for pattern in self.allowed_hosts
        )

    # -- async -----------------------------------------------------------------------------

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token; on a stale-token 401 refresh once and retry once."""
        if not self.applies_to(request.url):
            yield request
            return
        token = await self.manager.get_access_token()
        _set_bearer(request, token)
        response = yield request
        if should_retry(request, response):
            _set_bearer(request, await self.manager.handle_rejected(token))
            yield request

    # -- sync ------------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The same flow for ``httpx.Client``: fresh tokens come from memory without any
        event loop; refreshes run on the token manager's loop thread.
        """
        if not self.applies_to(request.url):
            yield request
            return
        token = self.manager.cached_access_token() or self._call(self.manager.get_access_token)
        _set_bearer(request, token)
        response = yield request
        if should_retry(request, response):
            _set_bearer(request, self._call(self.manager.handle_rejected, token))
            yield request

    def _call(self, func: Callable[..., Awaitable[str]], *args: object) -> str:
        return self.manager.run_blocking(func, *args)

    def close(self) -> None:
        """Stop the loop thread used by the sync flow (the token manager's), if it was
        started; it starts again when needed."""
        self.manager.stop_loop()


def _set_bearer(request: httpx.Request, token: str) -> None:
    request.headers["Authorization"] = f"Bearer {token}"


def should_retry(request: httpx.Request, response: httpx.Response) -> bool:
    """A 401 for the token we sent (not from a redirect target that never saw it), whose
    challenge says ``invalid_token`` or nothing, for a request whose body can be replayed."""
    if response.status_code != 401:
        return False
    if response.request.headers.get("authorization") != request.headers.get("authorization"):
        return False
    is_bearer, error = bearer_error(response.headers.get("www-authenticate"))
    if is_bearer and error not in (None, "invalid_token"):
        return False
    return isinstance(request.stream, httpx.ByteStream)
