"""The fake EarthScope server: lifecycle and its Auth0-like OAuth behaviour (C9-C14, C27-C50)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import anyio
import httpx
import pytest

from earthscope_sdk_async import Settings, Tokens
from earthscope_sdk_async._clock import ScaledClock as LeafScaledClock
from earthscope_sdk_async._tokens import decode_jwt_claims
from earthscope_sdk_async.testing import FakeEarthScope, ScaledClock

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCALE = 0.01  # 5 s of interval = 50 ms
ODD_ID, ODD_SECRET = "m2m:client+1", "s3:cr+t%2F/x y"  # C28: `: + % /` and a space


@pytest.fixture
def fake() -> Iterator[FakeEarthScope]:
    with FakeEarthScope(time_scale=SCALE, machine_clients={ODD_ID: ODD_SECRET}) as server:
        yield server


@pytest.fixture
def http(fake: FakeEarthScope) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url) as client:
        yield client


def device_code(http: httpx.Client, fake: FakeEarthScope, **form: str) -> dict[str, Any]:
    data = {
        "client_id": fake.client_id,
        "scope": "openid offline_access",
        "audience": fake.audience,
        **form,
    }
    response = http.post("oauth/device/code", data=data)
    assert response.status_code == 200
    return dict(response.json())


def poll(http: httpx.Client, fake: FakeEarthScope, code: str) -> httpx.Response:
    data = {"grant_type": DEVICE_GRANT, "device_code": code, "client_id": fake.client_id}
    return http.post("oauth/token", data=data)


def wait_interval(fake: FakeEarthScope) -> None:
    """Real seconds a well-behaved client waits: the current interval, scaled (C10)."""
    time.sleep(fake.device_codes[-1].interval * SCALE + 0.01)


def refresh(http: httpx.Client, fake: FakeEarthScope, token: str | None) -> httpx.Response:
    assert token is not None
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": fake.client_id}
    return http.post("oauth/token", data=data)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- lifecycle ---------------------------------------------------------------------------


def test_exports() -> None:
    assert ScaledClock is LeafScaledClock


def test_start_stop_sync_and_idempotent() -> None:
    fake = FakeEarthScope()
    assert fake.start() is fake.start()
    url = fake.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    assert fake.issuer == fake.api_url == url
    assert httpx.get(url + ".well-known/openid-configuration").json()["issuer"] == url
    fake.stop()
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + ".well-known/openid-configuration")


async def test_start_stop_async() -> None:
    async with FakeEarthScope() as fake, httpx.AsyncClient() as http:
        discovery = (await http.get(fake.url + ".well-known/openid-configuration")).json()
        assert discovery["token_endpoint"] == fake.url + "oauth/token"
        assert discovery["device_authorization_endpoint"] == fake.url + "oauth/device/code"
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(fake.url)


async def test_serves_while_the_calling_thread_blocks() -> None:
    """A sync call made inside a coroutine blocks the caller's loop; the fake keeps serving."""
    async with FakeEarthScope() as fake:
        response = httpx.get(fake.url + "activate")  # blocks this event loop on purpose
        assert response.status_code == 200
        assert b"activate" in response.content


def test_settings_point_at_the_fake(fake: FakeEarthScope) -> None:
    settings = fake.settings(refresh_leeway=1)
    assert isinstance(settings, Settings)
    assert (settings.domain, settings.api_url, settings.client_id, settings.audience) == (
        fake.url,
        fake.url,
        fake.client_id,
        fake.audience,
    )
    assert settings.refresh_leeway == 1
    assert not settings.is_machine
    machine = fake.machine_settings()
    assert (machine.client_id, machine.client_secret) == (ODD_ID, ODD_SECRET)


# -- device flow (C9-C14) ----------------------------------------------------------------


