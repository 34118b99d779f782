"""``client.user.get_profile()`` returns a typed, frozen :class:`UserProfile` with
earthscope-sdk 1.9.3's fields; the fake's profile carries every one of them; an unusable
answer is an :class:`ApiError` naming the field (issue 18, items 9 and 10)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from earthscope_sdk_async import ApiError, AsyncEarthScopeClient, MemoryTokenStore, UserProfile
from earthscope_sdk_async._client._profile import parse_user_profile
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")

# earthscope-sdk 1.9.3's UserProfile (docs/reference: earthscope-api.md 4.1): all required.
FIELDS_193 = {
    "first_name": str,
    "last_name": str,
    "country_code": str,
    "region_code": (str, type(None)),
    "institution": str,
    "work_sector": str,
    "user_id": str,
    "primary_email": str,
    "created_at": str,  # ISO 8601 in JSON
    "updated_at": str,
}


def client(fake: FakeEarthScope) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(fake.settings(), store=MemoryTokenStore(fake.issue_tokens()))


async def test_get_profile_is_a_typed_frozen_model(fake_earthscope: FakeEarthScope) -> None:
    async with client(fake_earthscope) as es:
        profile = await es.user.get_profile()
    assert isinstance(profile, UserProfile)
    assert profile.user_id == "auth0|fake-user"
    assert profile.primary_email == "fake-user@example.org"
    assert profile.region_code == "CO"
    assert profile.created_at == datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)
    assert profile.raw["user_type"] == "researcher"  # newer than the model: kept raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.user_id = "someone else"  # type: ignore[misc]
    with pytest.raises(TypeError):
        profile.raw["user_id"] = "x"  # type: ignore[index]


async def test_the_fakes_profile_has_every_field_193_requires(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with client(fake_earthscope) as es:
        raw = (await es.user.get_profile()).raw
    for name, kind in FIELDS_193.items():
        assert name in raw, name
        assert isinstance(raw[name], kind), name
    model = {f.name for f in dataclasses.fields(UserProfile)} - {"raw"}
    assert model == set(FIELDS_193)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"primary_email": None}, "field 'primary_email' must be a string"),
        ({"created_at": "yesterday"}, "field 'created_at' is not an ISO 8601 date-time"),
        ({"region_code": 5}, "field 'region_code' must be a string or null"),
    ],
)
async def test_an_unusable_profile_is_an_api_error_naming_the_field(
    fake_earthscope: FakeEarthScope, change: dict[str, object], problem: str
) -> None:
    async with client(fake_earthscope) as es:
        good = dict((await es.user.get_profile()).raw)
        fake_earthscope.add_fault("profile", status=200, json={**good, **change})
        with pytest.raises(ApiError) as info:
            await es.user.get_profile()
    assert info.value.status_code == 200
    assert (info.value.detail or "").startswith(problem)


def test_missing_fields_are_named_and_region_may_be_null() -> None:
    data = {name: "x" for name in FIELDS_193}
    data.update(created_at="2024-01-01T00:00:00", updated_at="2024-01-02T00:00:00+02:00")
    data["region_code"] = None
    profile = parse_user_profile(data)
    assert profile.region_code is None
    assert profile.created_at.tzinfo is timezone.utc  # naive: read as UTC
    del data["institution"]
    with pytest.raises(ValueError, match="field 'institution' is missing"):
        parse_user_profile(data)


async def test_userinfo_and_profile_bodies_fail_with_the_same_error_type(
    fake_earthscope: FakeEarthScope,
) -> None:
    """One error type for unusable bodies from the user endpoints: ApiError, never the
    OAuth flows' InvalidResponseError."""
    fake_earthscope.add_fault("userinfo", status=200, json={"email": "a@b"})
    fake_earthscope.add_fault("profile", status=200, body="<html>")
    async with client(fake_earthscope) as es:
        with pytest.raises(ApiError) as userinfo:
            await es.user.get_userinfo()
        with pytest.raises(ApiError) as profile:
            await es.user.get_profile()
    assert type(userinfo.value) is type(profile.value) is ApiError
