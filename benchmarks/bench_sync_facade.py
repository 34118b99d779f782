"""bench_sync_facade: the per-call cost of the sync facade over the async client.

``EarthScopeClient.get_access_token()`` (a blocking call through the client's loop thread)
against ``await AsyncEarthScopeClient.get_access_token()`` in a running loop, both with a
fresh token in memory (no lock, no store, no network), ``CALLS`` calls each, median of
``REPEATS`` runs. The facade's overhead is the difference: one round trip into the loop
thread and back. A raw ``PortalThread.call`` of an empty coroutine is shown for context.

Standalone: ``python benchmarks/bench_sync_facade.py`` prints a result dict.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import anyio
from _common import Result, median

from earthscope_sdk_async import MemoryTokenStore, Settings, Tokens
from earthscope_sdk_async._client._async_client import AsyncEarthScopeClient
from earthscope_sdk_async._client._sync_client import EarthScopeClient
from earthscope_sdk_async._portal import PortalThread

__all__ = ["main", "measure", "run"]

CALLS = 20_000
REPEATS = 3
TARGET_US = 100.0


def _store() -> MemoryTokenStore:
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    tokens = Tokens(access_token="bench-access", refresh_token="bench-refresh", expires_at=expires)
    return MemoryTokenStore(tokens)


async def _time_async(calls: int) -> list[float]:
    async with AsyncEarthScopeClient(Settings(), store=_store()) as client:
        get = client.get_access_token
        await get()  # loads the store
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            for _ in range(calls):
                await get()
            runs.append(time.perf_counter() - started)
    return runs


def _time_facade(calls: int) -> list[float]:
    with EarthScopeClient(Settings(), store=_store()) as client:
        get = client.get_access_token
        for _ in range(1_000):  # warm-up
            get()
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            for _ in range(calls):
                get()
            runs.append(time.perf_counter() - started)
    return runs


async def _noop() -> None:
    pass


def _time_portal(calls: int) -> list[float]:
    portal = PortalThread(name="bench-portal")
    try:
        portal.call(_noop)
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            for _ in range(calls):
                portal.call(_noop)
            runs.append(time.perf_counter() - started)
    finally:
        portal.stop()
    return runs


def measure(calls: int = CALLS) -> dict[str, float]:
    """µs per call: ``async``, ``facade``, ``overhead`` (their difference) and ``portal``."""
    per_call = 1e6 / calls
    on_async = median(anyio.run(_time_async, calls, backend="asyncio")) * per_call
    facade = median(_time_facade(calls)) * per_call
    portal = median(_time_portal(calls)) * per_call
    return {
        "async_us": on_async,
        "facade_us": facade,
        "overhead_us": facade - on_async,
        "portal_noop_us": portal,
        "target_us": TARGET_US,
        "calls": float(calls),
    }


def run() -> list[Result]:
    """Run the benchmark; returns its result rows (for benchmarks/run.py)."""
    m = measure()
    return [
        Result(
            "sync facade overhead per call (get_access_token, fresh token)",
            m["overhead_us"],
            "µs/call",
            f"< {TARGET_US:g} µs",
            lambda v: v < TARGET_US,
            f"facade minus async; median of {REPEATS} x {CALLS:,} calls",
        ),
        Result("EarthScopeClient.get_access_token()", m["facade_us"], "µs/call"),
        Result("await AsyncEarthScopeClient.get_access_token()", m["async_us"], "µs/call"),
        Result("PortalThread.call of an empty coroutine", m["portal_noop_us"], "µs/call"),
    ]


def main() -> None:
    """Print the measured values as a dict."""
    print({name: round(value, 3) for name, value in measure().items()})


if __name__ == "__main__":
    main()
