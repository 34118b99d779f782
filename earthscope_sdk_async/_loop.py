"""The running event loop, asked cheaply (a leaf module: standard library and anyio only).

anyio finds the running backend with a library lookup at every call; the hot paths that only
need the loop's clock, or a way to wake it from another thread, ask asyncio once (a C call)
and fall back to trio, the other backend anyio runs on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio

__all__ = ["loop_clock", "running_asyncio_loop", "soon_from_thread"]


def running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop; ``None`` under trio or outside any loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def loop_clock() -> Callable[[], float]:
    """The running loop's clock, as ``anyio.current_time`` and cancel-scope deadlines read
    it (on asyncio the loop's ``time``, without anyio's lookup at each call)."""
    loop = running_asyncio_loop()
    return loop.time if loop is not None else anyio.current_time


def soon_from_thread() -> Callable[[Callable[[], object]], object]:
    """A function that runs a callable soon in the running loop, from any thread, without
    waiting for it (it raises ``RuntimeError`` once that loop has ended)."""
    loop = running_asyncio_loop()
    if loop is not None:
        return loop.call_soon_threadsafe
    import trio  # not asyncio: trio

    return trio.lowlevel.current_trio_token().run_sync_soon