def test_device_code_response(http: httpx.Client, fake: FakeEarthScope) -> None:
    body = device_code(http, fake)
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", body["user_code"])
    assert body["verification_uri"] == fake.url + "activate"
    assert body["verification_uri_complete"] == f"{fake.url}activate?user_code={body['user_code']}"
    assert (body["expires_in"], body["interval"]) == (900, 5)
    assert len(body["device_code"]) > 30
    bad = http.post("oauth/device/code", data={"client_id": "nope", "scope": "openid"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_c11_pending_then_approved_then_redeemed_once(
    http: httpx.Client, fake: FakeEarthScope
) -> None:
    code = device_code(http, fake)
    pending = poll(http, fake, code["device_code"])
    assert pending.status_code == 403
    assert pending.json()["error"] == "authorization_pending"
    assert fake.approve(code["user_code"].lower().replace("-", "")) == 1
    wait_interval(fake)
    ok = poll(http, fake, code["device_code"])
    assert ok.status_code == 200
    tokens = ok.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    id_claims = decode_jwt_claims(tokens["id_token"])
    assert id_claims
    assert id_claims["aud"] == fake.client_id
    assert id_claims["iss"] == fake.url
    assert fake.device_codes[-1].status == "consumed"
    wait_interval(fake)
    again = poll(http, fake, code["device_code"])
    assert again.status_code == 403
    assert again.json()["error"] == "invalid_grant"


def test_c2_no_refresh_or_id_token_without_their_scopes(
    http: httpx.Client, fake: FakeEarthScope
) -> None:
    code = device_code(http, fake, scope="profile")
    fake.approve()
    tokens = poll(http, fake, code["device_code"]).json()
    assert "refresh_token" not in tokens
    assert "id_token" not in tokens
    assert tokens["scope"] == "profile"


def test_c12_slow_down_grows_interval_by_5() -> None:
    # Polls that must count as early race real time, so this test runs at a tenth of real
    # time (5 s of interval = 0.5 s): hundreds of milliseconds of margin for a starved machine.
    scale = 0.1
    with (
        FakeEarthScope(time_scale=scale) as fake,
        httpx.Client(base_url=fake.url) as http,
    ):
        code = device_code(http, fake)["device_code"]
        assert poll(http, fake, code).json()["error"] == "authorization_pending"
        early = poll(http, fake, code)
        assert early.status_code == 429
        assert early.json()["error"] == "slow_down"
        assert fake.device_codes[-1].interval == 10
        time.sleep(5 * scale + 0.01)  # the old interval is no longer enough
        assert poll(http, fake, code).json()["error"] == "slow_down"
        assert fake.device_codes[-1].interval == 15
        time.sleep(15 * scale + 0.01)  # the current interval, measured from the last poll
        assert poll(http, fake, code).json()["error"] == "authorization_pending"
        fake.approve()
        time.sleep(15 * scale + 0.01)
        assert poll(http, fake, code).status_code == 200


@pytest.mark.parametrize(
    ("script", "error"), [("deny", "access_denied"), ("expire", "expired_token")]
)
def test_c14_denied_and_expired(
    http: httpx.Client, fake: FakeEarthScope, script: str, error: str
) -> None:
    code = device_code(http, fake)
    assert getattr(fake, script)() == 1
    response = poll(http, fake, code["device_code"])
    assert response.status_code == 403
    assert response.json()["error"] == error
    with pytest.raises(ValueError, match="not pending"):
        fake.approve(code["user_code"])


def test_c15_code_expires_after_scaled_expires_in() -> None:
    with (
        FakeEarthScope(time_scale=SCALE, device_expires_in=5) as fake,
        httpx.Client(base_url=fake.url) as http,
    ):
        code = device_code(http, fake)
        time.sleep(5 * SCALE + 0.02)
        assert fake.device_codes[0].status == "expired"
        assert poll(http, fake, code["device_code"]).json()["error"] == "expired_token"


def test_unknown_device_code_and_auto_approve() -> None:
    with (
        FakeEarthScope(time_scale=SCALE, auto_approve_after=2) as fake,
        httpx.Client(base_url=fake.url) as http,
    ):
        assert poll(http, fake, "no-such-code").json()["error"] == "invalid_grant"
        code = device_code(http, fake)["device_code"]
        errors = []
        for _ in range(3):
            response = poll(http, fake, code)
            errors.append(response.json().get("error"))
            wait_interval(fake)
        assert errors == ["authorization_pending", "authorization_pending", None]


# -- client credentials (C27-C32) ---------------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_c28_client_secret_post_and_basic(http: httpx.Client, fake: FakeEarthScope) -> None:
    form = {"grant_type": "client_credentials", "audience": fake.audience}
    post = http.post("oauth/token", data={**form, "client_id": ODD_ID, "client_secret": ODD_SECRET})
    via_basic = http.post(
        "oauth/token", data=form, headers={"Authorization": basic(ODD_ID, ODD_SECRET)}
    )
    for response in (post, via_basic):
        assert response.status_code == 200, response.text
        body = response.json()
        assert "refresh_token" not in body  # C30
        claims = decode_jwt_claims(body["access_token"])
        assert claims
        assert claims["sub"] == f"{ODD_ID}@clients"
        assert claims["gty"] == "client-credentials"
        assert claims["aud"] == fake.audience
        assert claims["azp"] == ODD_ID
        assert (
            http.get("beta/user/profile", headers=bearer(body["access_token"])).status_code == 200
        )
    assert fake.client_credentials_count == 2
    assert fake.requests[-3].basic_auth == (ODD_ID, ODD_SECRET)


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"client_id": ODD_ID, "client_secret": ODD_SECRET}, True, 400, "invalid_request"),  # C29
        ({"client_id": ODD_ID, "client_secret": "wrong"}, False, 401, "access_denied"),
        ({"client_id": "unknown", "client_secret": "x"}, False, 401, "invalid_client"),
        ({"client_id": "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"}, False, 403, "unauthorized_client"),
    ],
)
def test_c32_client_credentials_failures(
    http: httpx.Client,
    fake: FakeEarthScope,
    form: dict[str, str],
    auth: bool,
    status: int,
    error: str,
) -> None:
    headers = {"Authorization": basic(ODD_ID, ODD_SECRET)} if auth else {}
    data = {"grant_type": "client_credentials", "audience": fake.audience, **form}
    response = http.post("oauth/token", data=data, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert fake.client_credentials_count == 0


def test_c27_client_credentials_require_audience(http: httpx.Client, fake: FakeEarthScope) -> None:
    data = {"grant_type": "client_credentials", "client_id": ODD_ID, "client_secret": ODD_SECRET}
    response = http.post("oauth/token", data=data)
    assert (response.status_code, response.json()["error"]) == (403, "access_denied")


def test_bad_token_requests(http: httpx.Client, fake: FakeEarthScope) -> None:
    unsupported = http.post("oauth/token", data={"grant_type": "password", "client_id": "x"})
    assert (unsupported.status_code, unsupported.json()["error"]) == (400, "unsupported_grant_type")
    missing = http.post(
        "oauth/token", data={"grant_type": "refresh_token", "client_id": fake.client_id}
    )
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert http.post("oauth/token", data={}).json()["error"] == "invalid_request"


# -- refresh, rotation, reuse detection, revocation (C33-C45) ------------------------------


def test_c35_rotation_and_reuse_detection_revokes_family(
    http: httpx.Client, fake: FakeEarthScope
) -> None:
    seed = fake.issue_tokens()
    first = refresh(http, fake, seed.refresh_token)
    assert first.status_code == 200
    assert fake.refresh_count == 1
    rotated = first.json()["refresh_token"]
    assert rotated != seed.refresh_token
    assert "id_token" in first.json()
    reused = refresh(http, fake, seed.refresh_token)
    assert (reused.status_code, reused.json()["error"]) == (403, "invalid_grant")
    assert fake.reuse_detections == 1
    assert refresh(http, fake, rotated).json()["error"] == "invalid_grant"  # the family is gone
    revoked = http.get("beta/user/profile", headers=bearer(first.json()["access_token"]))
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
    assert fake.refresh_count == 1


def test_c23_rotation_off_keeps_refresh_token() -> None:
    with FakeEarthScope(rotation=False) as fake, httpx.Client(base_url=fake.url) as http:
        seed = fake.issue_tokens()
        for _ in range(2):
            response = refresh(http, fake, seed.refresh_token)
            assert response.status_code == 200
            assert "refresh_token" not in response.json()
        assert fake.refresh_count == 2
        assert fake.reuse_detections == 0


def test_refresh_scope_and_client_checks(http: httpx.Client, fake: FakeEarthScope) -> None:
    seed = fake.issue_tokens(scope="openid offline_access")
    narrowed = http.post(
        "oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seed.refresh_token,
            "client_id": fake.client_id,
            "scope": "openid",
        },
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "openid"
    wider = http.post(
        "oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrowed.json()["refresh_token"],
            "client_id": fake.client_id,
            "scope": "openid email",
        },
    )
    assert wider.status_code == 403
    assert refresh(http, fake, "v1.unknown").json()["error"] == "invalid_grant"


