"""AsyncEarthScopeClient._request: error translation and bounded retries with one shared
back-off budget per client (Retry-After seconds and HTTP-date, C18-style; 401 left to the
auth, C48/C49; no secrets in errors or logs, C46/C54)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
from _helpers import FakeClock

from earthscope_sdk_async import (
    ApiError,
    ConfigError,
    MemoryTokenStore,
    Settings,
    Tokens,
    TransportError,
)
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async._retry import RetryPolicy, SharedPause
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")


class SignallingClock(ScaledClock):
    """A scaled clock that sets ``sleeping`` the first time anyone backs off."""

    def __init__(self, scale: float) -> None:
        super().__init__(scale)
        self.sleeping: anyio.Event | None = None

    async def sleep(self, seconds: float) -> None:
        if self.sleeping is not None:
            self.sleeping.set()
        await super().sleep(seconds)


def make_client(
    fake: FakeEarthScope,
    clock: object | None = None,
    retry: RetryPolicy | None = None,
    tokens: Tokens | None = None,
) -> AsyncEarthScopeClient:
    store = MemoryTokenStore(tokens or fake.issue_tokens())
    return AsyncEarthScopeClient(fake.settings(), store=store, clock=clock, retry=retry)  # type: ignore[arg-type]


# -- RetryPolicy ---------------------------------------------------------------------------


def test_retry_policy_defaults_and_validation() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.max_total, policy.base_delay, policy.max_delay) == (
        4,
        60.0,
        0.5,
        30.0,
    )
    for bad in (
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_total": 0},
        {"base_delay": -1},
        {"max_delay": float("nan")},
    ):
        with pytest.raises(ConfigError):
            RetryPolicy(**bad)
    with pytest.raises(ConfigError):
        AsyncEarthScopeClient(retry={"max_attempts": 2})  # type: ignore[arg-type]


def test_backoff_is_full_jitter_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    for retry, cap in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (40, 3.0)):
        waits = [policy.backoff(retry) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2  # jitter spans the range, not a constant


async def test_shared_pause_never_shortens_and_respects_deadline() -> None:
    clock = FakeClock()
    pause = SharedPause(clock)
    pause.pause(5)
    pause.pause(1)
    assert pause.remaining() == 5
    assert await pause.wait(deadline=3) is False and clock.sleeps == []
    assert await pause.wait(deadline=10) is True and clock.sleeps == [5]


# -- translation ---------------------------------------------------------------------------


async def test_api_error_fields(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault(
        "profile", status=404, json={"detail": "no such user"}, headers={"x-request-id": "req-42"}
    )
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    err = info.value
    assert (err.status_code, err.detail, err.request_id) == (404, "no such user", "req-42")
    assert err.url == fake_earthscope.url + "beta/user/profile"
    assert "req-42" in str(err) and "no such user" in str(err)
    assert not err.retryable


async def test_transport_error_names_url_without_query_and_class(
    fake_earthscope: FakeEarthScope, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = fake_earthscope.issue_tokens()
    fake_earthscope.add_fault("profile", action="drop", times=10)
    async with make_client(fake_earthscope, FakeClock(), tokens=tokens) as client:
        with pytest.raises(TransportError) as info:
            await client._request("GET", "beta/user/profile", params={"sig": "SENTINEL-SIG"})
    message = str(info.value)
    assert fake_earthscope.url + "beta/user/profile" in message
    assert "after 4 attempts" in message
    assert "Error" in message  # the httpx failure class, e.g. RemoteProtocolError/ReadError
    assert info.value.__cause__ is not None
    for secret in ("SENTINEL-SIG", tokens.access_token, tokens.refresh_token or "x" * 9):
        assert secret not in message and secret not in repr(info.value)
        assert secret not in caplog.text


async def test_api_error_has_no_token_or_query(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    fake_earthscope.add_fault("profile", status=400, json={"detail": "bad"})
    async with make_client(fake_earthscope, FakeClock(), tokens=tokens) as client:
        with pytest.raises(ApiError) as info:
            await client._request("GET", "beta/user/profile", params={"sig": "SENTINEL-SIG"})
    text = str(info.value) + repr(info.value) + str(info.value.url)
    assert "SENTINEL-SIG" not in text and tokens.access_token not in text
    assert "Bearer" not in text


# -- retries -------------------------------------------------------------------------------


async def test_429_retry_after_seconds_is_honoured(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("profile", status=429, json={}, headers={"Retry-After": "7"})
    async with make_client(fake_earthscope, clock) as client:
        profile = await client.user.get_profile()
    assert profile.user_id == "auth0|fake-user"
    assert clock.sleeps == [7.0]
    assert fake_earthscope.count("profile") == 2


async def test_429_retry_after_http_date_is_honoured(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    when = format_datetime(clock.now() + timedelta(seconds=9), usegmt=True)
    fake_earthscope.add_fault("profile", status=429, headers={"Retry-After": when})
    async with make_client(fake_earthscope, clock) as client:
        await client.user.get_profile()
    assert clock.sleeps == [9.0]
    assert fake_earthscope.count("profile") == 2


async def test_503_then_success(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("profile", status=503, body="<html>down</html>")
    async with make_client(fake_earthscope, clock) as client:
        await client.user.get_profile()
    assert fake_earthscope.count("profile") == 2
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 0.5


async def test_500_is_retried_for_get(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", status=500, times=2)
    async with make_client(fake_earthscope, FakeClock()) as client:
        await client.user.get_profile()
    assert fake_earthscope.count("profile") == 3


async def test_dropped_connection_then_success_for_get(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", action="drop")
    async with make_client(fake_earthscope, FakeClock()) as client:
        await client.user.get_profile()
    assert fake_earthscope.count("profile") == 2


async def test_reset_mid_body_then_success_for_get(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", action="reset_mid_body")
    async with make_client(fake_earthscope, FakeClock()) as client:
        assert (await client.user.get_profile()).user_id == "auth0|fake-user"
    assert fake_earthscope.count("profile") == 2


async def test_always_503_is_bounded_by_attempts(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("profile", status=503, json={"detail": "busy"}, times=100)
    async with make_client(fake_earthscope, clock) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    assert info.value.status_code == 503 and info.value.retryable
    assert "gave up after 4 attempts" in str(info.value)
    assert fake_earthscope.count("profile") == 4
    assert len(clock.sleeps) == 3
    assert all(w <= cap for w, cap in zip(clock.sleeps, (0.5, 1.0, 2.0), strict=True))


async def test_custom_policy_attempts(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", status=502, times=100)
    async with make_client(fake_earthscope, FakeClock(), RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(ApiError):
            await client.user.get_profile()
    assert fake_earthscope.count("profile") == 2


async def test_total_time_bound_stops_retrying(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("profile", status=503, headers={"Retry-After": "20"}, times=100)
    policy = RetryPolicy(max_attempts=10, max_total=50.0)
    async with make_client(fake_earthscope, clock, policy) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    assert info.value.status_code == 503
    assert clock.sleeps == [20.0, 20.0]  # a third 20 s wait would end after 50 s
    assert fake_earthscope.count("profile") == 3


async def test_retry_after_beyond_budget_is_not_waited(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("profile", status=429, headers={"Retry-After": "3600"})
    async with make_client(fake_earthscope, clock) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
        assert info.value.status_code == 429 and clock.sleeps == []
        # the pause still holds for the client: the next call fails fast without sending
        with pytest.raises(ApiError, match="paused"):
            await client.user.get_profile()
    assert fake_earthscope.count("profile") == 1


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_client_errors_are_not_retried(fake_earthscope: FakeEarthScope, status: int) -> None:
    fake_earthscope.add_fault("profile", status=status, json={"detail": "no"}, times=5)
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    assert info.value.status_code == status
    assert fake_earthscope.count("profile") == 1


async def test_c49_second_401_is_not_retried(fake_earthscope: FakeEarthScope) -> None:
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    fake_earthscope.add_fault("profile", status=401, headers=challenge, times=5)
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    assert info.value.status_code == 401
    assert fake_earthscope.count("profile") == 2  # the auth's one refresh + retry (C48)
    assert fake_earthscope.refresh_count == 1


async def test_retry_false_sends_once(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", status=503, times=5)
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(ApiError):
            await client._request("GET", "/beta/user/profile", retry=False)
    assert fake_earthscope.count("profile") == 1


# -- POST ----------------------------------------------------------------------------------


async def test_post_not_retried_after_drop(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("/user/anon/", action="drop", times=5)
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(TransportError):
            await client.user.lookup_anon(ids=["a"])
    assert fake_earthscope.count("/user/anon/") == 1


async def test_post_not_retried_on_503_without_retry_after(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("/user/anon/", status=503, times=5)
    async with make_client(fake_earthscope, FakeClock()) as client:
        with pytest.raises(ApiError):
            await client.user.lookup_anon(ids=["a"])
    assert fake_earthscope.count("/user/anon/") == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_post_retried_when_server_says_retry_after(
    fake_earthscope: FakeEarthScope, status: int
) -> None:
    clock = FakeClock()
    fake_earthscope.add_fault("/user/anon/", status=status, headers={"Retry-After": "2"})
    async with make_client(fake_earthscope, clock) as client:
        found = await client.user.lookup_anon(ids=["a"])
    assert found[0]["id"] == "a"
    assert fake_earthscope.count("/user/anon/") == 2 and clock.sleeps == [2.0]


async def test_post_retried_after_connect_error() -> None:
    # nothing listens on this port: the request never left, so even a POST may be retried
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    settings = Settings(domain=f"http://127.0.0.1:{port}/", api_url=f"http://127.0.0.1:{port}/")
    clock = FakeClock()
    tokens = Tokens(access_token="t", expires_at=datetime(2100, 1, 1, tzinfo=timezone.utc))
    client = AsyncEarthScopeClient(settings, store=MemoryTokenStore(tokens), clock=clock)
    async with client:
        with pytest.raises(TransportError, match="ConnectError") as info:
            await client.user.lookup_anon(ids=["a"])
    assert "after 4 attempts" in str(info.value)
    assert len(clock.sleeps) == 3


# -- the shared pause ----------------------------------------------------------------------


async def test_429_pauses_every_request_of_the_client(fake_earthscope: FakeEarthScope) -> None:
    scale = 0.05  # one "second" lasts 50 ms
    clock = SignallingClock(scale)
    clock.sleeping = anyio.Event()
    fake_earthscope.add_fault("profile", status=429, headers={"Retry-After": "1"})
    async with make_client(fake_earthscope, clock) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.user.get_profile)
        await clock.sleeping.wait()  # the profile call got its 429 and backs off
        await client.user.lookup_anon(ids=["b"])  # a new call: must wait for the pause
    requests = fake_earthscope.requests
    first_profile = next(r for r in requests if r.endpoint == "profile")
    anon = next(r for r in requests if r.path == "/user/anon/")
    assert anon.started - first_profile.started >= 1.0 * scale - 0.002
    assert fake_earthscope.count("profile") == 2
