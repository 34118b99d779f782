"""The compat layer's bridge to the async engine: one shared portal thread, settings, calls.

Every sync compat call runs one coroutine on a single background event-loop thread shared by
all compat objects (never a new loop per call). The coroutines here open a short-lived
``httpx.AsyncClient`` inside that loop, so nothing is bound to a loop the caller might close.
A forked child gets its own portal thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import httpx

from .._clock import Clock
from .._errors import ConfigError, TransportError
from .._flows import (
    ClientCredentialsFlow,
    DeviceCode,
    DeviceCodeFlow,
    refresh_tokens,
    revoke_token,
)
from .._flows._http import timeout_for
from .._portal import PortalThread
from .._settings import Settings, is_loopback_host
from .._tokens import Tokens

__all__ = [
    "api_request",
    "client_credentials",
    "domain_url",
    "poll",
    "refresh",
    "request_code",
    "revoke",
    "run",
    "settings_for",
]

T = TypeVar("T")
P = ParamSpec("P")

_guard = threading.Lock()
_portal: PortalThread | None = None
_portal_pid: int | None = None

API_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Timeouts of ``get_user``/``lookup_anon`` (0.2.1 had none)."""


def _shared_portal() -> PortalThread:
    global _portal, _portal_pid
    with _guard:
        if _portal is None or _portal_pid != os.getpid():
            _portal = PortalThread(name="earthscope-compat")
            _portal_pid = os.getpid()
        return _portal


def run(func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``await func(*args, **kwargs)`` on the shared loop thread; Ctrl-C cancels it."""
    return _shared_portal().call(func, *args, **kwargs)


def domain_url(domain: str) -> str:
    """0.2.1's bare host (``login.earthscope.org``, meaning https) or a full URL, as a URL."""
    if not isinstance(domain, str) or not domain.strip():
        raise ConfigError(f"domain must be a host name or URL, got {domain!r}")
    domain = domain.strip()
    return domain if "://" in domain else f"https://{domain}"


def settings_for(
    domain: str,
    audience: str,
    client_id: str,
    scope: str | None,
    client_secret: str | None = None,
) -> Settings:
    """Engine settings for one compat call (http is refused unless loopback: ConfigError)."""
    return Settings(
        domain=domain_url(domain),
        audience=audience,
        client_id=client_id,
        scope=scope or "",
        client_secret=client_secret,
    )


def _http(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout_for(settings))


async def request_code(settings: Settings, clock: Clock) -> DeviceCode:
    """One device authorization request."""
    async with _http(settings) as http:
        return await DeviceCodeFlow(http, settings, clock=clock).request_code()


async def poll(settings: Settings, code: DeviceCode, clock: Clock) -> Tokens:
    """Poll for ``code`` per RFC 8628 until approval, refusal or the deadline."""
    async with _http(settings) as http:
        return await DeviceCodeFlow(http, settings, clock=clock).poll(code)


async def refresh(settings: Settings, tokens: Tokens, clock: Clock) -> Tokens:
    """One refresh-token grant (the refresh token is kept when not rotated)."""
    async with _http(settings) as http:
        return await refresh_tokens(http, settings, tokens, clock=clock, scope=settings.scope)


async def revoke(settings: Settings, token: str, clock: Clock) -> None:
    """Revoke a refresh token."""
    async with _http(settings) as http:
        await revoke_token(http, settings, token, clock=clock)


async def client_credentials(settings: Settings, clock: Clock) -> Tokens:
    """One client-credentials grant (with the engine's bounded retries)."""
    async with _http(settings) as http:
        return await ClientCredentialsFlow(http, settings, clock=clock).login()


def check_api_url(url: str) -> None:
    """The bearer token goes over https only, or plain http to a loopback host (C58)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(f"API_BASE_URL gives an invalid URL {url!r}: {exc}") from None
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback_host(parsed.host)):
        return
    raise ConfigError(
        f"refusing to send an access token to {url!r}: use an https:// API_BASE_URL "
        "(plain http is only allowed for 127.0.0.1, ::1 and localhost)"
    )


async def api_request(method: str, url: str, access_token: str, body: Any = None) -> httpx.Response:
    """Send one bearer-authorised API request and return the read response.

    Redirects are followed; httpx drops the Authorization header on a redirect to another
    origin. Network failures raise :class:`TransportError`.
    """
    check_api_url(url)
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    async with httpx.AsyncClient(timeout=API_TIMEOUT, follow_redirects=True) as http:
        try:
            return await http.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise TransportError(
                f"{method} {url} failed: {type(exc).__name__} (network problem); "
                "check your connection and API_BASE_URL, then try again"
            ) from exc
