"""Token response parsing (C20-C26), exercised through refresh_tokens (one request each)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from _flows_helpers import (
    CLIENT_ID,
    DOMAIN,
    SCOPE,
    TOKEN_URL,
    FakeClock,
    http_client,
    id_token,
    settings,
    token_body,
)

from earthscope_sdk_async._errors import (
    InvalidResponseError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
)
from earthscope_sdk_async._flows import refresh_tokens
from earthscope_sdk_async._tokens import Tokens

pytestmark = pytest.mark.anyio

OLD = Tokens(access_token="old-access", refresh_token="old-refresh")
SECRET_VALUE = "VALUE-MUST-NOT-LEAK"


async def refresh(response: httpx.Response, clock: FakeClock | None = None, **conf: Any) -> Any:
    """Run refresh_tokens against one scripted response; return tokens or the error."""
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(return_value=response)
        async with http_client() as http:
            try:
                result: Any = await refresh_tokens(
                    http, settings(**conf), OLD, clock=clock or FakeClock()
                )
            except OAuthError as exc:
                result = exc
    assert route.call_count == 1
    return result


# -- C25: bodies that are not a JSON object ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b"<html><body>Oops</body></html>", "text/html", "not valid JSON"),
        (b"", "application/json", "empty body"),
        (b"   \n", "application/json", "empty body"),
        (b'{"access_token": "abc", "token_ty', "application/json", "not valid JSON"),
        (b'["access_token"]', "application/json", "not an object"),
        (b'"just a string"', "application/json", "not an object"),
        (b"null", "application/json", "not an object"),
        (b"\xff\xfe\x00garbage", "application/json", "not valid JSON"),
    ],
)
async def test_c25_non_object_200_is_invalid_response(
    content: bytes, content_type: str, reason: str
) -> None:
    result = await refresh(
        httpx.Response(200, content=content, headers={"content-type": content_type})
    )
    assert type(result) is InvalidResponseError
    assert result.status_code == 200
    assert reason in str(result)
    assert TOKEN_URL in str(result)


async def test_c25_html_4xx_carries_status() -> None:
    result = await refresh(httpx.Response(400, text="<html>Bad request</html>"))
    assert type(result) is InvalidResponseError
    assert result.status_code == 400


async def test_c25_json_4xx_without_error_field() -> None:
    result = await refresh(httpx.Response(400, json={"message": "nope"}))
    assert type(result) is InvalidResponseError
    assert "'error'" in str(result)


async def test_c25_html_5xx_is_server_error() -> None:
    result = await refresh(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert type(result) is OAuthServerError
    assert result.status_code == 502
    assert result.retryable


async def test_c25_429_without_body_is_rate_limit_with_retry_after() -> None:
    result = await refresh(httpx.Response(429, headers={"Retry-After": "12"}))
    assert type(result) is RateLimitError
    assert result.retry_after == 12


async def test_c25_error_fields_parsed_whatever_the_status() -> None:
    body = {
        "error": "invalid_scope",
        "error_description": "Scope  'x'\nnot allowed",
        "error_uri": "https://docs.example.org/errors#scope",
    }
    result = await refresh(httpx.Response(200, json=body))
    assert type(result) is OAuthError
    assert (result.status_code, result.error) == (200, "invalid_scope")
    assert result.error_description == "Scope 'x' not allowed"
    assert result.error_uri == "https://docs.example.org/errors#scope"
    assert "invalid_scope" in str(result)
    assert "not allowed" in str(result)


async def test_c25_ill_typed_error_fields_are_ignored() -> None:
    body = {"error": "invalid_request", "error_description": {"nested": 1}, "error_uri": 7}
    result = await refresh(httpx.Response(400, json=body))
    assert result.error == "invalid_request"
    assert result.error_description is None
    assert result.error_uri is None


# -- C20: required fields and types --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"access_token": None}, "access_token"),
        ({"access_token": ""}, "access_token"),
        ({"access_token": 12345}, "access_token"),
        ({"token_type": None}, "token_type"),
        ({"token_type": "mac"}, "token_type"),
        ({"token_type": 1}, "token_type"),
        ({"expires_in": "an hour"}, "expires_in"),
        ({"expires_in": True}, "expires_in"),
        ({"expires_in": -5}, "expires_in"),
        ({"expires_in": [3600]}, "expires_in"),
        ({"expires_in": 1e300}, "expires_in"),
        ({"scope": ["openid"]}, "scope"),
        ({"refresh_token": 42}, "refresh_token"),
        ({"id_token": {"sub": "x"}}, "id_token"),
    ],
)
async def test_c20_bad_fields_named_in_error(changes: dict[str, Any], field: str) -> None:
    result = await refresh(httpx.Response(200, json=token_body(**changes)))
    assert type(result) is InvalidResponseError
    assert result.status_code == 200
    assert f"'{field}'" in str(result)


async def test_c20_error_never_shows_field_values() -> None:
    body = token_body(access_token=SECRET_VALUE, token_type=SECRET_VALUE)
    result = await refresh(httpx.Response(200, json=body))
    assert isinstance(result, InvalidResponseError)
    assert SECRET_VALUE not in str(result)
    assert SECRET_VALUE not in repr(result)


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", "bEaReR", "Bearer"])
async def test_c20_token_type_case_insensitive(token_type: str) -> None:
    tokens = await refresh(httpx.Response(200, json=token_body(token_type=token_type)))
    assert isinstance(tokens, Tokens)
    assert tokens.token_type == "Bearer"


async def test_c20_unknown_fields_ignored() -> None:
    body = token_body(surprise={"nested": [1, 2]}, not_before=5, token_type="Bearer")
    tokens = await refresh(httpx.Response(200, json=body))
    assert tokens.access_token == "access-token-1"


# -- C21, C22: expiry and scope ---------------------------------------------------------------


async def test_c21_expires_at_from_receipt_plus_expires_in() -> None:
    clock = FakeClock()
    tokens = await refresh(httpx.Response(200, json=token_body(expires_in=86400)), clock)
    assert tokens.expires_at == clock.now() + timedelta(seconds=86400)


async def test_c21_numeric_string_expires_in_accepted() -> None:
    clock = FakeClock()
    tokens = await refresh(httpx.Response(200, json=token_body(expires_in="120.5")), clock)
    assert tokens.expires_at == clock.now() + timedelta(seconds=120.5)


async def test_c21_missing_expires_in_leaves_expiry_to_jwt() -> None:
    tokens = await refresh(httpx.Response(200, json=token_body(expires_in=None)))
    assert tokens.expires_at is None


async def test_c22_missing_scope_means_requested_scope() -> None:
    tokens = await refresh(httpx.Response(200, json=token_body(scope=None)))
    assert tokens.scope == SCOPE


async def test_c22_scope_stored_when_present() -> None:
    tokens = await refresh(httpx.Response(200, json=token_body(scope="openid")))
    assert tokens.scope == "openid"


# -- C24: id_token checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"iss": DOMAIN.rstrip("/")},  # trailing slash ignored
        {"aud": ["https://api.example.org", CLIENT_ID]},
    ],
)
async def test_c24_valid_id_token_accepted(claims: dict[str, Any]) -> None:
    clock = FakeClock()
    token = id_token(clock, **claims)
    tokens = await refresh(httpx.Response(200, json=token_body(id_token=token)), clock)
    assert tokens.id_token == token


async def test_c24_opaque_id_token_accepted() -> None:
    tokens = await refresh(httpx.Response(200, json=token_body(id_token="opaque")))
    assert tokens.id_token == "opaque"


@pytest.mark.parametrize(
    ("claims", "field"),
    [
        ({"iss": "https://evil.example.com/"}, "iss"),
        ({"iss": None}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["a", "b"]}, "aud"),
        ({"aud": None}, "aud"),
        ({"exp": None}, "exp"),
        ({"exp": "tomorrow"}, "exp"),
        ({"exp": -1}, "exp"),  # long past
    ],
)
async def test_c24_bad_id_token_dropped_on_refresh(
    claims: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On a refresh the server has already rotated the refresh token: a bad id_token is
    dropped (with a warning naming the claim) instead of losing the rotation. Logins reject
    it (tests/test_flows_server_quirks.py)."""
    clock = FakeClock()
    token = id_token(clock, **claims)
    with caplog.at_level("WARNING"):
        result = await refresh(httpx.Response(200, json=token_body(id_token=token)), clock)
    assert not isinstance(result, Exception)
    assert result.id_token != token
    assert result.refresh_token is not None
    assert field in caplog.text
    assert token not in caplog.text


async def test_c24_id_token_expiry_allows_60s_of_clock_skew() -> None:
    clock = FakeClock()
    token = id_token(clock, exp=int(clock.now().timestamp()) - 1)
    result = await refresh(httpx.Response(200, json=token_body(id_token=token)), clock)
    assert result.id_token == token
    stale = id_token(clock, exp=int(clock.now().timestamp()) - 61)
    result = await refresh(httpx.Response(200, json=token_body(id_token=stale)), clock)
    assert result.id_token != stale


# -- C26: nothing secret in URLs -------------------------------------------------------------


async def test_c26_refresh_token_only_in_body() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).respond(200, json=token_body())
        async with http_client() as http:
            await refresh_tokens(http, settings(), OLD, clock=FakeClock())
    request = route.calls.last.request
    assert request.url.query == b""
    assert b"old-refresh" in request.content
    assert "old-refresh" not in str(request.url)
    assert request.headers["accept"] == "application/json"


async def test_c20_non_finite_expires_in_rejected() -> None:
    content = b'{"access_token": "a", "token_type": "Bearer", "expires_in": Infinity}'
    result = await refresh(httpx.Response(200, content=content))
    assert type(result) is InvalidResponseError
    assert "'expires_in'" in str(result)
