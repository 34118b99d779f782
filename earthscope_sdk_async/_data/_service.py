"""DataService (``client.data``): builds the GNSS query plans (nothing is sent here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._models import FloatFilter, GeodeticCoordinate
from ._plans import (
    AsyncGnssEphemerisPositionsQueryPlan,
    AsyncGnssInstantaneousPositionsQueryPlan,
    AsyncGnssObservationsQueryPlan,
)

if TYPE_CHECKING:
    from .._discover import DiscoveryService
    from .._http import Requester

__all__ = ["DataService"]


class DataService:
    """GNSS data products as Arrow tables; reach it as ``client.data`` (needs pyarrow).

    Each method takes earthscope-sdk 1.9.3's keyword arguments and returns a plan: await
    ``plan.fetch()`` for one ``pyarrow.Table``, iterate it for one table per group, or
    ``plan.write_parquet(dir)`` for a partitioned dataset.
    """

    def __init__(self, requester: Requester, discover: DiscoveryService) -> None:
        self._requester = requester
        self._discover = discover

    def __repr__(self) -> str:
        return f"DataService({self._requester!r})"

    def gnss_observations(
        self, *, start_datetime: datetime, end_datetime: datetime, system: Any = (),
        satellite: Any = (), obs_code: Any = (), field: Any = (), network_name: Any = (),
        network_edid: Any = (), station_name: Any = (), station_edid: Any = (),
        session_name: Any = (), session_edid: Any = (), roll: timedelta | None = None,
        sample_interval: timedelta | None = None, meta_fields: Any = ("igs",),
    ) -> AsyncGnssObservationsQueryPlan:  # fmt: skip
        """A plan for the GNSS observations of the matching sessions in
        ``[start_datetime, end_datetime)`` (naive datetimes are UTC).

        Raises:
            ConfigError: no network/station/session name or EDID, an unknown system, field
                or meta field, or pyarrow is not installed.
        """
        return AsyncGnssObservationsQueryPlan(
            self._requester, self._discover, start_datetime=start_datetime,
            end_datetime=end_datetime, system=system, satellite=satellite, obs_code=obs_code,
            field=field, network_name=network_name, network_edid=network_edid,
            station_name=station_name, station_edid=station_edid, session_name=session_name,
            session_edid=session_edid, roll=roll, sample_interval=sample_interval,
            meta_fields=meta_fields,
        )  # fmt: skip

    def gnss_instantaneous_positions(
        self, *, start_datetime: datetime, end_datetime: datetime, field: Any = (),
        network_name: Any = (), network_edid: Any = (), station_name: Any = (),
        station_edid: Any = (), stream_name: Any = (), stream_edid: Any = (),
        facility: Any = (), software: Any = (), label: Any = (),
        sample_interval: timedelta | None = None,
        meta_fields: Any = ("igs", "facility", "software", "label"),
    ) -> AsyncGnssInstantaneousPositionsQueryPlan:  # fmt: skip
        """A plan for the PPP positions of the matching ``gnss_ppp`` streams.

        Raises:
            ConfigError: no network/station/stream name or EDID, an unknown field or meta
                field, or pyarrow is not installed.
        """
        return AsyncGnssInstantaneousPositionsQueryPlan(
            self._requester, self._discover, start_datetime=start_datetime,
            end_datetime=end_datetime, field=field, network_name=network_name,
            network_edid=network_edid, station_name=station_name, station_edid=station_edid,
            stream_name=stream_name, stream_edid=stream_edid, facility=facility,
            software=software, label=label, sample_interval=sample_interval,
            meta_fields=meta_fields,
        )  # fmt: skip

    def gnss_ephemeris_positions(
        self, *, start_datetime: datetime, end_datetime: datetime, system: Any,
        satellite: Any = (), field: Any = (), sample_interval: timedelta = timedelta(seconds=15),
        reference_point: GeodeticCoordinate | list[GeodeticCoordinate] | None = None,
        elevation_filter: FloatFilter | None = None, azimuth_filter: FloatFilter | None = None,
    ) -> AsyncGnssEphemerisPositionsQueryPlan:  # fmt: skip
        """A plan for satellite positions from broadcast ephemerides (one or more systems).

        Raises:
            ConfigError: an unknown system or field, elevation/azimuth without a reference
                point, or pyarrow is not installed.
        """
        return AsyncGnssEphemerisPositionsQueryPlan(
            self._requester, self._discover, start_datetime=start_datetime,
            end_datetime=end_datetime, system=system, satellite=satellite, field=field,
            sample_interval=sample_interval, reference_point=reference_point,
            elevation_filter=elevation_filter, azimuth_filter=azimuth_filter,
        )  # fmt: skip
