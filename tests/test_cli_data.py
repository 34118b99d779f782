"""`earthscope-async discover` and `earthscope-async data` against the fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from earthscope_sdk_async._cli._data_args import parse_interval
from earthscope_sdk_async._cli._errors import USAGE
from earthscope_sdk_async.testing import FakeEarthScope


def cli(fake: FakeEarthScope, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ES_")}
    env.update(HOME=str(home), ES_OAUTH2__DOMAIN=fake.url, ES_RESOURCES__API_URL=fake.url)
    tokens = home / ".earthscope" / "default" / "tokens.json"
    if not tokens.exists():
        tokens.parent.mkdir(parents=True, mode=0o700)
        tokens.write_text(fake.issue_tokens().to_json())
    return subprocess.run(
        [sys.executable, "-m", "earthscope_sdk_async", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_parse_interval() -> None:
    assert parse_interval("15s").total_seconds() == 15
    assert parse_interval("1Hz").total_seconds() == 1
    assert parse_interval("200ms").total_seconds() == 0.2
    assert parse_interval("30").total_seconds() == 30


def test_discover_json_and_table(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    done = cli(fake_earthscope, tmp_path, "discover", "stations", "--json")
    assert done.returncode == 0, done.stderr
    stations = json.loads(done.stdout)
    assert len(stations) == 13 and stations[0]["names"]["IGS"] == "P04100USA"
    done = cli(fake_earthscope, tmp_path, "discover", "sessions", "--station", "P041")
    assert done.returncode == 0, done.stderr
    assert "P041.15s" in done.stdout and "P041.1hz" in done.stdout and "P04100USA" in done.stdout


@pytest.mark.parametrize("output", ["out.parquet", "out.csv", "parts/"])
def test_data_observations_to_files(
    fake_earthscope: FakeEarthScope, tmp_path: Path, output: str
) -> None:
    target = str(tmp_path / output) + ("/" if output.endswith("/") else "")
    done = cli(
        fake_earthscope, tmp_path, "data", "observations", "--station", "P041",
        "--start", "2025-03-01", "--end", "2025-03-01T01:00", "--interval", "15s",
        "--quiet", "-o", target,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "7680 rows" in done.stderr
    if output.endswith(".parquet"):
        assert pq.read_table(target).num_rows == 240 * 32
    elif output.endswith(".csv"):
        lines = Path(target).read_text().splitlines()
        assert lines[0].startswith('"timestamp","satellite","obs_code"') and len(lines) == 7681
    else:
        assert (
            pq.read_table(tmp_path / "parts" / "P04100USA" / "2025-03-01.parquet").num_rows == 7680
        )


def test_data_bad_output_is_a_usage_error(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    done = cli(
        fake_earthscope, tmp_path, "data", "observations", "--station", "P041",
        "--start", "2025-03-01", "--end", "2025-03-02", "-o", str(tmp_path / "out.txt"),
    )  # fmt: skip
    assert done.returncode == USAGE
    assert ".parquet or .csv" in done.stderr
