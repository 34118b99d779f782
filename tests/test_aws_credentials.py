"""client.user.get_aws_credentials: roles, parameters, cache, single flight, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import anyio.lowlevel
import pytest
from _helpers import FakeClock

from earthscope_sdk_async import (
    ApiError,
    AsyncEarthScopeClient,
    AwsCredentials,
    AwsCredentialsRequest,
    AwsRoleDeniedError,
    AwsTemporaryCredentials,
    ConfigError,
    MemoryTokenStore,
)
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")

V2 = "s3-miniseed-v2"


def make_client(fake: FakeEarthScope, clock: FakeClock | None = None) -> AsyncEarthScopeClient:
    store = MemoryTokenStore(fake.issue_tokens())
    return AsyncEarthScopeClient(fake.settings(), store=store, clock=clock)


def aws_requests(fake: FakeEarthScope) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path.startswith("/beta/user/credentials/aws/")]


async def test_credentials_fields_repr_and_boto_metadata(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        creds = await client.user.get_aws_credentials(role=V2)
    assert isinstance(creds, AwsCredentials) and AwsTemporaryCredentials is AwsCredentials
    assert creds.aws_access_key_id.startswith("ASIA")
    assert creds.expiration.tzinfo is not None and creds.expiration.utcoffset() == timedelta(0)
    assert timedelta(minutes=55) < creds.ttl <= timedelta(hours=1)
    assert not creds.is_expired() and not creds.is_expired(timedelta(minutes=5))
    assert creds.is_expired(timedelta(hours=2)) and creds.is_expired(7200)
    # secrets are plain strings for every consumer, but never in repr
    assert type(creds.aws_secret_access_key) is str and "*" not in creds.aws_secret_access_key
    assert creds.aws_secret_access_key not in repr(creds)
    assert creds.aws_session_token not in repr(creds)
    assert creds.boto_metadata == {
        "access_key": creds.aws_access_key_id,
        "secret_key": creds.aws_secret_access_key,
        "token": creds.aws_session_token,
        "expiry_time": creds.expiration.isoformat(),
    }
    assert fake_earthscope.requests[-1].path == f"/beta/user/credentials/aws/{V2}"


async def test_params_are_sent_and_cache_key_is_normalised(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        first = await client.user.get_aws_credentials(role=V2, network="IU", year=2024)
        same = await client.user.get_aws_credentials(role=V2, year="2024", network="IU")
        as_request = await client.user.get_aws_credentials(
            role=AwsCredentialsRequest(V2, {"network": "IU", "year": 2024})
        )
        other_year = await client.user.get_aws_credentials(role=V2, network="IU", year=2025)
        no_params = await client.user.get_aws_credentials(role=V2)
    assert same is first and as_request is first
    assert other_year is not first and no_params is not first
    assert aws_requests(fake_earthscope) == [
        {"network": "IU", "year": "2024"},
        {"network": "IU", "year": "2025"},
        {},
    ]
    assert not any("?" in r.path for r in fake_earthscope.requests)
    assert next((i.role, i.params) for i in fake_earthscope.aws.issued) == (
        V2,
        {"network": "IU", "year": "2024"},
    )


def test_request_object_cache_key_and_urls() -> None:
    a = AwsCredentialsRequest(V2, {"year": 2024, "network": "IU"})
    b = AwsCredentialsRequest(V2, {"network": "IU", "year": "2024"})
    assert a == b and hash(a) == hash(b) and a.cache_key() == b.cache_key()
    assert a.cache_key().startswith(V2 + ".") and len(a.cache_key()) == len(V2) + 13
    assert AwsCredentialsRequest(V2).cache_key() == V2
    assert a.build_params() == {"network": "IU", "year": "2024"}
    assert a.build_url("https://api.example.org") == (
        f"https://api.example.org/beta/user/credentials/aws/{V2}"
    )
    for bad in ({"year": 2.5}, {"year": True}, {"year": None}, {"": "x"}):
        with pytest.raises(ConfigError, match="parameter"):
            AwsCredentialsRequest(V2, bad)  # type: ignore[arg-type]


async def test_request_object_with_extra_params_is_config_error(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="not both"):
            await client.user.get_aws_credentials(role=AwsCredentialsRequest(V2), year=2024)
    assert aws_requests(fake_earthscope) == []


async def test_role_is_quoted_and_validated(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.aws.roles.add("my role")
    async with make_client(fake_earthscope) as client:
        await client.user.get_aws_credentials(role="my role")
        assert fake_earthscope.requests[-1].path == "/beta/user/credentials/aws/my%20role"
        for bad in ("", "  ", "a/b", "../profile"):
            with pytest.raises(ConfigError, match="role"):
                await client.user.get_aws_credentials(role=bad)
    assert fake_earthscope.count("api") == 1


async def test_no_role_warns_and_uses_the_legacy_role(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.warns(DeprecationWarning, match="s3-miniseed-v2") as record:
            await client.user.get_aws_credentials()
    assert "2027" in str(record[0].message)
    assert record[0].filename == __file__  # points at the caller
    assert fake_earthscope.requests[-1].path == "/beta/user/credentials/aws/s3-miniseed"


async def test_unknown_role_is_a_typed_403(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(AwsRoleDeniedError, match="no-such-role") as info:
            await client.user.get_aws_credentials(role="no-such-role")
        # not cached: a second call asks again
        with pytest.raises(AwsRoleDeniedError):
            await client.user.get_aws_credentials(role="no-such-role")
    assert isinstance(info.value, ApiError) and info.value.status_code == 403
    assert info.value.role == "no-such-role"
    assert fake_earthscope.count("api") == 2  # a 403 is not retried


async def test_cached_per_role_and_force(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        first = await client.user.get_aws_credentials(role=V2)
        assert await client.user.get_aws_credentials(role=V2) is first
        other = await client.user.get_aws_credentials(role="s3-dropoff")
        assert other is not first
        forced = await client.user.get_aws_credentials(role=V2, force=True)
        assert forced != first
        assert await client.user.get_aws_credentials(role=V2) is forced
    assert fake_earthscope.count("api") == 3


async def test_single_flight_per_key(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("api", action="pass", delay=0.2)
    results: dict[int, list[AwsCredentials]] = {2024: [], 2025: []}

    async def fetch(client: AsyncEarthScopeClient, year: int) -> None:
        # half the callers spell the year as text: still one key
        value: int | str = year if len(results[year]) % 2 else str(year)
        results[year].append(await client.user.get_aws_credentials(role=V2, year=value))

    async with make_client(fake_earthscope) as client, anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(fetch, client, 2024 if i % 2 else 2025)
    assert fake_earthscope.count("api") == 2  # one request per key
    for creds in results.values():
        assert len(creds) == 50 and all(c is creds[0] for c in creds)
    assert results[2024][0] is not results[2025][0]


async def test_ttl_threshold_and_refresh_near_expiry(fake_earthscope: FakeEarthScope) -> None:
    clock = FakeClock()
    fake_earthscope.aws.clock = clock.now
    async with make_client(fake_earthscope, clock) as client:
        first = await client.user.get_aws_credentials(role=V2)
        clock.t += 3600 - 300 - 30  # 5.5 min left: reused with the default 5-min threshold
        assert await client.user.get_aws_credentials(role=V2) is first
        # a caller needing 10 minutes gets new ones
        longer = await client.user.get_aws_credentials(role=V2, ttl_threshold=600)
        assert longer is not first
        assert await client.user.get_aws_credentials(role=V2) is longer
        clock.t += 3600 - 29  # within 30 s of expiry
        assert (
            await client.user.get_aws_credentials(role=V2, ttl_threshold=timedelta(seconds=30))
            is not longer
        )
    assert fake_earthscope.count("api") == 3


async def test_credentials_expiring_sooner_than_the_threshold_are_refetched(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.aws.lifetime = 120  # the threshold (300 s) exceeds the lifetime
    async with make_client(fake_earthscope) as client:
        await client.user.get_aws_credentials(role=V2)
        await client.user.get_aws_credentials(role=V2)
    assert fake_earthscope.count("api") == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"aws_access_key_id": None}, "aws_access_key_id"),
        ({"aws_secret_access_key": 42}, "aws_secret_access_key"),
        ({"aws_session_token": ""}, "aws_session_token"),
        ({"expiration": "tomorrow"}, "expiration"),
        ({"expiration": None}, "expiration"),
    ],
)
async def test_bad_field_is_named(
    fake_earthscope: FakeEarthScope, change: dict[str, object], field: str
) -> None:
    body: dict[str, object] = {
        "aws_access_key_id": "AKIA-SENTINEL",
        "aws_secret_access_key": "SECRET-SENTINEL",
        "aws_session_token": "TOKEN-SENTINEL",
        "expiration": "2100-01-01T00:00:00Z",
        **change,
    }
    fake_earthscope.add_fault("api", status=200, json=body)
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ApiError, match=field) as info:
            await client.user.get_aws_credentials(role=V2)
    text = str(info.value) + repr(info.value) + str(info.value.detail)
    assert "SECRET-SENTINEL" not in text and "TOKEN-SENTINEL" not in text
    assert info.value.status_code == 200


async def test_expiration_with_z_and_naive_is_utc(fake_earthscope: FakeEarthScope) -> None:
    body = {
        "aws_access_key_id": "AKIA",
        "aws_secret_access_key": "s",
        "aws_session_token": "t",
        "expiration": "2100-01-01T00:00:00",
    }
    fake_earthscope.add_fault("api", status=200, json=body)
    async with make_client(fake_earthscope) as client:
        creds = await client.user.get_aws_credentials(role=V2)
    assert creds.expiration == datetime(2100, 1, 1, tzinfo=timezone.utc)
