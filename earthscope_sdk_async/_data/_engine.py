"""Executing requests: bounded concurrency, decode on arrival, merge per time unit.

Requests are taken in order, at most ``concurrency`` fetched or waiting to be consumed at
a time (a sliding window, so memory stays bounded whatever the plan's size). Each answer is
decoded and transformed in a worker thread as soon as it arrives; the raw body is dropped
then. The consumer takes answers in request order, and when every request of a *unit*
(requests overlapping in time) is in, merges them into time order and hands the tables to
``sink``. A 404 is "no data" and skipped. Any other failure aborts the run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from .._errors import ApiError

if TYPE_CHECKING:
    from .._download._progress import Tracker
    from .._http import Requester
    from ._arrow import Piece

__all__ = ["Job", "LimitHit", "Run", "execute"]

logger = logging.getLogger(__name__)

ARROW = {"accept": "application/vnd.apache.arrow.stream"}
REQUEST_TIMEOUT = 30.0
DECODE_THREADS = 2
_POOL: Any = None


@dataclass(frozen=True)
class Job:
    """One request: where, with what, and how to turn its body into a :class:`Piece`."""

    path: str
    params: dict[str, Any]
    transform: Callable[[Any], Piece]
    unit: int


@dataclass
class Run:
    """The state of one execution, readable after it stopped (for partial results)."""

    total: int
    memory_limit: int | None = None
    done: int = 0
    nbytes: int = 0
    buffered: list[Piece] = field(default_factory=list)
    limit_hit: bool = False


class LimitHit(Exception):
    """The memory limit was exceeded (``run`` holds what was fetched)."""


def body_pool() -> Any:
    """The Arrow memory pool for response bodies: jemalloc's when pyarrow has it (it returns
    freed memory to the OS across threads; the default mimalloc pool keeps what one thread
    allocated and another freed), else the default pool."""
    import pyarrow as pa

    global _POOL
    if _POOL is None:
        try:
            _POOL = pa.jemalloc_memory_pool()
            pa.jemalloc_set_decay_ms(0)  # freed bodies go back at once, not 1 s later
        except (NotImplementedError, AttributeError):  # pragma: no cover - no jemalloc
            _POOL = pa.default_memory_pool()
    return _POOL


async def read_body(response: httpx.Response) -> Any:
    """The body as one Arrow buffer, written chunk by chunk into a buffer of the announced
    length (no Python ``bytes`` of the whole body, no joining copy)."""
    import pyarrow as pa

    length = response.headers.get("content-length", "")
    if not length.isdigit() or response.headers.get("content-encoding"):
        return pa.py_buffer(b"".join([c async for c in response.aiter_bytes()]))
    buffer = pa.allocate_buffer(int(length), memory_pool=body_pool())
    view = memoryview(buffer).cast("B")
    done = 0
    async for chunk in response.aiter_raw():
        end = done + len(chunk)
        if end > len(view):
            raise httpx.RemoteProtocolError("the body is longer than its Content-Length")
        view[done:end] = chunk
        done = end
    return buffer.slice(0, done)


async def fetch_piece(
    requester: Requester, job: Job, tracker: Tracker | None, decoders: anyio.CapacityLimiter
) -> Piece | None:
    """Fetch ``job`` and transform its body in a thread; ``None`` for a 404 (no data)."""
    try:
        body = await requester.request_streamed(
            "GET", job.path, read_body, params=job.params, headers=ARROW, timeout=REQUEST_TIMEOUT
        )
    except ApiError as exc:
        if exc.status_code != 404:
            raise
        logger.debug("no data for %s %s", job.path, job.params)
        return None
    if tracker is not None:
        tracker.add_bytes(body.size)
    from ._arrow import decode_stream

    def work() -> Piece:
        return job.transform(decode_stream(body))

    return await anyio.to_thread.run_sync(work, limiter=decoders)


async def execute(
    requester: Requester,
    jobs: Sequence[Job],
    run: Run,
    sink: Callable[[list[Piece]], Awaitable[None]],
    *,
    concurrency: int,
    tracker: Tracker | None = None,
) -> None:
    """Fetch ``jobs`` (ordered by unit) and call ``sink`` with each complete unit's pieces.

    Raises:
        LimitHit: ``run.memory_limit`` was exceeded.
    """
    results: dict[int, Piece | BaseException | None] = {}
    ready = [anyio.Event() for _ in jobs]
    window = anyio.Semaphore(max(1, concurrency))
    decoders = anyio.CapacityLimiter(DECODE_THREADS)
    failure: BaseException | None = None

    async def worker(index: int) -> None:
        try:
            results[index] = await fetch_piece(requester, jobs[index], tracker, decoders)
        except Exception as exc:  # handed to the consumer, raised without an exception group
            results[index] = exc
        ready[index].set()

    async def producer(tg: anyio.abc.TaskGroup) -> None:
        for index in range(len(jobs)):
            await window.acquire()
            tg.start_soon(worker, index)

    async def consume() -> BaseException | None:
        for index, job in enumerate(jobs):
            await ready[index].wait()
            piece = results.pop(index)
            window.release()
            if isinstance(piece, BaseException):
                return piece
            run.done += 1
            if tracker is not None:
                tracker.file_done()
            if piece is not None:
                run.buffered.append(piece)
                run.nbytes += piece.nbytes
            if run.memory_limit is not None and run.nbytes > run.memory_limit:
                run.limit_hit = True
                return LimitHit()
            if index + 1 == len(jobs) or jobs[index + 1].unit != job.unit:
                pieces, run.buffered = run.buffered, []
                await sink(pieces)  # empties the list: the bodies are freed now
                del pieces
        return None

    async with anyio.create_task_group() as tg:
        tg.start_soon(producer, tg)
        failure = await consume()
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
