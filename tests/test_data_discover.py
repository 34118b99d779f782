"""client.discover: query strings (reference §1/§2), models, paging past 1,000, limits."""

from __future__ import annotations

import warnings
from datetime import timedelta

import httpx
import pytest
import respx

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    ConfigError,
    DiscoveryLimitWarning,
    InvalidResponseError,
    MemoryTokenStore,
    SessionDatasource,
    StationDatasource,
    StreamDatasource,
    StreamType,
)
from earthscope_sdk_async.testing import FakeEarthScope

API = "https://api.example.test/"


def make_client(fake: FakeEarthScope) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(fake.settings(), store=MemoryTokenStore(fake.issue_tokens()))


def respx_client() -> AsyncEarthScopeClient:
    from datetime import datetime, timezone

    from earthscope_sdk_async import Settings, Tokens

    tokens = Tokens(access_token="a.b.c", expires_at=datetime(2100, 1, 1, tzinfo=timezone.utc))
    return AsyncEarthScopeClient(Settings(api_url=API), store=MemoryTokenStore(tokens))


def page(items: list[object], *, has_next: bool = False, offset: int = 0) -> httpx.Response:
    return httpx.Response(
        200, json={"has_next": has_next, "offset": offset, "limit": 100, "items": items}
    )


async def test_session_query_string_encoding() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=API + "beta/discover/datasource/session").mock(
            return_value=page([])
        )
        async with respx_client() as client:
            await client.discover.list_session_datasources(
                network_name=["NOTA", "GAGE"],
                station_name="P041",
                sample_interval=timedelta(seconds=15),
                roll=timedelta(days=1),
                with_parents=True,
            )
    params = route.calls[0].request.url.params
    assert params.get_list("network_name") == ["NOTA", "GAGE"]
    assert params.get_list("station_name") == ["P041"]
    assert params["sample_interval"] == "15000.0"
    assert params["roll"] == "86400.0"
    assert params["with_parents"] == "true"
    assert params["with_parent_edids"] == "false"
    assert params["with_edid_only"] == "false"
    assert params["limit"] == "100" and params["offset"] == "0"
    assert "network_edid" not in params and "session_name" not in params


async def test_stream_filters_and_type() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=API + "beta/discover/datasource/stream").mock(
            return_value=page([])
        )
        async with respx_client() as client:
            await client.discover.list_stream_datasources(
                stream_type=StreamType.GNSS_PPP,
                facility=["cwu", "ucb"],
                software="rtnet",
                label="x",
            )
    params = route.calls[0].request.url.params
    assert params["stream_type"] == "gnss_ppp"
    assert params.get_list("facility") == ["cwu", "ucb"]
    assert params.get_list("software") == ["rtnet"]


async def test_invalid_item_is_a_typed_error() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=API + "beta/discover/datasource/station").mock(
            return_value=page([{"names": {}}])
        )
        async with respx_client() as client:
            with pytest.raises(InvalidResponseError, match="edid"):
                await client.discover.list_station_datasources()


async def test_bad_arguments_are_config_errors(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="limit"):
            await client.discover.list_network_datasources(limit=-1)
        with pytest.raises(ConfigError, match="sample_interval"):
            await client.discover.list_session_datasources(sample_interval=15)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="stream_type"):
            await client.discover.list_stream_datasources(stream_type="nope")
        with pytest.raises(ConfigError, match="station_name"):
            await client.discover.list_station_datasources(station_name=[""])


async def test_models_against_the_fake(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        stations = await client.discover.list_station_datasources(
            station_name="P041", with_parent_edids=True
        )
        sessions = await client.discover.list_session_datasources(
            station_name="P041", with_parents=True, sample_interval=timedelta(seconds=1)
        )
        streams = await client.discover.list_stream_datasources(
            station_name="P041", stream_type="gnss_ppp", with_parents=True
        )
        edids = await client.discover.list_network_datasources(with_edid_only=True)
    (station,) = stations
    assert isinstance(station, StationDatasource) and station.names["IGS"] == "P04100USA"
    assert station.network_edids and len(station.network_edids) == 2  # NOTA and GAGE
    (session,) = sessions
    assert isinstance(session, SessionDatasource)
    assert session.sample_interval == timedelta(seconds=1) and session.roll == timedelta(hours=1)
    assert session.station is not None and session.station.edid == station.edid
    assert session.to_arrow_columns(fields=["edid"], namespaces=["igs"]) == {
        "edid": session.edid,
        "igs": "P04100USA",
    }
    (stream,) = streams
    assert isinstance(stream, StreamDatasource) and stream.stream_type is StreamType.GNSS_PPP
    assert all(isinstance(e, str) and len(e) == 26 for e in edids) and len(edids) == 2
    with pytest.raises(AttributeError):
        station.edid = "x"  # type: ignore[misc]


async def test_paging_past_1000_is_complete_and_truncation_warns(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.catalogue.add_stations(1100)
    total = len(fake_earthscope.catalogue.stations)
    async with make_client(fake_earthscope) as client:
        everything = await client.discover.list_station_datasources(with_edid_only=True, limit=None)
        with pytest.warns(DiscoveryLimitWarning, match="limit=1000"):
            capped = await client.discover.list_station_datasources(with_edid_only=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exact = await client.discover.list_station_datasources(with_edid_only=True, limit=total)
    assert total > 1000
    assert len(everything) == total == len(set(everything)) == len(exact)
    assert capped == everything[:1000]
    offsets = [int(r.query["offset"]) for r in fake_earthscope.requests if "offset" in r.query]
    assert offsets[: (total + 99) // 100] == list(range(0, total, 100))
