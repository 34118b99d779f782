"""EarthScopeAuth: bearer only to allowed hosts (C46, C58, C59), one refresh + one retry on a
stale-token 401 (C48), never on a second 401 or on 403 (C49), sync and async."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import anyio
import httpx
import pytest
from _helpers import INVALID_TOKEN, stale_but_trusted

from earthscope_sdk_async import ApiError, Settings, Tokens
from earthscope_sdk_async._api_errors import raise_for_api_status
from earthscope_sdk_async._auth import EarthScopeAuth
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def make_auth(fake: FakeEarthScope, tokens: Tokens) -> EarthScopeAuth:
    return EarthScopeAuth(TokenManager(fake.settings(), store=MemoryTokenStore(tokens)))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.earthscope.org/x", True),
        ("https://data.earthscope.org/f", True),
        ("https://earthscope.org/", True),
        ("http://api.earthscope.org/x", False),  # never over plain http (C58)
        ("https://evil.example.com/", False),
        ("https://earthscope.org.evil.com/", False),
        ("https://notearthscope.org/", False),
    ],
)
def test_c59_allowed_hosts(url: str, expected: bool) -> None:
    auth = EarthScopeAuth(TokenManager(Settings()))
    assert auth.applies_to(httpx.URL(url)) is expected


def test_loopback_http_allowed_for_configured_api_host() -> None:
    auth = EarthScopeAuth(TokenManager(Settings(api_url="http://127.0.0.1:9/", allowed_hosts=())))
    assert auth.applies_to(httpx.URL("http://127.0.0.1:9/a"))
    assert not auth.applies_to(httpx.URL("http://localhost:9/a"))
    assert "Bearer" not in repr(auth)


async def test_c46_bearer_header_sent(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    async with httpx.AsyncClient(auth=make_auth(fake_earthscope, tokens)) as http:
        response = await http.get(fake_earthscope.url + "beta/user/profile")
    assert response.status_code == 200
    (request,) = [r for r in fake_earthscope.requests if r.endpoint == "profile"]
    assert request.headers["authorization"] == f"Bearer {tokens.access_token}"
    assert "access_token" not in str(request.query)


async def test_no_token_for_other_hosts(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    auth = EarthScopeAuth(
        TokenManager(
            fake_earthscope.settings(api_url="https://api.earthscope.org/", allowed_hosts=()),
            store=MemoryTokenStore(tokens),
        )
    )
    async with httpx.AsyncClient(auth=auth) as http:
        response = await http.get(fake_earthscope.url + "beta/user/profile")
    assert response.status_code == 401
    assert "authorization" not in fake_earthscope.requests[-1].headers


async def test_c59_redirect_to_other_host_drops_token(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    elsewhere = fake_earthscope.url.replace("127.0.0.1", "localhost") + "beta/user/profile"
    fake_earthscope.add_fault("profile", status=302, headers={"Location": elsewhere})
    async with httpx.AsyncClient(
        auth=make_auth(fake_earthscope, tokens), follow_redirects=True
    ) as http:
        await http.get(fake_earthscope.url + "beta/user/profile")
    first, second = [r for r in fake_earthscope.requests if r.endpoint == "profile"]
    assert "authorization" in first.headers
    assert "authorization" not in second.headers


async def test_c35_1000_concurrent_requests_one_refresh(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens().replace(expires_at=PAST)
    auth = make_auth(fake_earthscope, tokens)
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(auth=auth, limits=limits, timeout=30) as http:

        async def get() -> None:
            statuses.append((await http.get(fake_earthscope.url + "beta/user/profile")).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(get)
    assert statuses == [200] * 1000
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


async def test_c48_stale_token_401_refreshes_once_and_retries(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with httpx.AsyncClient(
        auth=make_auth(fake_earthscope, stale_but_trusted(fake_earthscope))
    ) as http:
        response = await http.get(fake_earthscope.url + "beta/user/profile")
    assert response.status_code == 200
    assert fake_earthscope.count("profile") == 2
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


async def test_c49_always_401_gets_exactly_two_requests(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", status=401, headers=INVALID_TOKEN, times=10)
    async with httpx.AsyncClient(
        auth=make_auth(fake_earthscope, fake_earthscope.issue_tokens())
    ) as http:
        response = await http.get(fake_earthscope.url + "beta/user/profile")
        with pytest.raises(ApiError) as info:
            raise_for_api_status(response)
    assert info.value.status_code == 401
    assert fake_earthscope.count("profile") == 2
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (403, 'Bearer error="insufficient_scope", scope="admin"'),
        (401, 'Bearer error="invalid_request"'),
        (400, 'Bearer error="invalid_request"'),
    ],
)
async def test_c49_no_refresh_on_403_or_other_errors(
    fake_earthscope: FakeEarthScope, status: int, header: str
) -> None:
    fake_earthscope.add_fault("profile", status=status, headers={"WWW-Authenticate": header})
    async with httpx.AsyncClient(
        auth=make_auth(fake_earthscope, fake_earthscope.issue_tokens())
    ) as http:
        response = await http.get(fake_earthscope.url + "beta/user/profile")
    assert response.status_code == status
    assert fake_earthscope.count("profile") == 1
    assert fake_earthscope.count("token") == 0


async def test_c48_streaming_body_is_not_replayed(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("api", status=401, headers=INVALID_TOKEN)

    async def body() -> object:
        yield b"chunk"

    async with httpx.AsyncClient(
        auth=make_auth(fake_earthscope, fake_earthscope.issue_tokens())
    ) as http:
        response = await http.post(fake_earthscope.url + "user/anon/", content=body())
    assert response.status_code == 401
    assert fake_earthscope.count("token") == 0


def test_sync_client_16_threads_one_refresh(fake_earthscope: FakeEarthScope) -> None:
    auth = make_auth(fake_earthscope, fake_earthscope.issue_tokens().replace(expires_at=PAST))
    barrier = threading.Barrier(16)
    statuses: list[int] = []
    with httpx.Client(auth=auth) as http:

        def worker() -> None:
            barrier.wait()
            statuses.append(http.get(fake_earthscope.url + "beta/user/profile").status_code)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    auth.close()
    assert statuses == [200] * 16
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


def test_sync_flow_retries_stale_401(fake_earthscope: FakeEarthScope) -> None:
    auth = make_auth(fake_earthscope, stale_but_trusted(fake_earthscope))
    with httpx.Client(auth=auth) as http:
        assert http.get(fake_earthscope.url + "beta/user/profile").status_code == 200
    auth.close()
    assert fake_earthscope.count("profile") == 2


def test_sync_fast_path_starts_no_thread(fake_earthscope: FakeEarthScope) -> None:
    auth = make_auth(fake_earthscope, fake_earthscope.issue_tokens())
    before = threading.active_count()
    with httpx.Client(auth=auth) as http:
        anyio.run(auth.manager.load)
        assert http.get(fake_earthscope.url + "beta/user/profile").status_code == 200
    assert threading.active_count() == before
