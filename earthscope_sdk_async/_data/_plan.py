"""The query-plan base: planning, grouping, sorting, limits, fetch and iteration.

Subclasses say how requests are built (``_build_requests``), how one request is sent and
decoded (``_job``), which schema an empty result has (``_schema``) and how requests
partition into Parquet files (``_partition``). Nothing is sent before ``plan()``,
``fetch()``, iteration or ``write_parquet()``; planning runs once.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Hashable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from .._errors import ConfigError
from ._engine import Job, LimitHit, Run, execute
from ._errors import MemoryLimitExceededError, TimeoutExceededError
from ._models import TimePeriod, time_periods

if TYPE_CHECKING:
    import pyarrow as pa

    from .._discover import DiscoveryService
    from .._download._progress import ProgressOption
    from .._http import Requester
    from ._arrow import Piece
    from ._parquet import ParquetReport

__all__ = ["AsyncQueryPlan", "require_pyarrow"]

R = TypeVar("R", bound=tuple[Any, ...])
Self = TypeVar("Self", bound="AsyncQueryPlan[Any]")
DEFAULT_CONCURRENCY = 4


def require_pyarrow() -> None:
    """Raise a :class:`ConfigError` naming the extra when pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError(
            "data access needs pyarrow: pip install 'earthscope-sdk-async[arrow]'"
        ) from None


def day_periods(start: datetime, end: datetime, step: timedelta) -> list[TimePeriod]:
    """``time_periods`` that also never cross a UTC midnight."""
    periods: list[TimePeriod] = []
    day = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    while day < end:
        nxt = day + timedelta(days=1)
        periods += time_periods(max(start, day), min(end, nxt), step)
        day = nxt
    return periods


def units(requests: Sequence[Any]) -> list[int]:
    """A unit number per request (requests sorted by start): overlapping periods merge."""
    out, unit, stop = [], -1, None
    for request in requests:
        period = request.period
        if stop is None or period.start >= stop:
            unit += 1
            stop = period.end
        else:
            stop = max(stop, period.end)
        out.append(unit)
    return out


