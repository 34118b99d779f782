"""plan.write_parquet: one file per station and day, atomic, resumable after a SIGKILL;
and the blocking facade (EarthScopeClient) inside a running event loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from earthscope_sdk_async import EarthScopeClient, MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope, RecordedRequest

DAY = datetime(2025, 3, 1, tzinfo=timezone.utc)
PLAN = {
    "start_datetime": DAY,
    "end_datetime": DAY + timedelta(days=2),
    "station_name": ["P041", "P042"],
    "sample_interval": timedelta(seconds=1),
    "system": "G",
    "satellite": [1],
    "obs_code": "1C",
}
FILES = ["P04100USA/2025-03-01.parquet", "P04100USA/2025-03-02.parquet",
         "P04200USA/2025-03-01.parquet", "P04200USA/2025-03-02.parquet"]  # fmt: skip

CHILD = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timedelta
    from earthscope_sdk_async import EarthScopeClient, MemoryTokenStore, Settings, Tokens
    args = json.loads(sys.argv[1])
    tokens = Tokens(access_token=args["token"], expires_at=datetime.fromisoformat(args["exp"]))
    with EarthScopeClient(Settings(api_url=args["url"], domain=args["url"]),
                          store=MemoryTokenStore(tokens)) as client:
        plan = client.data.gnss_observations(
            start_datetime=datetime(2025, 3, 1), end_datetime=datetime(2025, 3, 3),
            station_name=["P041", "P042"], sample_interval=timedelta(seconds=1),
            system="G", satellite=[1], obs_code="1C")
        plan.write_parquet(args["dest"], concurrency=1)
    """
)


def sync_client(fake: FakeEarthScope) -> EarthScopeClient:
    return EarthScopeClient(fake.settings(), store=MemoryTokenStore(fake.issue_tokens()))


def session_edid(fake: FakeEarthScope, name: str) -> str:
    return next(s.edid for s in fake.catalogue.sessions if s.name == name)


def test_write_parquet_partitions_and_skips_on_rerun(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    with sync_client(fake_earthscope) as client:
        plan = client.data.gnss_observations(**PLAN)
        report = plan.write_parquet(tmp_path)
        again = client.data.gnss_observations(**PLAN).write_parquet(tmp_path)
        whole = plan.fetch()
    assert report.written == FILES and report.rows == 4 * 86400
    assert again.written == [] and again.skipped == FILES
    tables = [pq.read_table(tmp_path / name) for name in FILES]
    assert all(t.num_rows == 86400 for t in tables)
    combined = pa.concat_tables(tables).sort_by([("timestamp", "ascending"), ("igs", "ascending")])
    assert combined.equals(whole.cast(combined.schema))
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_write_parquet_resumes_after_sigkill(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    arrived = threading.Event()
    p042 = session_edid(fake_earthscope, "P042.1hz")

    def hang(request: RecordedRequest) -> bool:
        if request.query.get("session_id") == p042:
            arrived.set()
            return True
        return False

    fake_earthscope.add_fault(
        "/beta/data-products/gnss/observations", action="pass", delay=3600, match=hang
    )
    tokens = fake_earthscope.issue_tokens()
    assert tokens.expires_at is not None
    args = {"url": fake_earthscope.url, "token": tokens.access_token,
            "exp": tokens.expires_at.isoformat(), "dest": str(tmp_path)}  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)])
    try:
        assert arrived.wait(60), "the child never reached the station P042"
        # partitions run one at a time: P041's two files are complete, P042's first is open
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    finals = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet"))
    assert finals == FILES[:2]
    assert all(pq.read_table(tmp_path / f).num_rows == 86400 for f in finals)
    fake_earthscope.clear_faults()
    fake_earthscope.clear_log()
    with sync_client(fake_earthscope) as client:
        report = client.data.gnss_observations(**PLAN).write_parquet(tmp_path)
    assert report.skipped == FILES[:2] and report.written == FILES[2:]
    sessions = {
        r.query.get("session_id") for r in fake_earthscope.requests if "data-products" in r.path
    }
    assert sessions == {p042}  # the completed station was not fetched again
    assert all(pq.read_table(tmp_path / f).num_rows == 86400 for f in FILES)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


async def test_sync_facade_inside_a_running_loop(fake_earthscope: FakeEarthScope) -> None:
    # a notebook cell: an event loop runs in this thread while the blocking API is used
    with sync_client(fake_earthscope) as client:
        stations = client.discover.list_station_datasources(station_name=["P041", "P042"])
        plan = client.data.gnss_observations(
            start_datetime=DAY, end_datetime=DAY + timedelta(days=2), station_name="P041",
            sample_interval=timedelta(seconds=15), system="G",
        )  # fmt: skip
        table = plan.fetch()
        days = [t.num_rows for t in plan.group_by_day()]
        count = len(plan)
    assert [s.names["IGS"] for s in stations] == ["P04100USA", "P04200USA"]
    assert table.num_rows == 2 * 5760 * 16
    assert days == [5760 * 16, 5760 * 16] and count == 2
