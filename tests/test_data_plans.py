"""client.data query plans end to end against the fake EarthScope (asyncio and trio)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import anyio
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    ConfigError,
    DownloadProgress,
    EarthScopeError,
    FloatFilter,
    GeodeticCoordinate,
    MemoryLimitExceededError,
    MemoryTokenStore,
    TimeoutExceededError,
)
from earthscope_sdk_async.testing import FakeEarthScope, RecordedRequest

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")

OBS = "/beta/data-products/gnss/observations"
DAY = datetime(2025, 3, 1, tzinfo=timezone.utc)
ROWS_PER_EPOCH = 32  # the fake: 16 satellites x 2 codes


def make_client(fake: FakeEarthScope) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(fake.settings(), store=MemoryTokenStore(fake.issue_tokens()))


def data_requests(fake: FakeEarthScope) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.path.startswith("/beta/data-products/")]


def assert_ordered(table: pa.Table, keys: list[str]) -> None:
    expected = table.sort_by([(k, "ascending") for k in keys])
    assert table.equals(expected)


async def test_chunking_at_the_epoch_limit_has_no_gaps_or_duplicates(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.catalogue.max_epochs = 11520  # the service answers 422 beyond
    start = DAY + timedelta(seconds=7)  # not on the sample grid: chunk edges fall between epochs
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=start,
            end_datetime=start + timedelta(days=5),
            station_name="P041",
            sample_interval=timedelta(seconds=15),
        )
        table = await plan.fetch()
        assert len(plan) == 3  # 2 days (11,520 epochs), 2 days, 1 day
    windows = [
        (r.query["start_datetime"], r.query["end_datetime"]) for r in data_requests(fake_earthscope)
    ]
    assert sorted(windows) == [
        ("2025-03-01T00:00:07+00:00", "2025-03-03T00:00:07+00:00"),
        ("2025-03-03T00:00:07+00:00", "2025-03-05T00:00:07+00:00"),
        ("2025-03-05T00:00:07+00:00", "2025-03-06T00:00:07+00:00"),
    ]
    times = np.unique(table["timestamp"].cast(pa.int64()).to_numpy())
    assert table.num_rows == len(times) * ROWS_PER_EPOCH == 5 * 5760 * ROWS_PER_EPOCH
    assert set(np.diff(times)) == {15000}  # contiguous: no gap at the chunk edges
    keys = pc.binary_join_element_wise(
        table["timestamp"].cast(pa.string()), table["system"], table["satellite"].cast(pa.string()),
        table["obs_code"], "|",
    )  # fmt: skip
    assert pc.count_distinct(keys).as_py() == table.num_rows  # no duplicates


async def test_one_hertz_sessions_use_three_hour_requests(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY + timedelta(hours=1, minutes=30),
            end_datetime=DAY + timedelta(hours=8, minutes=30),
            station_name="P041",
            sample_interval=timedelta(seconds=1),
            system="G",
        )
        table = await plan.fetch()
    assert len(plan) == 3  # 3 h, 3 h, 1 h
    assert table.num_rows == 7 * 3600 * 16  # 8 GPS satellites x 2 codes
    assert_ordered(table, ["timestamp", "igs", "system", "satellite", "obs_code"])


async def test_404s_are_skipped_and_rows_are_ordered(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        table = await client.data.gnss_observations(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(hours=6),
            station_name=["P042", "P999", "P041"],  # P999 is decommissioned: 404
            sample_interval=timedelta(seconds=15),
        ).fetch()
    sessions = {r.query["session_id"] for r in data_requests(fake_earthscope)}
    assert len(sessions) == 3
    assert set(table["igs"].to_pylist()) == {"P04100USA", "P04200USA"}
    assert table.num_rows == 2 * 1440 * ROWS_PER_EPOCH
    assert_ordered(table, ["timestamp", "igs", "system", "satellite", "obs_code"])
    first = table.slice(0, 2 * ROWS_PER_EPOCH)
    assert first["igs"].to_pylist() == ["P04100USA"] * 32 + ["P04200USA"] * 32


async def test_all_404_plan_returns_an_empty_table_with_the_schema(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with make_client(fake_earthscope) as client:
        table = await client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(days=1), station_name="P999"
        ).fetch()
        full = await client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(minutes=1), station_name="P041"
        ).fetch()
    assert isinstance(table, pa.Table) and table.num_rows == 0
    assert table.schema == full.schema
    assert table.column_names == [
        "timestamp", "satellite", "obs_code", "range", "phase", "doppler", "snr", "slip",
        "flags", "fcn", "system", "igs",
    ]  # fmt: skip


async def test_filters_and_meta_fields_pass_through(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        table = await client.data.gnss_observations(
            start_datetime=datetime(2025, 3, 1),  # naive: UTC
            end_datetime=datetime(2025, 3, 1, 0, 10),
            station_name="P041",
            sample_interval=timedelta(seconds=15),
            system=["G", "R"],
            satellite=[1, 2],
            obs_code="1C",
            field=["range", "snr"],
            meta_fields=["edid", "4charid", "sample_interval"],
        ).fetch()
    (request,) = data_requests(fake_earthscope)
    assert request.query_list("system") == ["G", "R"]
    assert request.query_list("satellite") == ["1", "2"]
    assert request.query_list("obs_code") == ["1C"]
    assert request.query_list("field") == ["range", "snr"]
    assert request.query["start_datetime"] == "2025-03-01T00:00:00+00:00"
    assert request.headers["accept"] == "application/vnd.apache.arrow.stream"
    assert table.column_names == [
        "timestamp", "satellite", "obs_code", "range", "snr", "edid", "system", "4charid",
        "sample_interval",
    ]  # fmt: skip
    assert set(table["system"].to_pylist()) == {"G", "R"}
    assert set(table["obs_code"].to_pylist()) == {"1C"}
    assert set(table["4charid"].to_pylist()) == {"P041"}
    assert table["sample_interval"][0].as_py() == timedelta(seconds=15)
    assert table.num_rows == 40 * 4


async def test_group_by_day_iterates_one_table_per_day(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY + timedelta(hours=12),
            end_datetime=DAY + timedelta(days=2, hours=12),
            station_name=["P041", "P042"],
            sample_interval=timedelta(seconds=15),
        )
        whole = await plan.fetch()
        tables = [t async for t in plan.group_by_day()]
    days = [set(t["timestamp"].cast(pa.date32()).to_pylist()) for t in tables]
    assert days == [{date(2025, 3, 1)}, {date(2025, 3, 2)}, {date(2025, 3, 3)}]
    assert pa.concat_tables(tables).equals(whole)


async def test_sort_by_station_reverse_and_group_by_station(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(minutes=1),
            station_name=["P041", "P042"],
            sample_interval=timedelta(seconds=15),
        ).sort_by_station(reverse=True)
        with pytest.raises(ConfigError, match="plan"):
            len(plan)
        table = await plan.fetch()
        groups = [t["igs"].unique().to_pylist() async for t in plan.group_by_station()]
    assert table["igs"][0].as_py() == "P04200USA"
    assert groups == [["P04200USA"], ["P04100USA"]]


async def test_memory_limit_error_carries_the_partial_table(
    fake_earthscope: FakeEarthScope,
) -> None:
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(hours=9),
            station_name="P041",
            sample_interval=timedelta(seconds=1),
        ).with_concurrency(1)
        with pytest.raises(MemoryLimitExceededError) as caught:
            await plan.with_memory_limit(1).fetch()
    error = caught.value
    assert isinstance(error, MemoryError) and isinstance(error, EarthScopeError)
    assert error.total_request_count == 3 and error.successful_request_count == 1
    assert error.partial_table.num_rows == 3 * 3600 * ROWS_PER_EPOCH
    assert "memory limit" in str(error)


async def test_timeout_error_carries_the_partial_table(fake_earthscope: FakeEarthScope) -> None:
    second = "2025-03-01T03:00:00+00:00"
    fake_earthscope.add_fault(
        OBS, action="pass", delay=3600, match=lambda r: r.query.get("start_datetime") == second
    )
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(hours=6),
            station_name="P041",
            sample_interval=timedelta(seconds=1),
        ).with_concurrency(1)
        with pytest.raises(TimeoutExceededError) as caught:
            await plan.with_timeout(2).fetch()
    error = caught.value
    assert isinstance(error, TimeoutError) and isinstance(error, EarthScopeError)
    assert error.total_request_count == 2 and error.successful_request_count <= 1
    expected = 3 * 3600 * ROWS_PER_EPOCH if error.successful_request_count else 0
    assert error.partial_table.num_rows == expected
    assert error.partial_table.schema.names[:3] == ["timestamp", "satellite", "obs_code"]


async def test_settings_give_plans_their_default_limits(fake_earthscope: FakeEarthScope) -> None:
    settings = fake_earthscope.settings().replace(
        query_plan_memory_limit_bytes=1, query_plan_timeout_seconds=600.0
    )
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    async with AsyncEarthScopeClient(settings, store=store) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(hours=9),
            station_name="P041",
            sample_interval=timedelta(seconds=1),
        ).with_concurrency(1)
        assert (plan.memory_limit, plan.timeout) == (1, 600.0)
        with pytest.raises(MemoryLimitExceededError) as caught:
            await plan.fetch()
        assert caught.value.successful_request_count == 1
        table = await plan.with_memory_limit(None).with_timeout(None).fetch()
        assert (plan.memory_limit, plan.timeout) == (None, None)
    assert table.num_rows == 9 * 3600 * ROWS_PER_EPOCH


async def test_settings_timeout_applies_to_plans(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault(OBS, action="pass", delay=3600)
    settings = fake_earthscope.settings().replace(query_plan_timeout_seconds=1.0)
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    async with AsyncEarthScopeClient(settings, store=store) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(hours=1), station_name="P041"
        )
        with pytest.raises(TimeoutExceededError) as caught:
            await plan.fetch()
    assert caught.value.successful_request_count == 0
    assert caught.value.partial_table.num_rows == 0


async def test_cancellation_mid_fetch_leaves_the_client_usable(
    fake_earthscope: FakeEarthScope,
) -> None:
    arrived = threading.Event()

    def hang(request: RecordedRequest) -> bool:
        arrived.set()
        return True

    fake_earthscope.add_fault(OBS, action="pass", delay=3600, match=hang)
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(hours=1), station_name="P041",
            sample_interval=timedelta(seconds=15),
        )  # fmt: skip
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                await plan.fetch()
                raise AssertionError("the fetch should have been cancelled")

            tg.start_soon(run)
            await anyio.to_thread.run_sync(arrived.wait, abandon_on_cancel=True)
            tg.cancel_scope.cancel()
        table = await plan.fetch()  # the same plan runs again, fully
    assert table.num_rows == 240 * ROWS_PER_EPOCH


async def test_positions_plan(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_instantaneous_positions(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(days=1, hours=1),
            station_name=["P042", "P041", "P999"],
            field=["east", "sig_ee", "ingest_latency"],
        )
        table = await plan.fetch()
        assert len(plan) == 6  # 24 h periods x 3 ppp streams
    requests = data_requests(fake_earthscope)
    assert {tuple(r.query_list("field")) for r in requests} == {("east", "sigEE", "ingestLatency")}
    streams = [r for r in fake_earthscope.requests if "/datasource/stream" in r.path]
    assert streams[0].query["stream_type"] == "gnss_ppp"
    assert table.column_names == [
        "timestamp", "east", "sig_ee", "ingest_latency", "igs", "facility", "software", "label",
    ]  # fmt: skip
    assert table.schema.field("ingest_latency").type == pa.duration("ms")
    assert table.num_rows == 2 * 25 * 3600
    assert_ordered(table, ["timestamp", "igs"])


async def test_ephemeris_plan(fake_earthscope: FakeEarthScope) -> None:
    point = GeodeticCoordinate(latitude=40.0, longitude=-105.0, height=1600.0, label="boulder")
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="reference_point"):
            client.data.gnss_ephemeris_positions(
                start_datetime=DAY, end_datetime=DAY + timedelta(hours=1), system="G",
                field=["elevation"],
            )  # fmt: skip
        table = await client.data.gnss_ephemeris_positions(
            start_datetime=DAY,
            end_datetime=DAY + timedelta(hours=1),
            system=["R", "G"],
            satellite=[1, 2, 3],
            field=["x", "elevation"],
            sample_interval=timedelta(minutes=1),
            reference_point=point,
            elevation_filter=FloatFilter(min=10.0),
        ).fetch()
    requests = data_requests(fake_earthscope)
    assert sorted(r.query["system"] for r in requests) == ["G", "R"]
    assert {r.query["sample_period"] for r in requests} == {"60000"}
    assert requests[0].query["elevation_filter"] == "[10.0,]"
    assert requests[0].query["latitude"] == "40.0"
    assert table.column_names == ["timestamp", "system", "satellite", "x", "elevation", "label"]
    assert set(table["label"].to_pylist()) == {"boulder"}
    assert pc.min(table["elevation"]).as_py() >= 10.0
    assert_ordered(table, ["timestamp", "system", "satellite"])


async def test_bad_plan_arguments(fake_earthscope: FakeEarthScope) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="at least one"):
            client.data.gnss_observations(start_datetime=DAY, end_datetime=DAY + timedelta(1))
        with pytest.raises(ConfigError, match="after"):
            client.data.gnss_observations(start_datetime=DAY, end_datetime=DAY, station_name="X")
        with pytest.raises(ConfigError, match="system"):
            client.data.gnss_observations(
                start_datetime=DAY, end_datetime=DAY + timedelta(1), station_name="X", system="Q"
            )
        with pytest.raises(ConfigError, match="FloatFilter"):
            FloatFilter()


async def test_truncated_and_503_answers_are_retried(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault(OBS, action="truncate")
    fake_earthscope.add_fault(OBS, status=503, headers={"retry-after": "0"})
    async with make_client(fake_earthscope) as client:
        table = await client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(hours=1), station_name="P041",
            sample_interval=timedelta(seconds=15),
        ).fetch()  # fmt: skip
    assert table.num_rows == 240 * ROWS_PER_EPOCH
    assert len(data_requests(fake_earthscope)) == 3  # truncated, 503, then the whole body
    assert fake_earthscope.pending_faults == 0


async def test_progress_callback_counts_requests_and_bytes(fake_earthscope: FakeEarthScope) -> None:
    seen: list[DownloadProgress] = []
    async with make_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(hours=6),
            station_name=["P041", "P999"], sample_interval=timedelta(seconds=1),
        )  # fmt: skip
        await plan.fetch(progress=seen.append)
    final = seen[-1]
    assert final.files_done == final.files_total == len(plan) == 4  # 404s count as done
    assert final.bytes_total == final.bytes_done > 6 * 3600 * ROWS_PER_EPOCH * 10


def test_the_fake_imports_pyarrow_only_for_data_routes() -> None:
    import subprocess
    import sys

    code = (
        "import sys, httpx\n"
        "from earthscope_sdk_async.testing import FakeEarthScope\n"
        "with FakeEarthScope() as fake:\n"
        "    h = {'authorization': 'Bearer ' + fake.issue_tokens().access_token}\n"
        "    url = fake.url + 'beta/discover/datasource/station'\n"
        "    httpx.get(url, headers=h).raise_for_status()\n"
        "    before = 'pyarrow' in sys.modules or 'numpy' in sys.modules\n"
        "    r = httpx.get(fake.url + 'beta/data-products/gnss/observations', headers=h,\n"
        "                  params={'session_id': fake.catalogue.sessions[0].edid,\n"
        "                          'start_datetime': '2025-03-01T00:00:00+00:00',\n"
        "                          'end_datetime': '2025-03-01T00:01:00+00:00'})\n"
        "    print(before, r.status_code, 'pyarrow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "200", "True"], done.stderr
