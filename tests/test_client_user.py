"""client.user: profile, userinfo (C50, C51), anonymized ids, AWS credentials, end to end."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from _helpers import FakeClock

from earthscope_sdk_async import (
    ApiError,
    ConfigError,
    MemoryTokenStore,
    Tokens,
)
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")


def make_client(
    fake: FakeEarthScope,
    *,
    clock: FakeClock | None = None,
    tokens: Tokens | None = None,
    **settings: object,
) -> AsyncEarthScopeClient:
    store = MemoryTokenStore(tokens or fake.issue_tokens())
    return AsyncEarthScopeClient(fake.settings(**settings), store=store, clock=clock)


# -- profile -------------------------------------------------------------------------------


async def test_get_profile(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        profile = await client.user.get_profile()
    assert profile.user_id == "auth0|fake-user"
    request = fake_earthscope.requests[-1]
    assert request.path == "/beta/user/profile" and request.method == "GET"
    assert request.headers["authorization"].startswith("Bearer ")  # C46: header, not query
    assert request.query == {}
    assert request.headers["user-agent"].startswith("earthscope-sdk-async/")


@pytest.mark.parametrize(
    ("fault", "problem"),
    [({"json": [1, 2]}, "expected a JSON object"), ({"body": "<html>"}, "not JSON")],
)
async def test_profile_unusable_body_is_api_error(
    fake_earthscope: FakeEarthScope, fault: dict[str, object], problem: str
) -> None:
    fake_earthscope.add_fault("profile", status=200, headers={"x-request-id": "r-1"}, **fault)  # type: ignore[arg-type]
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ApiError, match=problem) as info:
            await client.user.get_profile()
    assert info.value.status_code == 200 and info.value.request_id == "r-1"


# -- userinfo ------------------------------------------------------------------------------


async def test_userinfo_c51_cached(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    async with make_client(fake_earthscope, clock=clock) as client:
        first = await client.user.get_userinfo()
        first["sub"] = "mutated by the caller"
        second = await client.user.get_userinfo()
        assert fake_earthscope.count("userinfo") == 1
        assert second["sub"] == "auth0|fake-user"  # callers get copies
        await client.user.get_userinfo(refresh=True)
        assert fake_earthscope.count("userinfo") == 2
        clock.t += 61  # the cache lasts 60 s
        await client.user.get_userinfo()
        assert fake_earthscope.count("userinfo") == 3
    userinfo = next(r for r in fake_earthscope.requests if r.endpoint == "userinfo")
    assert userinfo.headers["authorization"].startswith("Bearer ")


async def test_userinfo_concurrent_callers_share_one_request(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("userinfo", action="pass", delay=0.2)
    async with make_client(fake_earthscope) as client, anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(client.user.get_userinfo)
    assert fake_earthscope.count("userinfo") == 1


async def test_userinfo_cached_per_access_token(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        await client.user.get_userinfo()
        await client.refresh()  # a new access token: the cache no longer applies
        await client.user.get_userinfo()
    assert fake_earthscope.count("userinfo") == 2


async def test_userinfo_c50_sub_must_match_id_token(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("userinfo", status=200, json={"sub": "auth0|someone-else"})
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ApiError, match="sub") as info:
            await client.user.get_userinfo()
        assert info.value.status_code == 200
        assert "the 'sub' claims differ" in (info.value.detail or "")
        # nothing was cached: the next call asks again and gets the right user
        assert (await client.user.get_userinfo())["sub"] == "auth0|fake-user"


async def test_userinfo_without_id_token_is_not_compared(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens().replace(id_token=None)
    fake_earthscope.add_fault("userinfo", status=200, json={"sub": "auth0|x"})
    async with make_client(fake_earthscope, tokens=tokens) as client:
        assert (await client.user.get_userinfo())["sub"] == "auth0|x"


async def test_userinfo_without_sub_is_rejected(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("userinfo", status=200, json={"email": "a@b"})
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ApiError, match="no 'sub' claim"):
            await client.user.get_userinfo()


async def test_userinfo_c50_needs_openid_scope(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope, scope="profile email offline_access") as client:
        with pytest.raises(ConfigError, match="openid"):
            await client.user.get_userinfo()
    assert fake_earthscope.count("userinfo") == 0


# -- anonymized ids ------------------------------------------------------------------------


async def test_lookup_anon_body_on_the_wire(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        found = await client.user.lookup_anon(ids=["u1", "u2"], emails=("a@example.org",))
    assert [f.get("id") or f.get("email") for f in found] == ["u1", "u2", "a@example.org"]
    request = fake_earthscope.requests[-1]
    assert (request.method, request.path) == ("POST", "/user/anon/")
    assert request.json == {"ids": ["u1", "u2"], "emails": ["a@example.org"]}
    assert request.headers["content-type"] == "application/json"


async def test_lookup_anon_rejects_a_bare_string(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="ids"):
            await client.user.lookup_anon(ids="u1")
    assert fake_earthscope.count("api") == 0


async def test_lookup_anon_path_is_configurable(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        client.user.anon_lookup_path = "user/anon"
        await client.user.lookup_anon(ids=["u"])
    assert fake_earthscope.requests[-1].path == "/user/anon"


async def test_logout_clears_cached_credentials(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        await client.user.get_aws_credentials(role="s3-miniseed-v2")
        await client.logout(revoke=False)
        await client.tokens.save(fake_earthscope.issue_tokens(sub="auth0|other"))
        await client.user.get_aws_credentials(role="s3-miniseed-v2")
    assert fake_earthscope.count("api") == 2
