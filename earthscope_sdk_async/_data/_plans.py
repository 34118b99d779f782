"""The three GNSS query plans: observations, instantaneous positions, ephemeris positions.

Same names, keyword arguments and columns as earthscope-sdk 1.9.3; rows come in
(time, station or system, satellite) order and an empty result is an empty table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._discover import SessionDatasource, StreamDatasource, StreamType
from .._discover._query import as_list, iso_utc, strings
from .._errors import ConfigError
from ._engine import Job
from ._models import (
    SYSTEMS,
    FloatFilter,
    GeodeticCoordinate,
    GnssEphemerisPositionsRequest,
    GnssInstantaneousPositionsRequest,
    GnssObservationsRequest,
    TimePeriod,
    time_periods,
)
from ._plan import AsyncQueryPlan, Self, day_periods

if TYPE_CHECKING:
    import pyarrow as pa

    from .._discover import DiscoveryService
    from .._http import Requester

__all__ = [
    "AsyncGnssEphemerisPositionsQueryPlan",
    "AsyncGnssInstantaneousPositionsQueryPlan",
    "AsyncGnssObservationsQueryPlan",
]

MAX_EPOCHS = 11520
OBS_FIELDS = ("range", "phase", "doppler", "snr", "slip", "flags", "fcn")
POS_FIELDS = ("east", "north", "up", "sig_ee", "sig_nn", "sig_uu", "q_channel",
              "ingest_latency", "processing_delay")  # fmt: skip
EPH_FIELDS = ("x", "y", "z", "elevation", "azimuth", "clock", "relativity")
_API_POS = {"sig_ee": "sigEE", "sig_nn": "sigNN", "sig_uu": "sigUU", "q_channel": "qChannel",
            "ingest_latency": "ingestLatency", "processing_delay": "processingDelay"}  # fmt: skip


def max_period(interval: timedelta) -> timedelta:
    """The longest request for a sample interval (reference §5.2)."""
    if interval == timedelta(milliseconds=200):
        return timedelta(minutes=30)
    if interval == timedelta(seconds=1):
        return timedelta(hours=3)
    return interval * MAX_EPOCHS


def _window(start: Any, end: Any) -> TimePeriod:
    from .._discover._query import to_utc

    period = TimePeriod(to_utc("start_datetime", start), to_utc("end_datetime", end))
    if period.end <= period.start:
        raise ConfigError(f"end_datetime must be after start_datetime, got {start} .. {end}")
    return period


def _choices(name: str, value: Any, allowed: tuple[str, ...]) -> list[str]:
    items = strings(name, value)
    bad = [v for v in items if v not in allowed]
    if bad:
        raise ConfigError(f"{name} must be among {', '.join(allowed)}; got {bad}")
    return items


def _periods(period: TimePeriod, step: timedelta, by_day: bool) -> list[TimePeriod]:
    if by_day:
        return day_periods(period.start, period.end, min(step, timedelta(days=1)))
    return time_periods(period.start, period.end, step)


def _window_params(period: TimePeriod) -> dict[str, Any]:
    return {"start_datetime": iso_utc(period.start), "end_datetime": iso_utc(period.end)}


def _meta_value(source: Any, name: str, namespaces: set[str]) -> Any:
    if name in namespaces:
        names = {k.lower(): v for k, v in source.names.items()}
        if source.station is not None:
            names.update({k.lower(): v for k, v in source.station.names.items()})
        return names.get(name)
    return getattr(source, name)


class _StationPlan(AsyncQueryPlan[Any]):
    _namespaces: set[str]
    _meta: list[str]

    def group_by_station(self: Self) -> Self:
        """One group per station (the parent station's EDID)."""
        return self.group_by(lambda r: r[1].station_key)

    def sort_by_station(self: Self, *, reverse: bool = False) -> Self:
        """Order requests, groups and (within an epoch) rows by station name."""
        self._rank_reverse = reverse
        return self.sort_by(lambda r: r[1].station_name, reverse=reverse)

    def _rank_key(self, request: Any) -> Any:
        return (request[1].station_name, request[1].edid)

    def _partition(self, request: Any) -> tuple[str, str]:
        return request[1].station_name, request.period.start.date().isoformat()

    def _meta_columns(self, source: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        prefix = {"edid": source.edid} if "edid" in self._meta else {}
        suffix = {m: _meta_value(source, m, self._namespaces) for m in self._meta if m != "edid"}
        return prefix, suffix

    def _dummy_meta(self) -> tuple[dict[str, Any], dict[str, Any]]:
        durations = {"sample_interval", "roll"}
        prefix = {"edid": ""} if "edid" in self._meta else {}
        suffix = {m: timedelta(0) if m in durations else "" for m in self._meta if m != "edid"}
        return prefix, suffix


class AsyncGnssObservationsQueryPlan(_StationPlan):
    """GNSS observations of the sessions matching the filters (``client.data.gnss_observations``).

    Columns (as 1.9.3): ``timestamp``, ``satellite``, ``obs_code``, the requested fields,
    ``edid`` (if in ``meta_fields``), ``system``, then the other ``meta_fields``.
    """

    def __init__(
        self, requester: Requester, discover: DiscoveryService, *, start_datetime: datetime,
        end_datetime: datetime, system: Any = (), satellite: Any = (), obs_code: Any = (),
        field: Any = (), network_name: Any = (), network_edid: Any = (), station_name: Any = (),
        station_edid: Any = (), session_name: Any = (), session_edid: Any = (),
        roll: timedelta | None = None, sample_interval: timedelta | None = None,
        meta_fields: Any = ("igs",),
    ) -> None:  # fmt: skip
        super().__init__(requester, discover)
        self.period = _window(start_datetime, end_datetime)
        self.system = _choices("system", system, SYSTEMS)
        self.satellite = [str(s) for s in as_list("satellite", satellite)]
        self.obs_code = strings("obs_code", obs_code)
        self.field = _choices("field", field, OBS_FIELDS)
        self.filters: dict[str, Any] = {
            "network_name": strings("network_name", network_name),
            "network_edid": strings("network_edid", network_edid),
            "station_name": strings("station_name", station_name),
            "station_edid": strings("station_edid", station_edid),
            "session_name": strings("session_name", session_name),
            "session_edid": strings("session_edid", session_edid),
        }
        if not any(self.filters.values()):
            raise ConfigError(
                "gnss_observations needs at least one network, station or session name or "
                "EDID (e.g. station_name='P041')"
            )
        self.roll, self.sample_interval = roll, sample_interval
        self._meta = list(dict.fromkeys(_choices("meta_fields", meta_fields, (
            "edid", "igs", "4charid", "dataflow", "sample_interval", "roll"))))  # fmt: skip
        self._namespaces = {"igs", "4charid", "dataflow"}

    async def _discover_sources(self) -> list[Any]:
        return await self._discover.list_session_datasources(
            **self.filters,
            roll=self.roll,
            sample_interval=self.sample_interval,
            with_parents=True,
            limit=None,
        )

    def _requests_for(self, sources: list[Any], by_day: bool) -> list[Any]:
        requests = []
        for session in sources:
            assert isinstance(session, SessionDatasource)
            for period in _periods(self.period, max_period(session.sample_interval), by_day):
                requests.append(GnssObservationsRequest(period, session))
        return requests

    def _params(self, request: Any) -> dict[str, Any]:
        params = {"session_id": request.session.edid, **_window_params(request.period)}
        for name in ("system", "satellite", "obs_code", "field"):
            if getattr(self, name):
                params[name] = getattr(self, name)
        return params

    def _job(self, request: Any, rank: int, unit: int) -> Job:
        from ._arrow import observation_piece

        prefix, suffix = self._meta_columns(request.session)

        def transform(raw: pa.Table) -> Any:
            return observation_piece(raw, rank, prefix, suffix)

        path = "beta/data-products/gnss/observations"
        return Job(path, self._params(request), transform, unit)

    def _schema(self) -> pa.Schema:
        import pyarrow as pa

        from ._arrow import observation_piece

        types = {"snr": pa.float32(), "slip": pa.uint8(), "flags": pa.uint8(), "fcn": pa.int8()}
        fields = self.field or list(OBS_FIELDS)
        raw = pa.schema(
            [("time", pa.int64()), ("sys", pa.uint8()), ("sat", pa.uint8()), ("obs", pa.uint16())]
            + [(f, types.get(f, pa.float64())) for f in fields]
        ).empty_table()
        return observation_piece(raw, 0, *self._dummy_meta()).final().schema


class AsyncGnssInstantaneousPositionsQueryPlan(_StationPlan):
    """PPP positions of the ``gnss_ppp`` streams matching the filters
    (``client.data.gnss_instantaneous_positions``); 24-hour requests."""

    def __init__(
        self, requester: Requester, discover: DiscoveryService, *, start_datetime: datetime,
        end_datetime: datetime, field: Any = (), network_name: Any = (), network_edid: Any = (),
        station_name: Any = (), station_edid: Any = (), stream_name: Any = (),
        stream_edid: Any = (), facility: Any = (), software: Any = (), label: Any = (),
        sample_interval: timedelta | None = None,
        meta_fields: Any = ("igs", "facility", "software", "label"),
    ) -> None:  # fmt: skip
        super().__init__(requester, discover)
        self.period = _window(start_datetime, end_datetime)
        self.field = _choices("field", field, POS_FIELDS)
        self.filters: dict[str, Any] = {
            "network_name": strings("network_name", network_name),
            "network_edid": strings("network_edid", network_edid),
            "station_name": strings("station_name", station_name),
            "station_edid": strings("station_edid", station_edid),
            "stream_name": strings("stream_name", stream_name),
            "stream_edid": strings("stream_edid", stream_edid),
        }
        if not any(self.filters.values()):
            raise ConfigError(
                "gnss_instantaneous_positions needs at least one network, station or stream "
                "name or EDID (e.g. station_name='P041')"
            )
        self.facility = strings("facility", facility)
        self.software = strings("software", software)
        self.label = strings("label", label)
        self.sample_interval = sample_interval
        self._meta = list(dict.fromkeys(_choices("meta_fields", meta_fields, (
            "edid", "igs", "4charid", "geosncl", "sn", "facility", "software", "label",
            "sample_interval"))))  # fmt: skip
        self._namespaces = {"igs", "4charid", "geosncl", "sn"}

    async def _discover_sources(self) -> list[Any]:
        return await self._discover.list_stream_datasources(
            **self.filters,
            stream_type=StreamType.GNSS_PPP,
            facility=self.facility,
            software=self.software,
            label=self.label,
            sample_interval=self.sample_interval,
            with_parents=True,
            limit=None,
        )

    def _requests_for(self, sources: list[Any], by_day: bool) -> list[Any]:
        requests = []
        for period in _periods(self.period, timedelta(days=1), by_day):
            for stream in sources:
                assert isinstance(stream, StreamDatasource)
                requests.append(GnssInstantaneousPositionsRequest(period, stream))
        return requests

    def _job(self, request: Any, rank: int, unit: int) -> Job:
        from ._arrow import position_piece

        prefix, suffix = self._meta_columns(request.stream)
        meta = {**prefix, **suffix}

        def transform(raw: pa.Table) -> Any:
            return position_piece(raw, rank, meta)

        params = {"stream_id": request.stream.edid, **_window_params(request.period)}
        if self.field:
            params["field"] = [_API_POS.get(f, f) for f in self.field]
        return Job("beta/data-products/gnss/positions/instantaneous/v2", params, transform, unit)

    def _schema(self) -> pa.Schema:
        import pyarrow as pa

        from ._arrow import position_piece

        types = {"qChannel": pa.int32(), "ingestLatency": pa.int64(), "processingDelay": pa.int64()}
        fields = [_API_POS.get(f, f) for f in (self.field or list(POS_FIELDS))]
        raw = pa.schema(
            [("time", pa.int64())] + [(f, types.get(f, pa.float64())) for f in fields]
        ).empty_table()
        prefix, suffix = self._dummy_meta()
        return position_piece(raw, 0, {**prefix, **suffix}).table.schema


class AsyncGnssEphemerisPositionsQueryPlan(AsyncQueryPlan[Any]):
    """Satellite positions from broadcast ephemerides (``client.data.gnss_ephemeris_positions``).

    The service's columns as they come (``timestamp``, ``system``, ``satellite``, fields),
    plus ``label`` with a reference point. One request per period, system and point.
    """

    def __init__(
        self, requester: Requester, discover: DiscoveryService, *, start_datetime: datetime,
        end_datetime: datetime, system: Any, satellite: Any = (), field: Any = (),
        sample_interval: timedelta = timedelta(seconds=15), reference_point: Any = None,
        elevation_filter: FloatFilter | None = None, azimuth_filter: FloatFilter | None = None,
    ) -> None:  # fmt: skip
        super().__init__(requester, discover)
        self.period = _window(start_datetime, end_datetime)
        self.system = sorted(set(_choices("system", system, SYSTEMS)))
        if not self.system:
            raise ConfigError("gnss_ephemeris_positions needs at least one system (e.g. 'G')")
        self.satellite = [str(s) for s in as_list("satellite", satellite)]
        self.field = _choices("field", field, EPH_FIELDS)
        if not isinstance(sample_interval, timedelta) or sample_interval < timedelta(
            milliseconds=200
        ):
            raise ConfigError(
                f"sample_interval must be a timedelta of at least 200 ms, got {sample_interval!r}"
            )
        self.sample_interval = sample_interval
        if reference_point is None or isinstance(reference_point, GeodeticCoordinate):
            points = [] if reference_point is None else [reference_point]
        else:
            points = as_list("reference_point", reference_point)
        if not all(isinstance(p, GeodeticCoordinate) for p in points):
            raise ConfigError("reference_point must be a GeodeticCoordinate (or a list of them)")
        self.reference_points: list[GeodeticCoordinate | None] = list(points) or [None]
        angular = {"elevation", "azimuth"} & set(self.field)
        if not points and (angular or elevation_filter or azimuth_filter):
            raise ConfigError(
                "elevation and azimuth (fields or filters) need a reference_point "
                "(GeodeticCoordinate(latitude=..., longitude=..., height=...))"
            )
        self.elevation_filter, self.azimuth_filter = elevation_filter, azimuth_filter

    async def _discover_sources(self) -> list[Any]:
        return list(self.system)

    def _requests_for(self, sources: list[Any], by_day: bool) -> list[Any]:
        periods = _periods(self.period, max_period(self.sample_interval), by_day)
        return [
            GnssEphemerisPositionsRequest(period, system, point)
            for period in periods
            for system in sources
            for point in self.reference_points
        ]

    def group_by_system(self: Self) -> Self:
        """One group per satellite system."""
        return self.group_by(lambda r: r.system)

    def sort_by_system(self: Self, *, reverse: bool = False) -> Self:
        """Order requests, groups and (within an epoch) rows by system letter."""
        self._rank_reverse = reverse
        return self.sort_by(lambda r: r.system, reverse=reverse)

    def _rank_key(self, request: Any) -> Any:
        return (request.system, self.reference_points.index(request.reference_point))

    def _partition(self, request: Any) -> tuple[str, str]:
        return request.system, request.period.start.date().isoformat()

    def _job(self, request: Any, rank: int, unit: int) -> Job:
        from ._arrow import ephemeris_piece

        point = request.reference_point
        params: dict[str, Any] = {
            **_window_params(request.period),
            "sample_period": int(self.sample_interval / timedelta(milliseconds=1)),
            "system": request.system,
        }
        if self.satellite:
            params["satellite"] = self.satellite
        if self.field:
            params["field"] = self.field
        if point is not None:
            params.update(latitude=point.latitude, longitude=point.longitude, height=point.height)
            if self.elevation_filter is not None:
                params["elevation_filter"] = str(self.elevation_filter)
            if self.azimuth_filter is not None:
                params["azimuth_filter"] = str(self.azimuth_filter)
        label = point.label if point is not None else None

        def transform(raw: pa.Table) -> Any:
            return ephemeris_piece(raw, rank, label, point is not None)

        return Job("beta/data-products/gnss/ephemeris/positions", params, transform, unit)

    def _schema(self) -> pa.Schema:
        import pyarrow as pa

        fields = self.field or [f for f in EPH_FIELDS if self.reference_points != [None]
                                or f not in ("elevation", "azimuth")]  # fmt: skip
        schema = pa.schema(
            [("timestamp", pa.timestamp("ms", tz="UTC")), ("system", pa.string()),
             ("satellite", pa.uint8())] + [(f, pa.float64()) for f in fields]
        )  # fmt: skip
        if self.reference_points != [None]:
            schema = schema.append(pa.field("label", pa.string()))
        return schema