class AsyncQueryPlan(Generic[R]):
    """A lazily planned set of data requests; see the concrete plans."""

    def __init__(self, requester: Requester, discover: DiscoveryService) -> None:
        require_pyarrow()
        self._requester = requester
        self._discover = discover
        self._requests: list[R] | None = None
        self._sources: list[Any] | None = None
        self._lock: anyio.Lock | None = None
        self._group_key: Callable[[R], Hashable] | None = None
        self._sort_key: Callable[[R], Any] | None = None
        self._reverse = False
        self._by_day = False
        self._rank_reverse = False
        self.concurrency = DEFAULT_CONCURRENCY
        """How many requests run (or wait to be merged) at once."""
        self.memory_limit: int | None = None
        self.timeout: float | None = None

    # -- building blocks for subclasses -----------------------------------------------------

    async def _discover_sources(self) -> list[Any]:
        raise NotImplementedError

    def _requests_for(self, sources: list[Any], by_day: bool) -> list[R]:
        raise NotImplementedError

    def _job(self, request: R, rank: int, unit: int) -> Job:
        raise NotImplementedError

    def _rank_key(self, request: R) -> Any:
        raise NotImplementedError

    def _schema(self) -> pa.Schema:
        raise NotImplementedError

    def _partition(self, request: R) -> tuple[str, str]:
        raise NotImplementedError

    # -- planning ------------------------------------------------------------------------

    async def plan(self: Self) -> Self:
        """Build the request list (one discovery call at most; idempotent)."""
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._sources is None:
                self._sources = await self._discover_sources()
        return self

    @property
    def planned(self) -> bool:
        """True once :meth:`plan` ran."""
        return self._sources is not None

    @property
    def all_requests(self) -> list[R]:
        """Every request, sorted (``[]`` before planning)."""
        if self._sources is None:
            return []
        if self._requests is None:
            requests = self._requests_for(self._sources, self._by_day)
            if self._sort_key is not None:
                requests.sort(key=self._sort_key, reverse=self._reverse)
            self._requests = requests
        return list(self._requests)

    @property
    def request_groups(self) -> list[list[R]]:
        """The requests in groups (one group per value of the group key, in order)."""
        requests = self.all_requests
        if self._group_key is None:
            return [requests] if requests else []
        groups: dict[Hashable, list[R]] = {}
        for request in requests:
            groups.setdefault(self._group_key(request), []).append(request)
        return list(groups.values())

    def __len__(self) -> int:
        """The number of requests.

        Raises:
            ConfigError: the plan was not planned yet (``await plan.plan()``).
        """
        if not self.planned:
            raise ConfigError("len(plan) needs a planned plan: await plan.plan() first")
        return len(self.all_requests)

    def group_by(self: Self, key: Callable[[Any], Hashable]) -> Self:
        """Iterate in groups of requests with the same ``key(request)``."""
        self._group_key = key
        return self

    def sort_by(self: Self, key: Callable[[Any], Any], *, reverse: bool = False) -> Self:
        """Order the requests (and groups) by ``key(request)``."""
        self._sort_key, self._reverse = key, reverse
        self._requests = None
        return self

    def group_by_day(self: Self) -> Self:
        """One group per UTC day; requests are cut at midnight (even after planning)."""
        self._by_day = True
        self._requests = None
        return self.group_by(lambda r: r.period.start.date())

    def with_memory_limit(self: Self, limit: int | None) -> Self:
        """Stop with :class:`MemoryLimitExceededError` past ``limit`` bytes of data
        (per ``fetch()``, or per group when iterating); ``None``: no limit."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ConfigError(f"the memory limit must be a number of bytes >= 0, got {limit!r}")
        self.memory_limit = limit
        return self

    def with_timeout(self: Self, seconds: float | None) -> Self:
        """Stop with :class:`TimeoutExceededError` after ``seconds`` (per ``fetch()``, or per
        group when iterating); ``None``: no limit."""
        if seconds is not None and (isinstance(seconds, bool) or not seconds > 0):
            raise ConfigError(f"the timeout must be a positive number of seconds, got {seconds!r}")
        self.timeout = seconds
        return self

    def with_concurrency(self: Self, requests: int) -> Self:
        """Fetch at most ``requests`` at once (default 4)."""
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ConfigError(f"concurrency must be an int >= 1, got {requests!r}")
        self.concurrency = requests
        return self

    # -- execution -----------------------------------------------------------------------

    def _ranks(self, requests: Sequence[R]) -> dict[Any, int]:
        keys = sorted({self._rank_key(r) for r in requests}, reverse=self._rank_reverse)
        return {key: i for i, key in enumerate(keys)}

    def _jobs(self, requests: Sequence[R]) -> list[Job]:
        ranks = self._ranks(self.all_requests)
        ordered = sorted(requests, key=lambda r: r[0].start)
        return [
            self._job(r, ranks[self._rank_key(r)], u)
            for r, u in zip(ordered, units(ordered), strict=False)
        ]

    async def _run(self, requests: Sequence[R], progress: ProgressOption = None) -> pa.Table:
        from .._download._progress import Tracker, resolve_progress
        from ._arrow import merge_pieces, release_memory

        schema = self._schema()
        jobs = self._jobs(requests)
        run = Run(total=len(jobs), memory_limit=self.memory_limit)
        out: list[pa.Table] = []

        async def sink(pieces: list[Piece]) -> None:
            out.extend(await anyio.to_thread.run_sync(merge_pieces, pieces, schema))
            await anyio.to_thread.run_sync(release_memory)

        callback, bar = resolve_progress(progress, label="fetch")
        tracker = Tracker(callback, len(jobs)) if callback is not None else None
        try:
            with anyio.move_on_after(self.timeout) as scope:
                await execute(
                    self._requester, jobs, run, sink, concurrency=self.concurrency, tracker=tracker
                )
            if tracker is not None:
                tracker.finish()
        except LimitHit:
            raise MemoryLimitExceededError(
                f"the plan's data exceeded the memory limit of {self.memory_limit} bytes after "
                f"{run.done} of {run.total} requests; raise it with with_memory_limit(), or "
                "fetch in groups (group_by_day(), async for) or with write_parquet()",
                partial_table=self._partial(out, run, schema),
                successful_request_count=run.done,
                total_request_count=run.total,
            ) from None
        finally:
            if bar is not None:
                bar.close()
        if scope.cancelled_caught:
            raise TimeoutExceededError(
                f"the plan did not finish within {self.timeout} s ({run.done} of {run.total} "
                "requests done); raise it with with_timeout(), or fetch less at once",
                partial_table=self._partial(out, run, schema),
                successful_request_count=run.done,
                total_request_count=run.total,
            )
        return _concat(out, schema)

    def _partial(self, out: list[pa.Table], run: Run, schema: pa.Schema) -> pa.Table:
        from ._arrow import merge_pieces

        return _concat(out + merge_pieces(run.buffered, schema), schema)

    async def fetch(self, *, progress: ProgressOption = None) -> pa.Table:
        """Every row of the plan as one ``pyarrow.Table``, in (time, station, satellite)
        order; an empty table with the plan's schema when there is no data.

        ``progress`` is the downloads' option: a callback, or ``True`` for a bar.

        Raises:
            MemoryLimitExceededError: past :meth:`with_memory_limit` (``partial_table``).
            TimeoutExceededError: past :meth:`with_timeout` (``partial_table``).
            ApiError: a request failed (other than 404, which means "no data").
        """
        await self.plan()
        return await self._run(self.all_requests, progress)

    async def __aiter__(self) -> AsyncGenerator[pa.Table, None]:
        """One table per group (see :meth:`group_by_day`), limits applying per group."""
        await self.plan()
        for group in self.request_groups:
            yield await self._run(group)

    async def write_parquet(
        self,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressOption = None,
        concurrency: int = 4,
    ) -> ParquetReport:
        """Stream the plan into ``dest/<station>/<YYYY-MM-DD>.parquet`` (ephemeris:
        ``dest/<system>/...``), one file per partition, with bounded memory.

        Each file is written under a temporary name, flushed to disk and renamed, so a
        final name always holds a complete file; on a rerun existing files are skipped
        (no request). A partition without data gets an empty file (so it is not fetched
        again). ``concurrency`` partitions are written at once.

        Raises:
            ApiError: a request failed (other than 404).
            DownloadError: ``dest`` cannot be written.
        """
        from ._parquet import write_partitions

        await self.plan()
        assert self._sources is not None
        partitions: dict[tuple[str, str], list[R]] = {}
        for request in self._requests_for(self._sources, True):
            partitions.setdefault(self._partition(request), []).append(request)
        return await write_partitions(
            self, partitions, os.fspath(dest), progress=progress, concurrency=concurrency
        )


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    if not tables:
        return schema.empty_table()
    try:
        return pa.concat_tables(tables)
    except pa.ArrowInvalid:
        return pa.concat_tables(tables, promote_options="permissive")