@pytest.mark.parametrize("as_json", [False, True])
def test_c43_revoke(http: httpx.Client, fake: FakeEarthScope, as_json: bool) -> None:
    seed = fake.issue_tokens()
    payload = {"client_id": fake.client_id, "token": seed.refresh_token}
    response = http.post("oauth/revoke", **({"json": payload} if as_json else {"data": payload}))
    assert response.status_code == 200
    assert response.content == b""
    assert refresh(http, fake, seed.refresh_token).json()["error"] == "invalid_grant"
    unknown = http.post("oauth/revoke", data={"client_id": fake.client_id, "token": "nope"})
    assert unknown.status_code == 200
    assert unknown.content == b""
    assert http.post("oauth/revoke", data={"token": "x"}).json()["error"] == "invalid_request"


def test_revoke_family_helper(http: httpx.Client, fake: FakeEarthScope) -> None:
    seed = fake.issue_tokens()
    assert http.get("userinfo", headers=bearer(seed.access_token)).status_code == 200
    assert seed.refresh_token is not None
    fake.revoke_family(seed.refresh_token)
    assert http.get("userinfo", headers=bearer(seed.access_token)).status_code == 401
    with pytest.raises(ValueError, match="unknown refresh token"):
        fake.revoke_family("v1.nope")


