"""Device authorization grant, RFC 8628 (C1-C19) and the login prompt."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import anyio
import httpx
import pytest
import respx
from _flows_helpers import (
    AUDIENCE,
    CLIENT_ID,
    DEVICE_CODE_URL,
    SCOPE,
    TOKEN_URL,
    FakeClock,
    device_body,
    device_code,
    form_of,
    http_client,
    pending,
    settings,
    slow_down,
    token_body,
)

from earthscope_sdk_async._errors import (
    AccessDeniedError,
    ConfigError,
    DeviceCodeExpiredError,
    InvalidClientError,
    InvalidResponseError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
    TransportError,
)
from earthscope_sdk_async._flows import DeviceCode, DeviceCodeFlow

# Module-level mark: conftest's late auto-marking breaks parametrized async tests.
pytestmark = pytest.mark.anyio

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def html_502() -> httpx.Response:
    return httpx.Response(
        502, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
    )


def ok() -> httpx.Response:
    return httpx.Response(200, json=token_body())


async def poll(responses: list[Any], clock: FakeClock, **code_kw: Any) -> Any:
    """Poll with scripted token-endpoint responses; returns (tokens or error, route)."""
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(side_effect=responses)
        async with http_client() as http:
            flow = DeviceCodeFlow(http, settings(), clock=clock)
            try:
                result: Any = await flow.poll(device_code(clock, **code_kw))
            except Exception as exc:  # the test inspects it
                result = exc
    return result, route


# -- A. device authorization request ---------------------------------------------------


async def test_c1_request_code_posts_form_fields() -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(DEVICE_CODE_URL).respond(200, json=device_body())
        async with http_client() as http:
            await DeviceCodeFlow(http, settings(), clock=clock).request_code()
    request = route.calls.last.request
    assert form_of(request) == {"client_id": CLIENT_ID, "scope": SCOPE, "audience": AUDIENCE}
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert request.url.query == b""  # C26


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
async def test_c3_device_flow_never_sends_client_secret(auth_method: str) -> None:
    clock = FakeClock()
    conf = settings(client_secret="s3cr3t-value", client_auth_method=auth_method)
    with respx.mock(assert_all_called=True) as mock:
        code_route = mock.post(DEVICE_CODE_URL).respond(200, json=device_body())
        token_route = mock.post(TOKEN_URL).mock(side_effect=[ok()])
        async with http_client() as http:
            await DeviceCodeFlow(http, conf, clock=clock).login(prompt=lambda code: None)
    for route in (code_route, token_route):
        request = route.calls.last.request
        assert "client_secret" not in form_of(request)
        assert "authorization" not in request.headers
        assert b"s3cr3t-value" not in request.content


@pytest.mark.parametrize("field", ["device_code", "user_code", "verification_uri", "expires_in"])
async def test_c4_missing_field_is_rejected(field: str) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body(**{field: None}))
        async with http_client() as http:
            with pytest.raises(InvalidResponseError) as info:
                await DeviceCodeFlow(http, settings(), clock=FakeClock()).request_code()
    assert info.value.status_code == 200
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("device_code", 123),
        ("user_code", ["x"]),
        ("expires_in", "soon"),
        ("interval", True),
        ("expires_in", 0),
        ("interval", -1),
        ("verification_uri_complete", 5),
    ],
)
async def test_c4_ill_typed_field_is_rejected(field: str, value: Any) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body(**{field: value}))
        async with http_client() as http:
            with pytest.raises(InvalidResponseError, match=f"'{field}'"):
                await DeviceCodeFlow(http, settings(), clock=FakeClock()).request_code()


async def test_c4_c25_html_device_code_response_is_typed_error() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, text="<html>hi</html>")
        async with http_client() as http:
            with pytest.raises(InvalidResponseError) as info:
                await DeviceCodeFlow(http, settings(), clock=FakeClock()).request_code()
    assert info.value.status_code == 200


async def test_c5_interval_defaults_to_5_and_c7_deadline() -> None:
    clock = FakeClock(start=100.0)
    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body(interval=None, expires_in="900"))
        async with http_client() as http:
            code = await DeviceCodeFlow(http, settings(), clock=clock).request_code()
    assert code.interval == 5.0
    assert code.expires_in == 900.0
    assert code.deadline == 100.0 + 900.0
    assert code.user_code == "ABCD-EFGH"
    assert code.verification_uri_complete == device_body()["verification_uri_complete"]


def test_c6_device_code_repr_hides_device_code() -> None:
    code = device_code(FakeClock())
    assert "the-device-code" not in repr(code)
    assert "the-device-code" not in str(code)
    assert "ABCD-EFGH" in repr(code)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(429, json={"error": "too_many_requests"}, headers={"Retry-After": "9"}),
            RateLimitError,
        ),
        (httpx.Response(503, text="down"), OAuthServerError),
        (httpx.ConnectError("refused"), TransportError),
        (httpx.Response(403, json={"error": "unauthorized_client"}), InvalidClientError),
    ],
)
async def test_c8_request_code_never_loops(response: Any, error: type[Exception]) -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(DEVICE_CODE_URL).mock(side_effect=[response])
        async with http_client() as http:
            with pytest.raises(error):
                await DeviceCodeFlow(http, settings(), clock=clock).request_code()
    assert route.call_count == 1
    assert clock.sleeps == []


# -- B. polling ------------------------------------------------------------------------


async def test_c9_poll_form_fields_and_c11_pending_keeps_polling() -> None:
    clock = FakeClock()
    tokens, route = await poll([pending(), pending(), pending(), ok()], clock)
    assert tokens.access_token == "access-token-1"
    assert route.call_count == 4
    assert clock.sleeps == [5, 5, 5, 5]
    form = form_of(route.calls.last.request)
    assert form == {
        "grant_type": DEVICE_GRANT,
        "device_code": "the-device-code",
        "client_id": CLIENT_ID,
    }


async def test_c10_interval_measured_from_previous_response() -> None:
    clock = FakeClock()
    requests: list[float] = []
    responses: list[float] = []
    script = [pending(), pending(), ok()]

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(clock.monotonic())
        clock.advance(2.0)  # the server takes 2 s to answer
        responses.append(clock.monotonic())
        return script.pop(0)

    tokens, _ = await poll([answer, answer, answer], clock)
    assert tokens.access_token
    assert requests[0] - 1000.0 == 5.0
    gaps = [req - resp for req, resp in zip(requests[1:], responses[:-1], strict=True)]
    assert gaps == [5.0, 5.0]


async def test_c12_slow_down_adds_5_seconds_for_all_later_polls() -> None:
    clock = FakeClock()
    script = [slow_down(), slow_down(), pending(), pending(), ok()]
    tokens, route = await poll(script, clock)
    assert tokens.access_token
    assert clock.sleeps == [5, 10, 15, 15, 15]
    assert route.call_count == 5


async def test_c13_error_field_decides_before_status() -> None:
    # a 200 carrying an error is an error; a 5xx carrying authorization_pending is pending
    clock = FakeClock()
    script = [
        httpx.Response(500, json={"error": "authorization_pending"}),
        httpx.Response(200, json={"error": "access_denied", "error_description": "no"}),
    ]
    result, _ = await poll(script, clock)
    assert isinstance(result, AccessDeniedError)
    assert result.status_code == 200
    assert clock.sleeps == [5, 5]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"error": "access_denied", "error_description": "User refused"}, 403, AccessDeniedError),
        ({"error": "expired_token"}, 403, DeviceCodeExpiredError),
        ({"error": "invalid_grant", "error_description": "Expired"}, 403, DeviceCodeExpiredError),
        ({"error": "unauthorized_client"}, 403, InvalidClientError),
        (
            {"error": "invalid_request", "error_description": "odd", "error_uri": "https://e/x"},
            400,
            OAuthError,
        ),
        ({"error": "too_many_attempts"}, 429, RateLimitError),
    ],
)
async def test_c14_stops_on_final_errors(
    body: dict[str, str], status: int, error: type[OAuthError]
) -> None:
    clock = FakeClock()
    result, route = await poll([pending(), httpx.Response(status, json=body)], clock)
    assert type(result) is error
    assert route.call_count == 2
    assert result.error == body["error"]
    assert result.status_code == status
    assert result.error_description == body.get("error_description")
    assert result.error_uri == body.get("error_uri")
    assert body["error"] in str(result)


async def test_c15_stops_at_local_deadline_without_expired_token() -> None:
    clock = FakeClock()
    result, route = await poll([pending(), pending()], clock, expires_in=12)
    assert isinstance(result, DeviceCodeExpiredError)
    assert route.call_count == 2
    assert clock.sleeps == [5, 5, 2]  # never sleeps past the deadline
    assert clock.t == 1000.0 + 12


async def test_c15_deadline_reached_before_first_poll() -> None:
    clock = FakeClock()
    code = device_code(clock, expires_in=3)
    with respx.mock(assert_all_called=True):
        async with http_client() as http:
            with pytest.raises(DeviceCodeExpiredError):
                await DeviceCodeFlow(http, settings(), clock=clock).poll(code)
    assert clock.sleeps == [3]


async def test_c16_transport_errors_back_off_then_success() -> None:
    clock = FakeClock()
    script = [
        pending(),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
        pending(),
        ok(),
    ]
    tokens, route = await poll(script, clock)
    assert tokens.access_token
    assert route.call_count == 6
    assert clock.sleeps == [5, 5, 10, 20, 40, 5]  # doubled, then back to interval


async def test_c16_backoff_capped_and_never_below_interval() -> None:
    clock = FakeClock()
    errors = [httpx.ConnectError("x")] * 4
    with respx.mock(assert_all_called=True) as mock:
        mock.post(TOKEN_URL).mock(side_effect=[*errors, ok()])
        async with http_client() as http:
            await DeviceCodeFlow(http, settings(), clock=clock, max_backoff=12).poll(
                device_code(clock)
            )
    assert clock.sleeps == [5, 10, 12, 12, 12]
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as mock:
        mock.post(TOKEN_URL).mock(side_effect=[*errors, ok()])
        async with http_client() as http:
            await DeviceCodeFlow(http, settings(), clock=clock, max_backoff=1).poll(
                device_code(clock)
            )
    assert clock.sleeps == [5, 5, 5, 5, 5]


async def test_c16_transport_errors_until_deadline() -> None:
    clock = FakeClock()
    result, route = await poll([httpx.ConnectError("x")] * 2, clock, expires_in=30)
    assert isinstance(result, DeviceCodeExpiredError)
    assert clock.sleeps == [5, 10, 15]  # 5 + 10 = 15; next wait 20 hits the deadline at 30
    assert route.call_count == 2


async def test_c17_5xx_html_and_non_json_back_off() -> None:
    clock = FakeClock()
    script = [
        html_502(),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(500, content=b""),
        httpx.Response(503, json={"error": "temporarily_unavailable"}),
        ok(),
    ]
    tokens, route = await poll(script, clock)
    assert tokens.access_token
    assert route.call_count == 5
    assert clock.sleeps == [5, 10, 20, 40, 60]  # capped at max_backoff=60


async def test_c18_retry_after_seconds() -> None:
    clock = FakeClock()
    script = [
        httpx.Response(429, json={"error": "too_many_requests"}, headers={"Retry-After": "17"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        ok(),
    ]
    await poll(script, clock)
    assert clock.sleeps == [5, 17, 5]  # a Retry-After shorter than interval still waits interval


async def test_c18_retry_after_http_date() -> None:
    clock = FakeClock()

    def limited(request: httpx.Request) -> httpx.Response:
        when = format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
        return httpx.Response(429, text="Too Many Requests", headers={"Retry-After": when})

    await poll([limited, ok()], clock)
    assert clock.sleeps == [5, 30]


async def test_c18_x_ratelimit_reset() -> None:
    clock = FakeClock()

    def limited(request: httpx.Request) -> httpx.Response:
        reset = str(int(clock.now().timestamp()) + 20)
        return httpx.Response(
            429, json={"error": "Too Many Requests"}, headers={"x-ratelimit-reset": reset}
        )

    await poll([limited, ok()], clock)
    assert clock.sleeps == [5, 20]


async def test_c18_429_without_headers_backs_off() -> None:
    clock = FakeClock()
    await poll([httpx.Response(429), ok()], clock)
    assert clock.sleeps == [5, 10]


async def test_c18_too_many_attempts_is_surfaced() -> None:
    clock = FakeClock()
    blocked = httpx.Response(
        429,
        json={"error": "too_many_attempts", "error_description": "blocked"},
        headers={"Retry-After": "600"},
    )
    result, route = await poll([blocked], clock)
    assert isinstance(result, RateLimitError)
    assert result.error == "too_many_attempts"
    assert result.retry_after == 600
    assert route.call_count == 1


async def test_c19_cancellable_while_waiting() -> None:
    class HangsOnSecondSleep(FakeClock):
        async def sleep(self, seconds: float) -> None:
            if self.sleeps:
                self.sleeps.append(seconds)
                await anyio.sleep_forever()
            await super().sleep(seconds)

    clock = HangsOnSecondSleep()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(TOKEN_URL).mock(side_effect=[pending()])
        async with http_client() as http:
            with anyio.move_on_after(0.05) as scope:
                await DeviceCodeFlow(http, settings(), clock=clock).poll(device_code(clock))
    assert scope.cancelled_caught
    assert route.call_count == 1
    assert clock.sleeps == [5, 5]


async def test_c19_cancellable_during_request() -> None:
    clock = FakeClock()
    entered: list[float] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        entered.append(clock.monotonic())
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    # respx records a call only once its side effect returns, so count entries ourselves
    with respx.mock(assert_all_called=False) as mock:
        mock.post(TOKEN_URL).mock(side_effect=hang)
        async with http_client() as http:
            with anyio.move_on_after(0.05) as scope:
                await DeviceCodeFlow(http, settings(), clock=clock).poll(device_code(clock))
    assert scope.cancelled_caught
    assert entered == [1005.0]


async def test_success_response_is_validated() -> None:
    clock = FakeClock()
    result, _ = await poll([httpx.Response(200, json=token_body(token_type="mac"))], clock)
    assert isinstance(result, InvalidResponseError)
    assert "token_type" in str(result)


def test_max_backoff_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        DeviceCodeFlow(httpx.AsyncClient(), settings(), max_backoff=0)


# -- login and the prompt (C6) ----------------------------------------------------------


async def login_with(prompt: Any, clock: FakeClock, events: list[str]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        events.append("poll")
        return ok()

    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body())
        mock.post(TOKEN_URL).mock(side_effect=answer)
        async with http_client() as http:
            return await DeviceCodeFlow(http, settings(), clock=clock).login(prompt)


async def test_login_with_sync_prompt() -> None:
    events: list[str] = []
    shown: list[DeviceCode] = []

    def prompt(code: DeviceCode) -> None:
        shown.append(code)
        events.append("prompt")

    tokens = await login_with(prompt, FakeClock(), events)
    assert tokens.access_token == "access-token-1"
    assert events == ["prompt", "poll"]
    assert shown[0].user_code == "ABCD-EFGH"


async def test_login_with_async_prompt() -> None:
    events: list[str] = []

    async def prompt(code: DeviceCode) -> None:
        await anyio.lowlevel.checkpoint()
        events.append("prompt")

    await login_with(prompt, FakeClock(), events)
    assert events == ["prompt", "poll"]


async def test_login_with_sync_prompt_returning_awaitable() -> None:
    events: list[str] = []

    async def show(code: DeviceCode) -> None:
        events.append("awaited")

    def prompt(code: DeviceCode) -> Any:
        events.append("called")
        return show(code)

    await login_with(prompt, FakeClock(), events)
    assert events == ["called", "awaited", "poll"]


async def test_login_sync_prompt_return_value_ignored() -> None:
    events: list[str] = []
    await login_with(lambda code: "ignored", FakeClock(), events)
    assert events == ["poll"]


async def test_c6_default_prompt_shows_uri_and_user_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await login_with(None, FakeClock(), [])
    err = capsys.readouterr().err
    assert device_body()["verification_uri_complete"] in err
    assert "ABCD-EFGH" in err
    assert "the-device-code" not in err


async def test_c16_zero_interval_still_backs_off() -> None:
    clock = FakeClock()
    tokens, _ = await poll(
        [httpx.ConnectError("x"), httpx.ConnectError("x"), ok()], clock, interval=0
    )
    assert tokens.access_token
    assert clock.sleeps == [1, 2, 4]  # C5: an interval of 0 is clamped to 1 s
