"""The fake EarthScope's scripted faults and request log (C16-C18, C25, C37 need these)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from earthscope_sdk_async.testing import FakeEarthScope, RecordedRequest

NETWORK_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def http(fake: FakeEarthScope) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url) as client:
        yield client


def profile(http: httpx.Client, fake: FakeEarthScope, token: str | None = None) -> httpx.Response:
    token = token or fake.issue_tokens().access_token
    return http.get("beta/user/profile", headers={"Authorization": f"Bearer {token}"})


def test_c18_respond_fault_then_normal(http: httpx.Client, fake: FakeEarthScope) -> None:
    fake.add_fault(
        "profile",
        status=429,
        json={"error": "too_many_requests"},
        headers={"Retry-After": "2"},
        times=2,
    )
    for _ in range(2):
        response = profile(http, fake)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert response.json() == {"error": "too_many_requests"}
    assert fake.pending_faults == 0
    assert profile(http, fake).status_code == 200


def test_c17_html_5xx_and_fifo(http: httpx.Client, fake: FakeEarthScope) -> None:
    fake.add_fault(
        "api", status=502, body="<html>bad gateway</html>", headers={"Content-Type": "text/html"}
    )
    fake.add_fault("profile", status=503, body=b"")
    first, second = profile(http, fake), profile(http, fake)
    assert (first.status_code, first.headers["content-type"], first.text) == (
        502,
        "text/html",
        "<html>bad gateway</html>",
    )
    assert (second.status_code, second.content) == (503, b"")


def test_fault_match_and_literal_path(http: httpx.Client, fake: FakeEarthScope) -> None:
    fake.add_fault("token", status=500, match=lambda r: r.grant_type == "client_credentials")
    fake.add_fault("/oauth/revoke", status=503)
    seed = fake.issue_tokens()
    data = {
        "grant_type": "refresh_token",
        "refresh_token": seed.refresh_token,
        "client_id": fake.client_id,
    }
    assert http.post("oauth/token", data=data).status_code == 200  # not matched
    assert (
        http.post("oauth/revoke", data={"client_id": fake.client_id, "token": "x"}).status_code
        == 503
    )
    assert fake.pending_faults == 1
    with pytest.raises(ValueError, match="unknown endpoint"):
        fake.add_fault("tokens")
    with pytest.raises(ValueError, match="unknown fault action"):
        fake.add_fault("token", action="explode")  # type: ignore[arg-type]


def test_c16_drop_closes_without_response(http: httpx.Client, fake: FakeEarthScope) -> None:
    token = fake.issue_tokens().access_token
    fake.add_fault("profile", action="drop")
    with pytest.raises(NETWORK_ERRORS):
        profile(http, fake, token)
    assert fake.count("profile") == 1  # logged before it was dropped
    assert profile(http, fake, token).status_code == 200


def test_c37_drop_after_commit_rotates_anyway(http: httpx.Client, fake: FakeEarthScope) -> None:
    seed = fake.issue_tokens()
    fake.add_fault("token", action="drop_after_commit")
    data = {
        "grant_type": "refresh_token",
        "refresh_token": seed.refresh_token,
        "client_id": fake.client_id,
    }
    with pytest.raises(NETWORK_ERRORS):
        http.post("oauth/token", data=data)
    assert fake.refresh_count == 1  # the server committed the rotation
    retry = http.post("oauth/token", data=data)
    assert retry.json()["error"] == "invalid_grant"
    assert fake.reuse_detections == 1


def test_c25_truncate_sends_half_the_body(http: httpx.Client, fake: FakeEarthScope) -> None:
    fake.add_fault("profile", action="truncate")
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        profile(http, fake)


def test_reset_mid_body_after_headers(http: httpx.Client, fake: FakeEarthScope) -> None:
    token = fake.issue_tokens().access_token
    url = fake.add_file("big.bin", size=4 * 1024 * 1024)
    fake.add_fault("files", action="reset_mid_body")
    with http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(4 * 1024 * 1024)
        with pytest.raises(NETWORK_ERRORS):
            response.read()


def test_fault_delay_and_latency() -> None:
    with FakeEarthScope(latency=0.1) as fake, httpx.Client(base_url=fake.url) as http:
        fake.add_fault("discovery", action="pass", delay=0.15)
        started = time.monotonic()
        assert http.get(".well-known/openid-configuration").status_code == 200
        assert time.monotonic() - started >= 0.15
        started = time.monotonic()
        assert profile(http, fake).status_code == 200
        assert time.monotonic() - started >= 0.1


def test_request_log(http: httpx.Client, fake: FakeEarthScope) -> None:
    before = time.monotonic()
    auth = "Basic " + base64.b64encode(b"fake-m2m-client:fake-m2m-secret").decode()
    http.post(
        "oauth/token?x=1",
        data={"grant_type": "client_credentials", "audience": fake.audience},
        headers={"Authorization": auth, "X-Trace": "t1"},
    )
    http.post("user/anon/", json={"ids": [1]})
    http.get("nowhere")
    token, anon, unknown = fake.requests
    assert isinstance(token, RecordedRequest)
    assert (token.method, token.path, token.query, token.endpoint) == (
        "POST",
        "/oauth/token",
        {"x": "1"},
        "token",
    )
    assert token.form == {"grant_type": "client_credentials", "audience": fake.audience}
    assert token.grant_type == "client_credentials"
    assert token.json is None
    assert token.basic_auth == ("fake-m2m-client", "fake-m2m-secret")
    assert token.headers["x-trace"] == "t1"
    assert before <= token.started <= anon.started
    assert (anon.endpoint, anon.json, anon.form) == ("api", {"ids": [1]}, {})
    assert anon.body == b'{"ids":[1]}' or anon.json == {"ids": [1]}
    assert unknown.endpoint == "unknown"
    assert unknown.grant_type is None
    assert fake.count("token", grant_type="client_credentials") == 1
    assert fake.count("token", grant_type="refresh_token") == 0
    assert fake.count("api") == 1
    assert fake.count("/nowhere") == 1
    fake.clear_log()
    assert fake.requests == []
    assert fake.count("token") == 0
    assert "fake-m2m-secret" not in repr(token)
