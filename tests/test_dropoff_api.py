"""client.dropoff's API calls against the fake EarthScope: list, history, summary, paging
that never truncates silently, errors, and the sync facade."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from earthscope_sdk_async import (
    ApiError,
    AsyncEarthScopeClient,
    ConfigError,
    DropoffObject,
    DropoffOptions,
    EarthScopeClient,
    MemoryTokenStore,
)
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")


def client_for(fake: FakeEarthScope, **options: object) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(
        fake.settings(),
        store=MemoryTokenStore(fake.issue_tokens()),
        dropoff=DropoffOptions(**options),  # type: ignore[arg-type]
    )


def seed(fake: FakeEarthScope, count: int, *, category: str = "miniseed") -> None:
    for i in range(count):
        fake.add_dropoff_object(f"day/{i:03d}.mseed", b"x" * i, category=category)


async def test_list_objects_returns_one_page_as_1_9_3(fake_earthscope: FakeEarthScope) -> None:
    seed(fake_earthscope, 5)
    async with client_for(fake_earthscope) as client:
        page = await client.dropoff.list_objects(category="miniseed", limit=2, offset=2)
    assert [o.path for o in page.items] == ["day/002.mseed", "day/003.mseed"]
    assert (page.offset, page.limit, page.has_next) == (2, 2, True)
    assert isinstance(page.items[0], DropoffObject) and page.items[0].size == 2
    request = fake_earthscope.requests[-1]
    assert request.path == "/beta/dropoff/miniseed"
    assert request.query == {"offset": "2", "limit": "2"}


async def test_list_all_objects_follows_every_page(fake_earthscope: FakeEarthScope) -> None:
    seed(fake_earthscope, 7)
    seed(fake_earthscope, 2, category="stationxml")
    async with client_for(fake_earthscope) as client:
        everything = await client.dropoff.list_all_objects(category="miniseed", page_size=3)
        streamed = [o.path async for o in client.dropoff.iter_objects(category="miniseed")]
    assert [o.path for o in everything] == [f"day/{i:03d}.mseed" for i in range(7)]
    assert streamed == [o.path for o in everything]
    pages = [r for r in fake_earthscope.requests if r.path == "/beta/dropoff/miniseed"]
    assert [r.query["offset"] for r in pages[:3]] == ["0", "3", "6"]


async def test_a_failing_page_fails_the_whole_listing(fake_earthscope: FakeEarthScope) -> None:
    seed(fake_earthscope, 5)
    fake_earthscope.add_fault(
        "/beta/dropoff/miniseed",
        status=403,
        json={"detail": "no"},
        match=lambda r: r.query.get("offset") == "2",
    )
    async with client_for(fake_earthscope) as client:
        with pytest.raises(ApiError) as caught:
            await client.dropoff.list_all_objects(category="miniseed", page_size=2)
    assert caught.value.status_code == 403


async def test_filters_are_sent_in_utc(fake_earthscope: FakeEarthScope) -> None:
    before = datetime(2030, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    async with client_for(fake_earthscope) as client:
        await client.dropoff.list_objects(
            category="stationxml",
            prefix="a/",
            status="rejected",
            submitted_before=before,
            submitted_after=datetime(2020, 1, 1),
        )
    query = fake_earthscope.requests[-1].query
    assert query["submitted_before"] == "2030-01-01T00:00:00+00:00"
    assert query["submitted_after"] == "2020-01-01T00:00:00+00:00"
    assert (query["prefix"], query["status"]) == ("a/", "rejected")


async def test_history_and_summary(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_dropoff_object("a.mseed", b"first")
    fake_earthscope.add_dropoff_object("a.mseed", b"second!")
    fake_earthscope.add_dropoff_object("b.mseed", b"b")
    fake_earthscope.set_dropoff_status("b.mseed", "rejected", "bad record")
    async with client_for(fake_earthscope) as client:
        history = await client.dropoff.get_object_history(key="a.mseed", category="miniseed")
        every = await client.dropoff.get_all_object_history(
            key="a.mseed", category="miniseed", page_size=1
        )
        summary = await client.dropoff.get_summary(category="miniseed")
    assert [o.size for o in history.items] == [7, 5]  # newest first
    assert [o.size for o in every] == [7, 5]
    counts = {c.status: c.count for c in summary.status_counts}
    assert counts == {"received": 1, "rejected": 1}


async def test_category_defaults_and_errors(fake_earthscope: FakeEarthScope) -> None:
    async with client_for(fake_earthscope, category="stationxml") as client:
        await client.dropoff.get_summary()
        assert fake_earthscope.requests[-1].path == "/beta/dropoff/stationxml/summary"
    async with client_for(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="No category provided"):
            await client.dropoff.list_objects()
        with pytest.raises(ConfigError, match="limit must be"):
            await client.dropoff.list_objects(category="miniseed", limit=0)


async def test_an_unexpected_answer_is_an_api_error(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("/beta/dropoff/miniseed", status=200, json={"items": "nope"})
    async with client_for(fake_earthscope) as client:
        with pytest.raises(ApiError, match="items"):
            await client.dropoff.list_objects(category="miniseed")


def test_sync_facade(fake_earthscope: FakeEarthScope) -> None:
    seed(fake_earthscope, 3)
    with EarthScopeClient(
        fake_earthscope.settings(), store=MemoryTokenStore(fake_earthscope.issue_tokens())
    ) as client:
        page = client.dropoff.list_objects(category="miniseed", limit=2)
        everything = client.dropoff.list_all_objects(category="miniseed", page_size=2)
        summary = client.dropoff.get_summary(category="miniseed")
    assert page.has_next and len(everything) == 3
    assert summary.status_counts[0].count == 3
