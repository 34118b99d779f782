"""End-to-end OAuth flows over real HTTP against the fake EarthScope server.

Device login (C1-C17), client credentials (C26-C32), refresh and rotation (C23, C33, C38),
revocation (C42-C44) and malformed responses (C4, C13, C20-C26). Waits use
``ScaledClock(SCALE)`` with a fake of the same ``time_scale``: 5 s of interval = 50 ms.
"""

from __future__ import annotations

import base64
import itertools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from _flows_helpers import FakeClock

from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async._errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    InvalidClientError,
    InvalidResponseError,
    LoginRequiredError,
    OAuthError,
    OAuthServerError,
    TransportError,
)
from earthscope_sdk_async._flows import (
    ClientCredentialsFlow,
    DeviceCode,
    DeviceCodeFlow,
    refresh_tokens,
    revoke_token,
)
from earthscope_sdk_async.testing import FakeEarthScope, RecordedRequest

SCALE = 0.01
TOL = 0.005  # real seconds of slack on server-observed spacing
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
M2M_ID, M2M_SECRET = "m2m", "s:e+c%r/et"  # C28: `: + % /`
HTML = {"content-type": "text/html"}
TLS = ssl.create_default_context()  # built once: httpx would spend ~20 ms per client on it


def html(status: int) -> dict[str, Any]:
    return {"status": status, "body": "<html>Service Unavailable</html>", "headers": HTML}


def ok(body: Any) -> dict[str, Any]:
    """A 200 fault: ``body`` as raw text when it is a string, else as JSON."""
    return {"status": 200, "body": body} if isinstance(body, str) else {"status": 200, "json": body}


@asynccontextmanager
async def serve(**options: Any) -> AsyncIterator[tuple[FakeEarthScope, httpx.AsyncClient]]:
    options.setdefault("time_scale", SCALE)
    options.setdefault("machine_clients", {M2M_ID: M2M_SECRET})
    async with FakeEarthScope(**options) as fake, httpx.AsyncClient(verify=TLS) as http:
        yield fake, http


class EarlyClock(ScaledClock):
    """A scaled clock that skips the sleeps whose (1-based) numbers are in ``early``."""

    def __init__(self, scale: float, early: set[int]) -> None:
        super().__init__(scale)
        self.early = early
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(0.0 if len(self.sleeps) in self.early else seconds)


def polls(fake: FakeEarthScope) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.grant_type == DEVICE_GRANT]


def gaps(requests: list[RecordedRequest]) -> list[float]:
    return [b.started - a.started for a, b in itertools.pairwise(requests)]


def device_flow(http: httpx.AsyncClient, fake: FakeEarthScope, clock: Any = None) -> DeviceCodeFlow:
    return DeviceCodeFlow(http, fake.settings(), clock=clock or ScaledClock(SCALE))


# -- device login ------------------------------------------------------------------------------


async def test_c1_c3_c9_c11_device_login_approved_in_prompt() -> None:
    async with serve() as (fake, http):
        shown: list[DeviceCode] = []

        async def prompt(code: DeviceCode) -> None:
            shown.append(code)
            assert fake.approve(code.user_code) == 1

        tokens = await device_flow(http, fake).login(prompt)
        assert tokens.access_token and tokens.refresh_token and tokens.id_token
        assert tokens.token_type == "Bearer" and "offline_access" in (tokens.scope or "")
        [request] = [r for r in fake.requests if r.endpoint == "device_code"]
        assert set(request.form) == {"client_id", "scope", "audience"}  # C1, C3
        assert request.form["audience"] == fake.audience
        [poll] = polls(fake)
        assert set(poll.form) == {"grant_type", "device_code", "client_id"}  # C9, C3
        assert poll.basic_auth is None and not poll.query  # C26
        assert fake.device_codes[0].status == "consumed"
        assert shown[0].user_code == fake.device_codes[0].user_code


async def test_c11_c10_pending_three_times_then_approved() -> None:
    async with serve(auto_approve_after=3) as (fake, http):
        tokens = await device_flow(http, fake).login(lambda code: None)
        assert tokens.refresh_token
        assert len(polls(fake)) == 4
        [info] = fake.device_codes
        assert (info.status, info.pending_polls, info.interval) == ("consumed", 3, 5)
        assert min(gaps(polls(fake))) >= 5 * SCALE - TOL  # C10: never faster than interval