# -- tokens and bearer checks (C46-C50) ------------------------------------------------------


def test_issue_tokens_claims_and_clock_offset(fake: FakeEarthScope) -> None:
    tokens = fake.issue_tokens(lifetime=120, sub="auth0|other")
    assert isinstance(tokens, Tokens)
    assert tokens.refresh_token
    assert tokens.id_token
    claims = tokens.access_claims
    assert claims is not None
    assert claims["aud"] == [fake.audience, fake.url + "userinfo"]
    assert claims["iss"] == fake.url
    assert claims["exp"] - claims["iat"] == 120
    assert claims["sub"] == "auth0|other"
    assert tokens.expires_at is not None
    assert 100 < tokens.ttl().total_seconds() <= 120
    fake.clock_offset = -7200
    skewed = fake.issue_tokens().access_claims
    assert skewed
    assert abs(skewed["iat"] - (claims["iat"] - 7200)) <= 2
    assert fake.issue_tokens(refresh=False).refresh_token is None


def test_c47_userinfo_and_profile_401_variants(http: httpx.Client, fake: FakeEarthScope) -> None:
    for path in ("userinfo", "beta/user/profile", "beta/user/credentials/aws/role"):
        missing = http.get(path)
        assert missing.status_code == 401
        challenge = missing.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        assert "error=" not in challenge
        garbage = http.get(path, headers=bearer("not-a-token"))
        assert garbage.status_code == 401
        assert 'error="invalid_token"' in garbage.headers["www-authenticate"]


def test_api_answers(http: httpx.Client, fake: FakeEarthScope) -> None:
    token = fake.issue_tokens(sub="auth0|abc").access_token
    assert http.get("beta/user/profile", headers=bearer(token)).json()["user_id"] == "auth0|abc"
    assert http.get("userinfo", headers=bearer(token)).json()["sub"] == "auth0|abc"
    aws = http.get("beta/user/credentials/aws/s3-miniseed-v2", headers=bearer(token)).json()
    denied = http.get("beta/user/credentials/aws/s3-reader", headers=bearer(token))
    assert denied.status_code == 403
    assert {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "expiration"} <= set(
        aws
    )
    anon = http.post("user/anon/", json={"ids": ["u1"], "emails": ["a@b.c"]}, headers=bearer(token))
    assert [item.get("id") or item.get("email") for item in anon.json()] == ["u1", "a@b.c"]
    assert http.get("beta/nothing", headers=bearer(token)).status_code == 404


def test_c50_userinfo_needs_openid(http: httpx.Client, fake: FakeEarthScope) -> None:
    token = fake.issue_tokens(scope="profile").access_token
    response = http.get("userinfo", headers=bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_wrong_audience_is_invalid_token(http: httpx.Client, fake: FakeEarthScope) -> None:
    code = device_code(http, fake, audience="https://other.example.org")
    fake.approve()
    token = poll(http, fake, code["device_code"]).json()["access_token"]
    response = http.get("beta/user/profile", headers=bearer(token))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
    assert http.get("userinfo", headers=bearer(token)).status_code == 200


async def test_c48_expired_token_is_invalid_token() -> None:
    async with FakeEarthScope(access_token_lifetime=0.2) as fake, httpx.AsyncClient() as http:
        tokens = fake.issue_tokens()
        url = fake.url + "beta/user/profile"
        assert (await http.get(url, headers=bearer(tokens.access_token))).status_code == 200
        await anyio.sleep(0.25)  # time itself is what is tested
        expired = await http.get(url, headers=bearer(tokens.access_token))
        assert expired.status_code == 401
        assert "expired" in expired.headers["www-authenticate"]
