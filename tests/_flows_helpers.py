"""Shared helpers for the tests of ``earthscope_sdk_async._flows`` (no tests here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
from _helpers import FakeClock as _FakeClock
from _helpers import b64url  # noqa: F401 - re-exported for the flow tests
from _helpers import make_jwt as _make_jwt

from earthscope_sdk_async._flows import DeviceCode
from earthscope_sdk_async._settings import Settings

DOMAIN = "https://login.example.org/"
AUDIENCE = "https://api.example.org"
CLIENT_ID = "test-client-id"
SCOPE = "openid profile email offline_access"
DEVICE_CODE_URL = DOMAIN + "oauth/device/code"
TOKEN_URL = DOMAIN + "oauth/token"
REVOKE_URL = DOMAIN + "oauth/revoke"


class FakeClock(_FakeClock):
    """The shared virtual clock, started at 1000 s (the flows treat small times as unset)."""

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)


def settings(**changes: Any) -> Settings:
    """Test settings on a fake domain; ``changes`` override."""
    values: dict[str, Any] = {
        "domain": DOMAIN,
        "audience": AUDIENCE,
        "client_id": CLIENT_ID,
        "scope": SCOPE,
    }
    values.update(changes)
    return Settings(**values)


def make_jwt(claims: dict[str, Any]) -> str:
    """An unsigned-looking RS256 JWT with ``claims`` (signature is junk; we never verify)."""
    return _make_jwt(claims, alg="RS256")


def id_token(clock: FakeClock, **overrides: Any) -> str:
    """A valid id_token for the test settings, with ``overrides`` applied (None deletes)."""
    claims: dict[str, Any] = {
        "iss": DOMAIN,
        "aud": CLIENT_ID,
        "sub": "auth0|someone",
        "exp": int(clock.now().timestamp()) + 36000,
        "iat": int(clock.now().timestamp()),
    }
    for key, value in overrides.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return make_jwt(claims)


def token_body(**overrides: Any) -> dict[str, Any]:
    """A good token response body; ``overrides`` change fields (None deletes)."""
    body: dict[str, Any] = {
        "access_token": "access-token-1",
        "refresh_token": "refresh-token-1",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": SCOPE,
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def device_body(**overrides: Any) -> dict[str, Any]:
    """A good device authorization response body."""
    body: dict[str, Any] = {
        "device_code": "the-device-code",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://login.example.org/activate",
        "verification_uri_complete": "https://login.example.org/activate?user_code=ABCD-EFGH",
        "expires_in": 900,
        "interval": 5,
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def device_code(clock: FakeClock, *, expires_in: float = 900, interval: float = 5) -> DeviceCode:
    """A device code received 'now' on ``clock``."""
    return DeviceCode(
        device_code="the-device-code",
        user_code="ABCD-EFGH",
        verification_uri="https://login.example.org/activate",
        verification_uri_complete=None,
        expires_in=expires_in,
        interval=interval,
        deadline=clock.monotonic() + expires_in,
    )


def form_of(request: httpx.Request) -> dict[str, str]:
    """The form fields of a request (each field must appear once)."""
    pairs = parse_qsl(request.content.decode(), keep_blank_values=True)
    form = dict(pairs)
    assert len(form) == len(pairs), "a form field was sent twice"
    return form


def pending() -> httpx.Response:
    """Auth0's answer while the user has not approved yet (C11)."""
    return httpx.Response(403, json={"error": "authorization_pending"})


def slow_down() -> httpx.Response:
    """Auth0's answer to polling too fast (C12)."""
    return httpx.Response(429, json={"error": "slow_down"})


@asynccontextmanager
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A plain AsyncClient (respx intercepts its requests)."""
    async with httpx.AsyncClient() as client:
        yield client