@pytest.mark.parametrize(
    ("script", "error"),
    [("deny", AccessDeniedError), ("expire", DeviceCodeExpiredError)],
)
async def test_c14_denied_or_expired_server_side(script: str, error: type[OAuthError]) -> None:
    async with serve() as (fake, http):
        with pytest.raises(error) as caught:
            await device_flow(http, fake).login(lambda code: getattr(fake, script)(code.user_code))
        assert caught.value.status_code == 403
        assert caught.value.error == ("access_denied" if script == "deny" else "expired_token")
        assert len(polls(fake)) == 1  # final: no further polling


async def test_c15_local_deadline_stops_without_waiting_past_it() -> None:
    # interval 20, expires_in 25: one poll at 20; the next would be at 40, past the deadline.
    # Virtual time (a 0.05 s margin of real time is luck on a loaded machine); the server's
    # code lives 25 real seconds, so only the local deadline can stop the flow.
    async with serve(device_interval=20, device_expires_in=25, time_scale=1.0) as (fake, http):
        clock = FakeClock()
        codes: list[DeviceCode] = []
        with pytest.raises(DeviceCodeExpiredError) as caught:
            await device_flow(http, fake, clock).login(codes.append)
        overshoot = clock.monotonic() - codes[0].deadline
        assert caught.value.status_code is None  # decided locally, not by the server
        assert "local deadline" in str(caught.value)
        assert len(polls(fake)) == 1
        assert -1 <= overshoot < 10  # stopped at the deadline, not at the next poll (+15)


async def test_c12_slow_down_adds_5s_for_all_later_polls() -> None:
    # The server decides "too early" on real time, so this test runs at a tenth of real time
    # (5 s = 0.5 s): the early poll has hundreds of milliseconds of margin on a starved
    # machine. Server-observed gaps are only bounded from below (a sleep never ends early).
    scale = 0.1
    async with serve(device_interval=5, auto_approve_after=4, time_scale=scale) as (fake, http):
        clock = EarlyClock(scale, early={4})  # sleeps: before polls 1..; the 4th is skipped
        tokens = await device_flow(http, fake, clock).login(lambda code: None)
        assert tokens.access_token
        spacing = gaps(polls(fake))  # polls 1-2, 2-3 normal; 3-4 early -> slow_down
        assert len(spacing) == 5
        assert spacing[2] < 5 * scale  # the early poll really was early
        assert clock.sleeps == [5, 5, 5, 5, 10, 10]  # client side: +5 s after slow_down
        assert fake.device_codes[0].interval == 10  # exactly one slow_down, +5 (C12)
        for gap in spacing[3:]:
            assert gap >= 10 * scale - TOL


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"action": "drop"}, id="C16-drop"),
        pytest.param(html(502), id="C17-html-502"),
        pytest.param(html(200), id="C17-html-200"),
        pytest.param({"status": 429, "json": {"error": "too_many_requests"}}, id="C18-429"),
    ],
)
async def test_c16_c17_transport_and_5xx_mid_poll_then_success(fault: dict[str, Any]) -> None:
    async with serve(auto_approve_after=1) as (fake, http):
        fake.add_fault("token", action="pass")  # poll 1: pending
        fake.add_fault("token", **fault)  # poll 2: broken
        tokens = await device_flow(http, fake).login(lambda code: None)  # poll 3: ok
        assert tokens.access_token
        assert len(polls(fake)) == 3
        assert gaps(polls(fake))[1] >= 2 * 5 * SCALE - TOL  # backed off (doubled)


# -- client credentials ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
async def test_c27_c28_c29_client_credentials(method: str) -> None:
    async with serve() as (fake, http):
        settings = fake.machine_settings(client_auth_method=method)
        tokens = await ClientCredentialsFlow(http, settings).login()
        assert tokens.access_token and tokens.refresh_token is None  # C30
        [request] = fake.requests
        assert request.form["grant_type"] == "client_credentials"
        assert request.form["audience"] == fake.audience  # C27
        assert not request.query and M2M_SECRET not in request.path  # C26
        if method == "client_secret_post":
            assert request.form["client_secret"] == M2M_SECRET
            assert request.form["client_id"] == M2M_ID
            assert request.basic_auth is None and "authorization" not in request.headers
        else:
            assert request.basic_auth == (M2M_ID, M2M_SECRET)
            raw = base64.b64decode(request.headers["authorization"].split()[1]).decode()
            assert raw == "m2m:s%3Ae%2Bc%25r%2Fet"  # form-urlencoded id:secret
            assert "client_secret" not in request.form
            assert b"s%3Ae" not in request.body and M2M_SECRET.encode() not in request.body


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
async def test_c32_bad_secret_is_final(method: str) -> None:
    async with serve() as (fake, http):
        settings = fake.machine_settings(client_secret="wrong", client_auth_method=method)
        with pytest.raises(InvalidClientError) as caught:
            await ClientCredentialsFlow(http, settings, clock=ScaledClock(SCALE)).login()
        assert caught.value.status_code == 401
        assert fake.count("token") == 1  # no retry


