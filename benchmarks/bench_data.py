"""GNSS data plans: ours vs earthscope-sdk 1.9.3 on the same fake server (issue 16).

Both fetches of the issue, each in a fresh process per measurement, interleaved (ours,
1.9.3, then 1.9.3, ours, ...), medians of ``ROUNDS`` rounds after one warm-up fetch that
fills the server's body cache (so the server's generation cost is paid by neither side):

- 10 stations x 7 days @ 15 s (40 requests, 12.9 M rows);
- 2 stations x 1 day @ 1 Hz (16 requests, 5.5 M rows).

Measured: wall time of plan + fetch, and the peak RSS growth during it (ru_maxrss minus
the RSS just before), against the final table's nbytes. Then ``write_parquet`` of a plan
10x the big fetch (100 stations x 7 days @ 15 s) with its peak RSS growth.

1.9.3 runs from ``BENCH_193_PYTHON`` (default /work/bench-venv-193/bin/python, a venv with
``pip install 'earthscope-sdk[arrow]==1.9.3'``); it is skipped when missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
from _common import Result, median

from earthscope_sdk_async import AsyncEarthScopeClient, MemoryTokenStore, Settings

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_data_worker.py"
PY193 = os.environ.get("BENCH_193_PYTHON", "/work/bench-venv-193/bin/python")
ROUNDS = int(os.environ.get("BENCH_DATA_ROUNDS", "3"))
MB = 1 << 20


@contextmanager
def fake_server(stations: int = 0) -> Iterator[str]:
    command = [sys.executable, "-m", "earthscope_sdk_async.testing", "serve", "--port", "0",
               "--data-cache-mb", "2048", "--stations", str(stations)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the fake server did not start (printed {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def credentials(url: str, home: Path) -> str:
    async def login() -> str:
        settings = Settings(domain=url, api_url=url, client_id="fake-m2m-client",
                            client_secret="fake-m2m-secret")  # fmt: skip
        async with AsyncEarthScopeClient(settings, store=MemoryTokenStore()) as client:
            tokens = await client.login()
        path = home / ".earthscope" / "default" / "tokens.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tokens.to_json())  # what 1.9.3 reads
        return tokens.access_token

    return anyio.run(login)


def measure(impl: str, scenario: str, url: str, token: str, home: Path,
            dest: str | None = None) -> dict[str, float]:  # fmt: skip
    env = dict(os.environ, BENCH_TOKEN=token, HOME=str(home), ES_RESOURCES__API_URL=url,
               ES_OAUTH2__ALLOWED_HOSTS='["127.0.0.1"]')  # fmt: skip
    if dest:
        env["BENCH_PARQUET_DEST"] = dest
    python = sys.executable if impl == "ours" else PY193
    done = subprocess.run([python, str(WORKER), impl, scenario, url], env=env,
                          capture_output=True, text=True, timeout=1800, check=True)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _rows(scenario: str, label: str, ours: list[dict[str, float]],
          theirs: list[dict[str, float]]) -> list[Result]:  # fmt: skip
    wall = median([r["wall"] for r in ours])
    table = ours[0]["nbytes"]
    growth = median([r["growth"] for r in ours])
    spread = "runs " + ", ".join(f"{r['wall']:.2f}" for r in ours) + " s"
    rows = [
        Result(f"{label}: wall, ours", wall, "s", note=spread),
        Result(f"{label}: peak RSS growth / table, ours", growth / table, "x",
               "<= 1.5x", lambda v: v <= 1.5,
               note=f"growth {growth / MB:.0f} MB, table {table / MB:.0f} MB"),
    ]  # fmt: skip
    if theirs:
        wall193 = median([r["wall"] for r in theirs])
        growth193 = median([r["growth"] for r in theirs])
        rows += [
            Result(f"{label}: wall, 1.9.3", wall193, "s",
                   note="runs " + ", ".join(f"{r['wall']:.2f}" for r in theirs) + " s"),
            Result(f"{label}: wall ours / 1.9.3", wall / wall193, "x", "<= 0.5x",
                   lambda v: v <= 0.5),
            Result(f"{label}: peak RSS growth / table, 1.9.3", growth193 / theirs[0]["nbytes"],
                   "x", note=f"growth {growth193 / MB:.0f} MB"),
        ]  # fmt: skip
    return rows


def run() -> list[Result]:
    results: list[Result] = []
    have193 = Path(PY193).exists()
    with tempfile.TemporaryDirectory(prefix="bench-data-") as work:
        home = Path(work) / "home"
        with fake_server(stations=90) as url:
            token = credentials(url, home)
            only = os.environ.get("BENCH_DATA_ONLY")  # e.g. obs1hz: one fetch, no parquet
            for scenario, label in (("obs15s", "10 stations x 7 days @ 15 s"),
                                    ("obs1hz", "2 stations x 1 day @ 1 Hz")):  # fmt: skip
                if only and scenario != only:
                    continue
                measure("ours", scenario, url, token, home)  # warm-up: fills the body cache
                ours, theirs = [], []
                for round_ in range(ROUNDS):
                    order = ["ours", "v193"] if round_ % 2 == 0 else ["v193", "ours"]
                    for impl in order:
                        if impl == "v193" and not have193:
                            continue
                        found = measure(impl, scenario, url, token, home)
                        (ours if impl == "ours" else theirs).append(found)
                results += _rows(scenario, label, ours, theirs)
            if only:
                return results
            dest = str(Path(work) / "parquet")
            big = measure("ours", "obs15s_x10", url, token, home, dest=dest)
            results.append(Result(
                "write_parquet 100 stations x 7 days @ 15 s: peak RSS growth", big["growth"] / MB,
                "MB", "< 512 MB", lambda v: v < 512,
                note=f"{big['rows'] / 1e6:.0f} M rows in {big['wall']:.0f} s",
            ))  # fmt: skip
    return results


if __name__ == "__main__":
    for result in run():
        print(f"{result.measure}: {result.value:.2f} {result.unit} {result.verdict} {result.note}")
