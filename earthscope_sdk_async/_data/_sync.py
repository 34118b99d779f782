"""The blocking twins of ``client.discover``, ``client.data`` and the query plans.

Every call runs in the sync client's own event loop thread (through its portal), so the
plans work in plain scripts and in Jupyter (whose loop is running in the caller's thread).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._discover import DiscoveryService
from .._facade import SyncFacade, sync_method
from ._plans import (
    AsyncGnssEphemerisPositionsQueryPlan,
    AsyncGnssInstantaneousPositionsQueryPlan,
    AsyncGnssObservationsQueryPlan,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from .._download._progress import ProgressOption
    from ._parquet import ParquetReport
    from ._plan import AsyncQueryPlan
    from ._service import DataService

__all__ = [
    "GnssEphemerisPositionsQueryPlan",
    "GnssInstantaneousPositionsQueryPlan",
    "GnssObservationsQueryPlan",
    "SyncDataService",
    "SyncDiscoveryService",
]

Caller = Callable[..., Any]
"""Runs ``await func(*args, **kwargs)`` in the client's loop thread and returns the result."""
Q = TypeVar("Q", bound="AsyncQueryPlan[Any]")
S = TypeVar("S", bound="QueryPlan[Any]")


class SyncDiscoveryService(SyncFacade[DiscoveryService]):
    """``client.discover`` of :class:`EarthScopeClient`: the discovery methods, blocking."""

    def __init__(self, run_method: Callable[[str, tuple[Any, ...], dict[str, Any]], Any]) -> None:
        self._run = run_method

    def _run_method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._run("discover." + name, args, kwargs)

    list_network_datasources = sync_method(DiscoveryService.list_network_datasources)
    list_station_datasources = sync_method(DiscoveryService.list_station_datasources)
    list_session_datasources = sync_method(DiscoveryService.list_session_datasources)
    list_stream_datasources = sync_method(DiscoveryService.list_stream_datasources)


class QueryPlan(Generic[Q]):
    """A blocking query plan: ``plan.fetch()``, ``for table in plan``, ``len(plan)``."""

    def __init__(self, async_plan: Q, call: Caller) -> None:
        self.async_plan = async_plan
        """The async plan behind this one (runs in the client's loop thread)."""
        self._call = call

    def plan(self: S) -> S:
        """Build the request list (idempotent)."""
        self._call(self.async_plan.plan)
        return self

    def fetch(self, *, progress: ProgressOption = None) -> pa.Table:
        """Every row as one ``pyarrow.Table`` (see the async plan's ``fetch``)."""
        table: pa.Table = self._call(self.async_plan.fetch, progress=progress)
        return table

    def write_parquet(
        self, dest: Any, *, progress: ProgressOption = None, concurrency: int = 4
    ) -> ParquetReport:
        """Stream the plan to a partitioned Parquet dataset (see the async plan's)."""
        report: ParquetReport = self._call(
            self.async_plan.write_parquet, dest, progress=progress, concurrency=concurrency
        )
        return report

    def __iter__(self) -> Iterator[pa.Table]:
        """One table per group."""
        agen = self.async_plan.__aiter__()

        async def step() -> Any:
            return await agen.__anext__()

        try:
            while True:
                try:
                    yield self._call(step)
                except StopAsyncIteration:
                    return
        finally:
            self._call(agen.aclose)

    def __len__(self) -> int:
        """The number of requests (plans first when needed)."""
        if not self.async_plan.planned:
            self.plan()
        return len(self.async_plan)

    @property
    def planned(self) -> bool:
        """True once planned."""
        return self.async_plan.planned

    @property
    def all_requests(self) -> list[Any]:
        """Every request (``[]`` before planning)."""
        return self.async_plan.all_requests

    @property
    def request_groups(self) -> list[list[Any]]:
        """The requests in groups."""
        return self.async_plan.request_groups

    def group_by(self: S, key: Callable[[Any], Hashable]) -> S:
        """See the async plan."""
        self.async_plan.group_by(key)
        return self

    def sort_by(self: S, key: Callable[[Any], Any], *, reverse: bool = False) -> S:
        """See the async plan."""
        self.async_plan.sort_by(key, reverse=reverse)
        return self

    def group_by_day(self: S) -> S:
        """One group per UTC day."""
        self.async_plan.group_by_day()
        return self

    def with_memory_limit(self: S, limit: int | None) -> S:
        """See the async plan."""
        self.async_plan.with_memory_limit(limit)
        return self

    def with_timeout(self: S, seconds: float | None) -> S:
        """See the async plan."""
        self.async_plan.with_timeout(seconds)
        return self

    def with_concurrency(self: S, requests: int) -> S:
        """See the async plan."""
        self.async_plan.with_concurrency(requests)
        return self


class _StationQueryPlan(QueryPlan[Q]):
    def group_by_station(self: S) -> S:
        """One group per station."""
        self.async_plan.group_by_station()
        return self

    def sort_by_station(self: S, *, reverse: bool = False) -> S:
        """Order by station name."""
        self.async_plan.sort_by_station(reverse=reverse)
        return self


class GnssObservationsQueryPlan(_StationQueryPlan[AsyncGnssObservationsQueryPlan]):
    """The blocking observations plan."""


class GnssInstantaneousPositionsQueryPlan(
    _StationQueryPlan[AsyncGnssInstantaneousPositionsQueryPlan]
):
    """The blocking instantaneous-positions plan."""


class GnssEphemerisPositionsQueryPlan(QueryPlan[AsyncGnssEphemerisPositionsQueryPlan]):
    """The blocking ephemeris plan."""

    def group_by_system(self) -> GnssEphemerisPositionsQueryPlan:
        """One group per system."""
        self.async_plan.group_by_system()
        return self

    def sort_by_system(self, *, reverse: bool = False) -> GnssEphemerisPositionsQueryPlan:
        """Order by system letter."""
        self.async_plan.sort_by_system(reverse=reverse)
        return self


class SyncDataService:
    """``client.data`` of :class:`EarthScopeClient`: the same methods, returning blocking plans."""

    def __init__(self, service: Callable[[], DataService], call: Caller) -> None:
        self._service = service
        self._call = call

    def gnss_observations(self, **kwargs: Any) -> GnssObservationsQueryPlan:
        """See :meth:`DataService.gnss_observations`."""
        return GnssObservationsQueryPlan(self._service().gnss_observations(**kwargs), self._call)

    def gnss_instantaneous_positions(self, **kwargs: Any) -> GnssInstantaneousPositionsQueryPlan:
        """See :meth:`DataService.gnss_instantaneous_positions`."""
        plan = self._service().gnss_instantaneous_positions(**kwargs)
        return GnssInstantaneousPositionsQueryPlan(plan, self._call)

    def gnss_ephemeris_positions(self, **kwargs: Any) -> GnssEphemerisPositionsQueryPlan:
        """See :meth:`DataService.gnss_ephemeris_positions`."""
        plan = self._service().gnss_ephemeris_positions(**kwargs)
        return GnssEphemerisPositionsQueryPlan(plan, self._call)


def _copy_signatures() -> None:
    """Give the sync data methods the keyword arguments of the async ones (for help())."""
    from ._service import DataService

    for name in ("gnss_observations", "gnss_instantaneous_positions", "gnss_ephemeris_positions"):
        source = inspect.signature(getattr(DataService, name))
        method = getattr(SyncDataService, name)
        returned = inspect.signature(method).return_annotation
        parameters = list(source.parameters.values())
        method.__signature__ = source.replace(parameters=parameters, return_annotation=returned)
        method.__doc__ = getattr(DataService, name).__doc__


_copy_signatures()
