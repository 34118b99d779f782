"""Data-access models: satellite systems, float filters, reference points, time periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from .._discover import SessionDatasource, StreamDatasource
from .._errors import ConfigError

__all__ = [
    "FloatFilter",
    "GeodeticCoordinate",
    "GnssEphemerisPositionsRequest",
    "GnssInstantaneousPositionsRequest",
    "GnssObservationsRequest",
    "SatelliteSystem",
    "TimePeriod",
]

SatelliteSystem = Literal["G", "R", "E", "J", "C", "I", "S"]
"""GNSS system letter: GPS, GLONASS, Galileo, QZSS, BeiDou, IRNSS/NavIC, SBAS."""

SYSTEMS = ("G", "R", "E", "J", "C", "I", "S")
SYSTEM_IDS = {"G": 1, "R": 2, "S": 3, "E": 4, "C": 5, "J": 6, "I": 7}
"""The API's ``sys`` ids."""


@dataclass(frozen=True)
class FloatFilter:
    """A range filter on a float field; ``str()`` gives the API's interval text.

    ``FloatFilter(min=10.0)`` is ``[10.0,]``; exclusive bounds use ``(`` / ``)``.
    """

    min: float | None = None
    max: float | None = None
    inclusive_min: bool = True
    inclusive_max: bool = True

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ConfigError("a FloatFilter needs min or max (or both)")

    def __str__(self) -> str:
        lower = "[" if self.inclusive_min else "("
        upper = "]" if self.inclusive_max else ")"
        low = "" if self.min is None else self.min
        high = "" if self.max is None else self.max
        return f"{lower}{low},{high}{upper}"


@dataclass(frozen=True)
class GeodeticCoordinate:
    """A reference point: latitude and longitude in degrees, height in metres, a label."""

    latitude: float
    longitude: float
    height: float
    label: str | None = None

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90 or not -180 <= self.longitude <= 180:
            raise ConfigError(
                f"latitude must be in [-90, 90] and longitude in [-180, 180], got "
                f"{self.latitude}, {self.longitude}"
            )


class TimePeriod(NamedTuple):
    """A half-open UTC time window ``[start, end)``."""

    start: datetime
    end: datetime


def time_periods(start: datetime, end: datetime, step: timedelta) -> list[TimePeriod]:
    """``[start, end)`` cut from ``start`` in steps of ``step`` (the last one truncated)."""
    periods: list[TimePeriod] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + step, end)
        periods.append(TimePeriod(cursor, stop))
        cursor = stop
    return periods


class GnssObservationsRequest(NamedTuple):
    """One observations request: a period of one session."""

    period: TimePeriod
    session: SessionDatasource


class GnssInstantaneousPositionsRequest(NamedTuple):
    """One positions request: a period of one stream."""

    period: TimePeriod
    stream: StreamDatasource


class GnssEphemerisPositionsRequest(NamedTuple):
    """One ephemeris request: a period of one system, for one reference point (or none)."""

    period: TimePeriod
    system: str
    reference_point: GeodeticCoordinate | None
