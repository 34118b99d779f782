"""Unusual server answers: bare 401s (C32), polling on non-JSON/undecodable answers (C17, C18),
interval clamping (C5), id_token clock skew and refresh leniency (C24).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import respx
from _flows_helpers import (
    DEVICE_CODE_URL,
    TOKEN_URL,
    FakeClock,
    device_body,
    device_code,
    http_client,
    id_token,
    pending,
    settings,
    token_body,
)

from earthscope_sdk_async._errors import (
    InvalidClientError,
    InvalidResponseError,
    OAuthError,
    TransportError,
)
from earthscope_sdk_async._flows import ClientCredentialsFlow, DeviceCodeFlow, refresh_tokens
from earthscope_sdk_async._tokens import Tokens

pytestmark = pytest.mark.anyio

OLD = Tokens(access_token="old-access", refresh_token="old-refresh", id_token="old-id-token")
BASIC_401 = {"www-authenticate": 'Basic realm="login.example.org"'}


def ok(**overrides: Any) -> httpx.Response:
    return httpx.Response(200, json=token_body(**overrides))


def bare_401(kind: str) -> httpx.Response:
    if kind == "empty":
        return httpx.Response(401, content=b"", headers=BASIC_401)
    return httpx.Response(
        401, text="<html>Unauthorized</html>", headers={**BASIC_401, "content-type": "text/html"}
    )


def undecodable() -> httpx.Response:
    """A body that claims gzip but is not: httpx raises DecodingError when reading it."""
    return httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip at all"), headers={"content-encoding": "gzip"}
    )


async def poll(responses: list[Any], clock: FakeClock, **code_kw: Any) -> tuple[Any, respx.Route]:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(side_effect=responses)
        async with http_client() as http:
            flow = DeviceCodeFlow(http, settings(), clock=clock)
            try:
                result: Any = await flow.poll(device_code(clock, **code_kw))
            except OAuthError as exc:
                result = exc
    return result, route


async def refresh(response: httpx.Response, clock: FakeClock) -> Any:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(TOKEN_URL).mock(return_value=response)
        async with http_client() as http:
            try:
                result: Any = await refresh_tokens(http, settings(), OLD, clock=clock)
            except OAuthError as exc:
                result = exc
    return result


async def client_credentials(response: httpx.Response, clock: FakeClock) -> tuple[Any, int]:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(return_value=response)
        async with http_client() as http:
            flow = ClientCredentialsFlow(http, settings(client_secret="s3cret"), clock=clock)
            try:
                result: Any = await flow.login()
            except (OAuthError, TransportError) as exc:
                result = exc
    return result, route.call_count


# -- 1. C32: a 401 without an OAuth error body is a client authentication failure ------------


@pytest.mark.parametrize("kind", ["empty", "html"])
async def test_c32_bare_401_client_credentials_is_invalid_client(kind: str) -> None:
    result, calls = await client_credentials(bare_401(kind), FakeClock())
    assert type(result) is InvalidClientError
    assert result.status_code == 401
    assert calls == 1  # final, no retry
    assert "s3cret" not in str(result)


@pytest.mark.parametrize("kind", ["empty", "html"])
async def test_c32_bare_401_refresh_is_invalid_client(kind: str) -> None:
    result = await refresh(bare_401(kind), FakeClock())
    assert type(result) is InvalidClientError
    assert result.status_code == 401


async def test_c32_bare_401_while_polling_is_final() -> None:
    clock = FakeClock()
    result, route = await poll([bare_401("empty")], clock)
    assert type(result) is InvalidClientError
    assert route.call_count == 1
    assert clock.sleeps == [5]


# -- 1. C17/C18: only 5xx and 429 non-JSON answers keep the device poll going ----------------


@pytest.mark.parametrize("status", [400, 403, 404])
@pytest.mark.parametrize("body", [b"", b"<html>nope</html>"])
async def test_c17_non_json_4xx_while_polling_is_final(status: int, body: bytes) -> None:
    clock = FakeClock()
    result, route = await poll([httpx.Response(status, content=body)], clock)
    assert type(result) is InvalidResponseError
    assert result.status_code == status
    assert route.call_count == 1


async def test_c17_c18_non_json_5xx_and_429_keep_polling() -> None:
    clock = FakeClock()
    script = [
        httpx.Response(503, text="<html>down</html>"),
        httpx.Response(429, content=b""),
        ok(),
    ]
    tokens, route = await poll(script, clock)
    assert isinstance(tokens, Tokens)
    assert route.call_count == 3
    assert clock.sleeps == [5, 10, 20]


# -- 2. C17: an undecodable body (bad Content-Encoding) is a transport problem when polling --


async def test_c17_decoding_error_while_polling_backs_off() -> None:
    clock = FakeClock()
    tokens, route = await poll([undecodable(), pending(), ok()], clock)
    assert isinstance(tokens, Tokens)
    assert tokens.access_token == "access-token-1"
    assert route.call_count == 3
    assert clock.sleeps == [5, 10, 5]


async def test_c17_decoding_error_outside_polling_still_invalid_response() -> None:
    result = await refresh(undecodable(), FakeClock())
    assert type(result) is InvalidResponseError


# -- 3. C5: interval 0 (or tiny) is clamped to 1 s; absent stays 5 s -------------------------


@pytest.mark.parametrize(("interval", "expected"), [(0, 1.0), (0.01, 1.0), (None, 5.0), (2, 2.0)])
async def test_c5_polling_interval_is_clamped(interval: float | None, expected: float) -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body(interval=interval))
        route = mock.post(TOKEN_URL).mock(side_effect=[pending(), pending(), ok()])
        async with http_client() as http:
            flow = DeviceCodeFlow(http, settings(), clock=clock)
            tokens = await flow.poll(await flow.request_code())
    assert tokens.access_token
    assert route.call_count == 3
    assert clock.sleeps == [expected] * 3


# -- 4. C24: 60 s clock skew on exp; a refresh keeps its tokens despite a bad id_token -------


async def test_c24_id_token_within_skew_accepted_on_login() -> None:
    clock = FakeClock()
    # the answer arrives after the first 5 s wait: exp is 55 s in the past by then
    token = id_token(clock, exp=int(clock.now().timestamp()) + 5 - 55)
    tokens, _ = await poll([ok(id_token=token)], clock)
    assert isinstance(tokens, Tokens)
    assert tokens.id_token == token


async def test_c24_id_token_beyond_skew_rejected_on_device_login() -> None:
    clock = FakeClock()
    token = id_token(clock, exp=int(clock.now().timestamp()) + 5 - 61)  # answered at +5 s
    result, _ = await poll([ok(id_token=token)], clock)
    assert type(result) is InvalidResponseError
    assert "'exp'" in str(result)
    assert token not in str(result)


async def test_c24_bad_id_token_rejected_on_client_credentials_login() -> None:
    clock = FakeClock()
    token = id_token(clock, iss="https://evil.example.com/")
    result, _ = await client_credentials(ok(id_token=token), clock)
    assert type(result) is InvalidResponseError
    assert "'iss'" in str(result)


@pytest.mark.parametrize(
    "claims",
    [{"iss": "https://evil.example.com/"}, {"aud": "someone-else"}, {"exp": -1}],
)
async def test_c24_bad_id_token_on_refresh_is_dropped_not_fatal(
    claims: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    bad = id_token(clock, **claims)
    caplog.set_level(logging.DEBUG)
    result = await refresh(ok(refresh_token="rotated-refresh", id_token=bad), clock)
    assert isinstance(result, Tokens)
    assert result.refresh_token == "rotated-refresh"  # the rotation is not lost
    assert result.access_token == "access-token-1"
    assert result.id_token != bad
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "id_token" in warnings[0].getMessage()
    for secret in (bad, "rotated-refresh", "access-token-1", "old-refresh"):
        assert secret not in caplog.text


async def test_c24_good_id_token_on_refresh_is_kept() -> None:
    clock = FakeClock()
    good = id_token(clock)
    result = await refresh(ok(id_token=good), clock)
    assert isinstance(result, Tokens)
    assert result.id_token == good
