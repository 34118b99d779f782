"""bench_token_fast_path: the cost of asking for a token that is fresh in memory.

``await TokenManager.get_access_token()`` runs before every authenticated request; with a
fresh token it must not lock, read the store or touch the network. Measured in a tight loop
on asyncio (the target) and on trio (for context), plus the synchronous
``cached_access_token()`` it is built on.
"""

from __future__ import annotations

import importlib.util
import time
from datetime import datetime, timedelta, timezone

import anyio
from _common import Result, median

from earthscope_sdk_async import TokenManager, Tokens

__all__ = ["run"]

CALLS = 200_000
REPEATS = 5
TARGET_US = 5.0


def _fresh_tokens() -> Tokens:
    return Tokens(
        access_token="bench-access-token",
        refresh_token="bench-refresh-token",
        expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
    )


async def _time_async(manager: TokenManager, calls: int) -> float:
    get = manager.get_access_token
    started = time.perf_counter()
    for _ in range(calls):
        await get()
    return time.perf_counter() - started


async def _noop() -> str:
    return "token"


async def _time_noop(calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await _noop()
    return time.perf_counter() - started


def _time_sync(manager: TokenManager, calls: int) -> float:
    cached = manager.cached_access_token
    started = time.perf_counter()
    for _ in range(calls):
        cached()
    return time.perf_counter() - started


async def _measure(backend: str) -> dict[str, float]:
    manager = TokenManager()
    await manager.save(_fresh_tokens())  # in memory (and in the default memory store)
    assert manager.cached_access_token() is not None
    await _time_async(manager, CALLS // 10)  # warm-up
    get = [await _time_async(manager, CALLS) for _ in range(REPEATS)]
    noop = [await _time_noop(CALLS) for _ in range(REPEATS)]
    sync = [_time_sync(manager, CALLS) for _ in range(REPEATS)]
    return {
        "get": median(get) / CALLS * 1e6,
        "noop": median(noop) / CALLS * 1e6,
        "sync": median(sync) / CALLS * 1e6,
    }


def _trio_installed() -> bool:
    return importlib.util.find_spec("trio") is not None


def run() -> list[Result]:
    """Run the benchmark; returns its result rows (trio's only when trio is installed)."""
    on_asyncio = anyio.run(_measure, "asyncio", backend="asyncio")
    below = f"< {TARGET_US:g} µs"
    rows = [
        Result(
            "await get_access_token(), asyncio",
            on_asyncio["get"],
            "µs/call",
            below,
            lambda v: v < TARGET_US,
            f"median of {REPEATS} x {CALLS:,} calls",
        ),
    ]
    if _trio_installed():
        on_trio = anyio.run(_measure, "trio", backend="trio")
        rows.append(
            Result(
                "await get_access_token(), trio",
                on_trio["get"],
                "µs/call",
                below,
                lambda v: v < TARGET_US,
            )
        )
    rows += [
        Result("cached_access_token() (sync)", on_asyncio["sync"], "µs/call"),
        Result("await of an empty coroutine, asyncio (baseline)", on_asyncio["noop"], "µs/call"),
    ]
    return rows