async def test_client_credentials_503_once_then_success() -> None:
    async with serve() as (fake, http):
        fake.add_fault("token", status=503, json={"error": "temporarily_unavailable"})
        flow = ClientCredentialsFlow(http, fake.machine_settings(), clock=ScaledClock(SCALE))
        assert (await flow.login()).access_token
        assert fake.count("token") == 2
        assert fake.client_credentials_count == 1


# -- refresh -----------------------------------------------------------------------------------


async def test_c33_c35_rotation_and_reuse_revokes_the_family() -> None:
    async with serve() as (fake, http):
        settings, old = fake.settings(), fake.issue_tokens()
        new = await refresh_tokens(http, settings, old)
        assert new.refresh_token and new.refresh_token != old.refresh_token
        assert new.access_token != old.access_token
        [request] = fake.requests
        assert request.form["grant_type"] == "refresh_token"
        assert request.form["refresh_token"] == old.refresh_token
        assert request.form["client_id"] == fake.client_id
        assert request.form["scope"] == settings.scope and "scopes" not in request.form  # C33
        with pytest.raises(LoginRequiredError) as caught:
            await refresh_tokens(http, settings, old)
        assert (caught.value.status_code, caught.value.error) == (403, "invalid_grant")
        assert fake.reuse_detections == 1
        with pytest.raises(LoginRequiredError):  # the whole family is revoked
            await refresh_tokens(http, settings, new)
        assert fake.refresh_count == 1


async def test_c23_refresh_without_rotation_keeps_refresh_token() -> None:
    async with serve(rotation=False) as (fake, http):
        settings, old = fake.settings(), fake.issue_tokens()
        new = await refresh_tokens(http, settings, old)
        assert new.refresh_token == old.refresh_token
        assert new.access_token != old.access_token
        assert (await refresh_tokens(http, settings, new)).refresh_token == old.refresh_token
        assert fake.refresh_count == 2 and fake.reuse_detections == 0


async def test_c38_dropped_refresh_is_a_retryable_transport_error() -> None:
    async with serve() as (fake, http):
        settings, tokens = fake.settings(), fake.issue_tokens()
        fake.add_fault("token", action="drop")
        with pytest.raises(TransportError) as caught:
            await refresh_tokens(http, settings, tokens)
        assert caught.value.retryable and not isinstance(caught.value, OAuthError)
        assert fake.count("token") == 1  # C39: not retried
        assert (await refresh_tokens(http, settings, tokens)).access_token  # still valid


# -- revocation --------------------------------------------------------------------------------


async def test_c42_revoked_refresh_token_cannot_refresh() -> None:
    async with serve() as (fake, http):
        settings, tokens = fake.settings(), fake.issue_tokens()
        assert tokens.refresh_token
        await revoke_token(http, settings, tokens.refresh_token)
        [request] = fake.requests
        assert request.endpoint == "revoke" and not request.query
        assert request.form["token"] == tokens.refresh_token
        assert request.form["client_id"] == fake.client_id
        with pytest.raises(LoginRequiredError):
            await refresh_tokens(http, settings, tokens)


async def test_c43_revoking_an_unknown_token_succeeds() -> None:
    async with serve() as (fake, http):
        await revoke_token(http, fake.settings(), "not-a-token-we-issued")
        assert fake.count("revoke") == 1


async def test_c44_revoke_503_with_retry_after_then_success() -> None:
    async with serve() as (fake, http):
        settings, tokens = fake.settings(), fake.issue_tokens()
        assert tokens.refresh_token
        fake.add_fault("revoke", status=503, headers={"Retry-After": "3"})
        await revoke_token(http, settings, tokens.refresh_token, clock=ScaledClock(SCALE))
        revokes = [r for r in fake.requests if r.endpoint == "revoke"]
        assert len(revokes) == 2
        assert gaps(revokes)[0] >= 3 * SCALE - TOL  # honoured Retry-After
        with pytest.raises(LoginRequiredError):
            await refresh_tokens(http, settings, tokens)


# -- malformed responses -----------------------------------------------------------------------

GOOD = {"access_token": "at", "token_type": "Bearer", "expires_in": 60}


