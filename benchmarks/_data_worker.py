"""One measured fetch in a fresh process: ours or earthscope-sdk 1.9.3 (run by its venv).

``python _data_worker.py IMPL SCENARIO URL`` prints one JSON line: wall seconds, the peak
RSS growth during the fetch (ru_maxrss minus the RSS just before it), the table's rows and
nbytes. 1.9.3 reads its token from $HOME/.earthscope/default/tokens.json (written by the
orchestrator) and must be allowed to send it to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone

SCENARIOS = {
    "obs15s": ([f"P{n:03d}" for n in range(41, 51)], 7, 15.0),
    "obs1hz": (["P041", "P042"], 1, 1.0),
    # 10x the big fetch: the 100 stations the benchmark's server adds (X1012 ...)
    "obs15s_x10": (
        [f"X{n:04d}"[:5] for n in range(1013, 1103)] + [f"P{n:03d}" for n in range(41, 51)],
        7,
        15.0,
    ),
}
START = datetime(2025, 3, 1, tzinfo=timezone.utc)


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def libraries() -> None:
    """Import what both sides use, so that the RSS baseline excludes library code."""
    import numpy  # noqa: F401
    import pyarrow
    import pyarrow.compute
    import pyarrow.ipc
    import pyarrow.parquet  # noqa: F401


def transport() -> None:
    """Import our HTTP transport (aiohttp when installed), which the client imports when it
    sends its first request, so that the measure is the fetch, not a one-off import
    (1.9.3 imports httpx when its client is made, before its measure starts)."""
    with contextlib.suppress(ImportError):  # (the aiohttp extra may not be installed)
        import earthscope_sdk_async._http._aiohttp_transport  # noqa: F401


def kwargs(scenario: str) -> dict[str, object]:
    stations, days, interval = SCENARIOS[scenario]
    return {
        "start_datetime": START,
        "end_datetime": START + timedelta(days=days),
        "station_name": stations,
        "sample_interval": timedelta(seconds=interval),
    }


def ours(scenario: str, url: str, token: str, dest: str | None) -> tuple[float, object]:
    from earthscope_sdk_async import EarthScopeClient, MemoryTokenStore, Settings, Tokens

    tokens = Tokens(access_token=token, expires_at=datetime.now(timezone.utc) + timedelta(hours=1))
    with EarthScopeClient(Settings(api_url=url, domain=url), store=MemoryTokenStore(tokens)) as c:
        c.discover  # noqa: B018 - import before measuring
        import earthscope_sdk_async._data._arrow
        import earthscope_sdk_async._data._plans  # noqa: F401

        libraries()
        transport()

        base = rss()
        started = time.perf_counter()
        plan = c.data.gnss_observations(**kwargs(scenario))
        if os.environ.get("BENCH_CONCURRENCY"):
            plan.with_concurrency(int(os.environ["BENCH_CONCURRENCY"]))
        result = plan.write_parquet(dest) if dest else plan.fetch()
        wall = time.perf_counter() - started
    return wall, (result, base)


def v193(scenario: str, url: str) -> tuple[float, object]:
    import pyarrow  # noqa: F401
    from earthscope_sdk import EarthScopeClient

    with EarthScopeClient() as c:
        c.data  # noqa: B018
        base = rss()
        started = time.perf_counter()
        table = c.data.gnss_observations(**kwargs(scenario)).fetch()
        wall = time.perf_counter() - started
    return wall, (table, base)


def main() -> None:
    impl, scenario, url = sys.argv[1:4]
    token = os.environ.get("BENCH_TOKEN", "")
    dest = os.environ.get("BENCH_PARQUET_DEST")
    wall, (result, base) = (
        ours(scenario, url, token, dest) if impl == "ours" else v193(scenario, url)
    )
    rows = getattr(result, "num_rows", getattr(result, "rows", 0))
    nbytes = getattr(result, "nbytes", 0)
    print(json.dumps({"wall": wall, "growth": peak() - base, "rows": rows, "nbytes": nbytes}))


if __name__ == "__main__":
    main()
