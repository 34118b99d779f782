"""Client credentials grant (C27-C32)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
import respx
from _flows_helpers import (
    AUDIENCE,
    CLIENT_ID,
    TOKEN_URL,
    FakeClock,
    form_of,
    http_client,
    settings,
    token_body,
)

from earthscope_sdk_async._errors import (
    ConfigError,
    InvalidClientError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from earthscope_sdk_async._flows import ClientCredentialsFlow

pytestmark = pytest.mark.anyio

SECRET = "a:b+c%d/e"
M2M = token_body(refresh_token=None, scope=None)


async def run(
    responses: list[Any], clock: FakeClock | None = None, *, max_attempts: int = 3, **conf: Any
) -> tuple[Any, respx.Route]:
    conf.setdefault("client_secret", SECRET)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(side_effect=responses)
        async with http_client() as http:
            flow = ClientCredentialsFlow(
                http, settings(**conf), clock=clock or FakeClock(), max_attempts=max_attempts
            )
            try:
                result: Any = await flow.login()
            except (OAuthError, TransportError) as exc:
                result = exc
    return result, route


async def test_c27_c28_client_secret_post() -> None:
    tokens, route = await run([httpx.Response(200, json=M2M)])
    request = route.calls.last.request
    assert form_of(request) == {
        "grant_type": "client_credentials",
        "audience": AUDIENCE,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
    }
    assert "authorization" not in request.headers  # C29
    assert request.url.query == b""
    assert tokens.access_token == "access-token-1"


async def test_c28_client_secret_basic_form_urlencodes_id_and_secret() -> None:
    client_id = "id:with+odd/chars%"
    _, route = await run(
        [httpx.Response(200, json=M2M)],
        client_id=client_id,
        client_auth_method="client_secret_basic",
    )
    request = route.calls.last.request
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, sep, password = base64.b64decode(encoded).decode().partition(":")
    assert sep == ":"
    assert ":" not in password  # both halves are form-urlencoded
    assert (unquote_plus(user), unquote_plus(password)) == (client_id, SECRET)
    assert password == "a%3Ab%2Bc%25d%2Fe"
    form = form_of(request)
    assert form == {"grant_type": "client_credentials", "audience": AUDIENCE}  # C29: never both
    assert SECRET.encode() not in request.content


async def test_c30_no_refresh_token_expected() -> None:
    tokens, _ = await run([httpx.Response(200, json=M2M)])
    assert tokens.refresh_token is None
    assert tokens.scope is None


async def test_missing_secret_is_config_error() -> None:
    with respx.mock(assert_all_called=True):
        async with http_client() as http:
            with pytest.raises(ConfigError, match="client secret"):
                await ClientCredentialsFlow(http, settings()).login()


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        ClientCredentialsFlow(httpx.AsyncClient(), settings(), max_attempts=0)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, "access_denied"),
        (401, "invalid_client"),
        (403, "unauthorized_client"),
        (403, "access_denied"),
    ],
)
async def test_c32_final_errors_not_retried(status: int, error: str) -> None:
    clock = FakeClock()
    body = {"error": error, "error_description": "Unauthorized"}
    result, route = await run([httpx.Response(status, json=body)], clock)
    assert type(result) is InvalidClientError
    assert (result.status_code, result.error) == (status, error)
    assert route.call_count == 1
    assert clock.sleeps == []
    assert SECRET not in str(result)
    assert SECRET not in repr(result)


async def test_5xx_and_transport_errors_retried_with_backoff() -> None:
    clock = FakeClock()
    script = [
        httpx.Response(503, text="<html>down</html>"),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=M2M),
    ]
    tokens, route = await run(script, clock)
    assert tokens.access_token == "access-token-1"
    assert route.call_count == 3
    assert clock.sleeps == [1, 2]


async def test_429_honours_retry_after() -> None:
    clock = FakeClock()
    script = [
        httpx.Response(429, json={"error": "too_many_requests"}, headers={"Retry-After": "7"}),
        httpx.Response(200, json=M2M),
    ]
    tokens, _ = await run(script, clock)
    assert tokens.access_token
    assert clock.sleeps == [7]


async def test_retries_are_bounded() -> None:
    clock = FakeClock()
    result, route = await run(
        [httpx.Response(500, json={"error": "server_error"})] * 2, clock, max_attempts=2
    )
    assert type(result) is OAuthServerError
    assert route.call_count == 2
    assert clock.sleeps == [1]


async def test_transport_error_after_last_attempt_is_transport_error() -> None:
    clock = FakeClock()
    result, route = await run([httpx.ReadTimeout("slow")], clock, max_attempts=1)
    assert route.call_count == 1
    assert type(result) is TransportError
    assert result.retryable
    assert TOKEN_URL in str(result)
    assert "ReadTimeout" in str(result)


async def test_too_many_attempts_not_retried() -> None:
    clock = FakeClock()
    result, route = await run([httpx.Response(429, json={"error": "too_many_attempts"})], clock)
    assert type(result) is RateLimitError
    assert route.call_count == 1


async def test_retry_after_too_long_is_raised_not_waited() -> None:
    clock = FakeClock()
    result, route = await run([httpx.Response(429, headers={"Retry-After": "3600"})], clock)
    assert type(result) is RateLimitError
    assert result.retry_after == 3600
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_client_http_auth_is_bypassed() -> None:
    # a client carrying bearer auth (as the API client will) must not send it to the IdP
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).respond(200, json=M2M)
        async with httpx.AsyncClient(
            auth=lambda r: r.headers.update({"X-Bearer": "yes"}) or r
        ) as http:
            await ClientCredentialsFlow(http, settings(client_secret=SECRET)).login()
    assert "x-bearer" not in route.calls.last.request.headers


async def test_backoff_without_retry_after_is_capped() -> None:
    clock = FakeClock()
    script = [httpx.Response(503)] * 8 + [httpx.Response(200, json=M2M)]
    tokens, route = await run(script, clock, max_attempts=9)
    assert tokens.access_token
    assert route.call_count == 9
    assert clock.sleeps == [1, 2, 4, 8, 16, 32, 60, 60]