BAD_TOKEN_RESPONSES = [
    pytest.param(html(200), InvalidResponseError, id="C25-html-200"),
    pytest.param(html(500), OAuthServerError, id="C25-html-500"),
    pytest.param(ok(""), InvalidResponseError, id="C25-empty-200"),
    pytest.param(ok('{"access_token": "at", "tok'), InvalidResponseError, id="C25-truncated"),
    pytest.param(ok([GOOD]), InvalidResponseError, id="C25-json-array"),
    pytest.param(ok({**GOOD, "access_token": None}), InvalidResponseError, id="C20-no-access"),
    pytest.param(ok({"access_token": "at"}), InvalidResponseError, id="C20-no-token-type"),
    pytest.param(ok({**GOOD, "token_type": "mac"}), InvalidResponseError, id="C20-mac"),
    pytest.param(ok({**GOOD, "expires_in": "abc"}), InvalidResponseError, id="C21-expires-abc"),
    pytest.param(ok({**GOOD, "refresh_token": 5}), InvalidResponseError, id="C23-refresh-5"),
    pytest.param(ok({"error": "invalid_grant"}), LoginRequiredError, id="C13-error-in-200"),
]


@pytest.mark.parametrize(("fault", "error"), BAD_TOKEN_RESPONSES)
async def test_c20_c26_malformed_refresh_response(
    fault: dict[str, Any], error: type[OAuthError]
) -> None:
    async with serve() as (fake, http):
        tokens = fake.issue_tokens()
        fake.add_fault("token", **fault)
        with pytest.raises(error) as caught:
            await refresh_tokens(http, fake.settings(), tokens)
        assert type(caught.value) is error
        assert caught.value.status_code == fault["status"]
        assert fake.count("token") == 1


@pytest.mark.parametrize("action", ["truncate", "reset_mid_body"])
async def test_c25_truncated_body_on_the_wire_is_transport_error(action: str) -> None:
    async with serve() as (fake, http):
        fake.add_fault("token", action=action)
        with pytest.raises(TransportError) as caught:
            await refresh_tokens(http, fake.settings(), fake.issue_tokens())
        assert caught.value.retryable and not isinstance(caught.value, LoginRequiredError)


@pytest.mark.parametrize(("fault", "error"), BAD_TOKEN_RESPONSES[5:10])
async def test_c20_malformed_client_credentials_response_is_not_retried(
    fault: dict[str, Any], error: type[OAuthError]
) -> None:
    async with serve() as (fake, http):
        fake.add_fault("token", **fault)
        with pytest.raises(error) as caught:
            await ClientCredentialsFlow(http, fake.machine_settings()).login()
        assert caught.value.status_code == 200
        assert fake.count("token") == 1


async def test_c20_token_type_case_insensitive_and_unknown_fields_ignored() -> None:
    async with serve() as (fake, http):
        fake.add_fault("token", status=200, json={**GOOD, "token_type": "bEaReR", "extra": [1]})
        tokens = await refresh_tokens(http, fake.settings(), fake.issue_tokens())
        assert (tokens.access_token, tokens.token_type) == ("at", "Bearer")


DEVICE = {
    "device_code": "dc",
    "user_code": "ABCD-EFGH",
    "verification_uri": "http://127.0.0.1/activate",
    "expires_in": 900,
}


DEVICE_CASES = [
    *[
        pytest.param(ok({**DEVICE, name: None}), InvalidResponseError, id=f"C4-no-{name}")
        for name in DEVICE
    ],
    pytest.param(html(200), InvalidResponseError, id="C4-html-200"),
    pytest.param(ok(""), InvalidResponseError, id="C4-empty-200"),
    pytest.param(ok([DEVICE]), InvalidResponseError, id="C4-json-array"),
    pytest.param(html(503), OAuthServerError, id="C4-html-503"),
]


@pytest.mark.parametrize(("fault", "error"), DEVICE_CASES)
async def test_c4_malformed_device_authorization_response(
    fault: dict[str, Any], error: type[OAuthError]
) -> None:
    async with serve() as (fake, http):
        fake.add_fault("device_code", **fault)
        with pytest.raises(error) as caught:
            await device_flow(http, fake).login(lambda code: None)
        assert type(caught.value) is error
        assert caught.value.status_code == fault["status"]
        assert fake.count("device_code") == 1 and fake.count("token") == 0  # C8


async def test_c33_refresh_asks_for_the_granted_scope_not_more() -> None:
    """RFC 6749 §6: the refresh scope defaults to what was granted, not the configured one."""
    async with FakeEarthScope() as fake:
        granted = fake.issue_tokens(scope="openid offline_access")
        async with httpx.AsyncClient() as http:
            await refresh_tokens(http, fake.settings(), granted)
        (request,) = [r for r in fake.requests if r.grant_type == "refresh_token"]
        assert request.form["scope"] == "openid offline_access"
