"""Refresh (C23, C33, C38, C39) and revocation (C42-C44)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from _flows_helpers import (
    CLIENT_ID,
    REVOKE_URL,
    SCOPE,
    TOKEN_URL,
    FakeClock,
    form_of,
    http_client,
    settings,
    token_body,
)

from earthscope_sdk_async._errors import (
    InvalidClientError,
    LoginRequiredError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from earthscope_sdk_async._flows import refresh_tokens, revoke_token
from earthscope_sdk_async._tokens import Tokens

pytestmark = pytest.mark.anyio

OLD = Tokens(access_token="old-access", refresh_token="old-refresh", id_token="old-id")


async def refresh(
    responses: list[Any], tokens: Tokens = OLD, **conf: Any
) -> tuple[Any, respx.Route]:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(side_effect=responses)
        async with http_client() as http:
            try:
                result: Any = await refresh_tokens(
                    http, settings(**conf), tokens, clock=FakeClock()
                )
            except (OAuthError, TransportError) as exc:
                result = exc
    return result, route


# -- refresh ---------------------------------------------------------------------------------


async def test_c33_refresh_form_spells_scope() -> None:
    _, route = await refresh([httpx.Response(200, json=token_body())])
    request = route.calls.last.request
    form = form_of(request)
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "old-refresh",
        "client_id": CLIENT_ID,
        "scope": SCOPE,
    }
    assert "scopes" not in form
    assert "authorization" not in request.headers


async def test_c33_confidential_client_adds_secret_once() -> None:
    _, route = await refresh([httpx.Response(200, json=token_body())], client_secret="sek")
    form = form_of(route.calls.last.request)
    assert form["client_secret"] == "sek"
    assert form["client_id"] == CLIENT_ID
    _, route = await refresh(
        [httpx.Response(200, json=token_body())],
        client_secret="sek",
        client_auth_method="client_secret_basic",
    )
    request = route.calls.last.request
    assert "client_secret" not in form_of(request)
    assert request.headers["authorization"].startswith("Basic ")


async def test_c23_response_without_refresh_token_keeps_old_one() -> None:
    tokens, _ = await refresh([httpx.Response(200, json=token_body(refresh_token=None))])
    assert tokens.access_token == "access-token-1"
    assert tokens.refresh_token == "old-refresh"
    assert tokens.id_token == "old-id"


async def test_c23_rotated_refresh_token_replaces_old_one() -> None:
    tokens, _ = await refresh([httpx.Response(200, json=token_body(refresh_token="rotated"))])
    assert tokens.refresh_token == "rotated"


async def test_no_refresh_token_is_login_required_without_request() -> None:
    with respx.mock(assert_all_called=True):
        async with http_client() as http:
            with pytest.raises(LoginRequiredError, match="log in again"):
                await refresh_tokens(http, settings(), Tokens(access_token="a"))


@pytest.mark.parametrize("status", [400, 403])
async def test_c38_invalid_grant_is_final_login_required(status: int) -> None:
    body = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
    result, route = await refresh([httpx.Response(status, json=body)])
    assert type(result) is LoginRequiredError
    assert not result.retryable
    assert result.error == "invalid_grant"
    assert "log in again" in str(result)
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.ConnectError("refused"), TransportError),
        (httpx.ReadTimeout("timed out"), TransportError),
        (httpx.RemoteProtocolError("reset"), TransportError),
        (httpx.Response(503, text="<html>Service unavailable</html>"), OAuthServerError),
        (httpx.Response(500, json={"error": "server_error"}), OAuthServerError),
        (httpx.Response(400, json={"error": "temporarily_unavailable"}), OAuthServerError),
        (httpx.Response(429, headers={"Retry-After": "3"}), RateLimitError),
    ],
)
async def test_c38_c39_transient_failures_are_retryable_not_login_required(
    response: Any, error: type[Exception]
) -> None:
    result, route = await refresh([response])
    assert type(result) is error
    assert not isinstance(result, LoginRequiredError)
    assert result.retryable
    assert route.call_count == 1  # C39: never retried here


async def test_refresh_unauthorized_client_is_invalid_client() -> None:
    result, _ = await refresh([httpx.Response(403, json={"error": "unauthorized_client"})])
    assert type(result) is InvalidClientError


# -- revoke ----------------------------------------------------------------------------------


async def revoke(
    responses: list[Any], clock: FakeClock | None = None, **kw: Any
) -> tuple[Any, respx.Route]:
    conf = {k: kw.pop(k) for k in list(kw) if k.startswith("client_")}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(REVOKE_URL).mock(side_effect=responses)
        async with http_client() as http:
            try:
                result: Any = await revoke_token(
                    http, settings(**conf), "the-refresh", clock=clock or FakeClock(), **kw
                )
            except (OAuthError, TransportError) as exc:
                result = exc
    return result, route


async def test_c42_revoke_form() -> None:
    result, route = await revoke([httpx.Response(200)])
    assert result is None
    request = route.calls.last.request
    assert form_of(request) == {
        "client_id": CLIENT_ID,
        "token": "the-refresh",
        "token_type_hint": "refresh_token",
    }
    assert request.url.query == b""


async def test_c42_revoke_without_hint_and_with_secret() -> None:
    _, route = await revoke([httpx.Response(200)], token_type_hint=None, client_secret="sek")
    assert form_of(route.calls.last.request) == {
        "client_id": CLIENT_ID,
        "token": "the-refresh",
        "client_secret": "sek",
    }


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200),
        httpx.Response(200, json={}),
        httpx.Response(200, text="<html>ok</html>"),
        httpx.Response(204),
    ],
)
async def test_c43_any_200_is_success_even_unknown_token(response: httpx.Response) -> None:
    result, route = await revoke([response])
    assert result is None
    assert route.call_count == 1


async def test_c44_503_retried_honouring_retry_after() -> None:
    clock = FakeClock()
    script = [httpx.Response(503, headers={"Retry-After": "4"}), httpx.Response(200)]
    result, route = await revoke(script, clock)
    assert result is None
    assert route.call_count == 2
    assert clock.sleeps == [4]


async def test_c44_retries_bounded() -> None:
    clock = FakeClock()
    script = [httpx.Response(503, headers={"Retry-After": "2"})] * 3
    result, route = await revoke(script, clock, max_attempts=3)
    assert type(result) is OAuthServerError
    assert route.call_count == 3
    assert clock.sleeps == [2, 2]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "invalid_request", "error_description": "Missing token"}, OAuthError),
        (401, {"error": "invalid_client"}, InvalidClientError),
        (200, {"error": "unsupported_token_type"}, OAuthError),  # C13: the error field decides
        (404, "<html>not found</html>", OAuthError),
    ],
)
async def test_revoke_other_errors_are_typed_and_final(
    status: int, body: Any, error: type[Exception]
) -> None:
    response = (
        httpx.Response(status, json=body)
        if isinstance(body, dict)
        else httpx.Response(status, text=body)
    )
    result, route = await revoke([response])
    assert isinstance(result, error)
    assert result.status_code == status
    assert route.call_count == 1
    assert "the-refresh" not in str(result)
