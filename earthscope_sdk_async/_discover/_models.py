"""Discovery models: frozen records of networks, stations, sessions and streams.

Parsed from the JSON pages of ``GET beta/discover/datasource/{kind}`` (extra keys are
ignored). Sample intervals given as numbers are milliseconds, rolls are seconds (as the
API sends them).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, Literal, TypeVar

from .._errors import InvalidResponseError

__all__ = [
    "NetworkDatasource",
    "Page",
    "ProcessingFacility",
    "SessionDatasource",
    "StationDatasource",
    "StreamDatasource",
    "StreamSoftware",
    "StreamType",
]

P = TypeVar("P")

ProcessingFacility = Literal[
    "unknown", "earthscope", "cwu", "ucb", "ucsb", "caltech", "usgs_menlo_park",
    "usgs_pasadena", "usgs_csrc", "sgc", "csn", "igepn", "ineter", "ncgn",
]  # fmt: skip
"""Processing facility of a GNSS stream (1.9.3's literal; other strings are accepted)."""

StreamSoftware = Literal[
    "fastlane", "pivot_rtx", "rtnet", "septentrio_onboard", "netr9_onboard", "gseisrt",
    "receiver", "ubtr", "gnsstools", "jpl_ppp",
]  # fmt: skip
"""Software that produced a GNSS stream (1.9.3's literal; other strings are accepted)."""


class StreamType(enum.Enum):
    """The kind of a stream: raw GNSS observations or PPP positions."""

    GNSS_RAW = "gnss_raw"
    GNSS_PPP = "gnss_ppp"


@dataclass(frozen=True)
class Page(Generic[P]):
    """One page of a discovery listing."""

    has_next: bool
    offset: int
    limit: int
    items: list[P]
    total: int | None = None


def _bad(kind: str, why: str) -> InvalidResponseError:
    return InvalidResponseError(
        f"the discovery service answered an invalid {kind}: {why}; try again later or "
        "report it to EarthScope",
        status_code=200,
    )


def _str(raw: Mapping[str, Any], key: str, kind: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise _bad(kind, f"{key!r} is missing or not a string")
    return value


def _opt_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


_ISO = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _duration(value: Any, unit: str, kind: str, key: str) -> timedelta:
    if isinstance(value, bool):
        raise _bad(kind, f"{key!r} is not a duration")
    if isinstance(value, (int, float)):
        return timedelta(**{unit: value})
    if isinstance(value, str):
        match = _ISO.match(value.strip())
        if match and any(match.groups()):
            parts = {k: float(v) for k, v in match.groupdict().items() if v}
            return timedelta(
                days=parts.get("d", 0),
                hours=parts.get("h", 0),
                minutes=parts.get("m", 0),
                seconds=parts.get("s", 0),
            )
        try:
            return timedelta(**{unit: float(value)})
        except ValueError:
            pass
    raise _bad(kind, f"{key!r} is not a duration: {value!r}")


def _names(raw: Mapping[str, Any], kind: str) -> dict[str, str]:
    names = raw.get("names")
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in names.items()
    ):
        raise _bad(kind, "'names' is missing or not an object of strings")
    return dict(names)


def _columns(
    names: Mapping[str, str], values: Mapping[str, Any], fields: Iterable[str],
    namespaces: Iterable[str],
) -> dict[str, Any]:  # fmt: skip
    wanted = set(namespaces)
    result: dict[str, Any] = {}
    for name in fields:
        if name == "names" and not wanted:
            result.update({k.lower(): v for k, v in names.items()})
        elif name != "names":
            result[name] = values[name]
    if wanted:
        result.update({k.lower(): v for k, v in names.items() if k.lower() in wanted})
    return result


@dataclass(frozen=True)
class _Datasource:
    edid: str
    """The EarthScope data id."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Names by namespace (``IGS``, ``4CHARID``, ``GEOSNCL``, ...)."""
    description: str | None = None
    """A description, when the service has one."""

    def to_arrow_columns(
        self, *, fields: Iterable[str] = ("edid", "names"), namespaces: Iterable[str] = ()
    ) -> dict[str, Any]:
        """This datasource as a row of metadata columns (names lower-cased), as in 1.9.3."""
        values = {k: getattr(self, k) for k in fields if k != "names"}
        return _columns(self.names, values, fields, namespaces)


@dataclass(frozen=True)
class NetworkDatasource(_Datasource):
    """A network of stations."""

    @classmethod
    def from_json(cls, raw: Any) -> NetworkDatasource:
        """Parse one item of a network page."""
        raw = _object(raw, "network")
        return cls(
            _str(raw, "edid", "network"), _names(raw, "network"), _opt_str(raw, "description")
        )


def _object(raw: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise _bad(kind, "an item is not an object")
    return raw


@dataclass(frozen=True)
class StationDatasource(_Datasource):
    """A station (``names['IGS']`` is its 9-character id, e.g. ``P04100USA``)."""

    network_edids: tuple[str, ...] | None = None
    """The EDIDs of its networks (with ``with_parent_edids=True``)."""
    networks: tuple[NetworkDatasource, ...] | None = None
    """Its networks, when the service embeds them."""

    @classmethod
    def from_json(cls, raw: Any) -> StationDatasource:
        """Parse one item of a station page."""
        raw = _object(raw, "station")
        edids = raw.get("network_edids")
        networks = raw.get("networks")
        return cls(
            _str(raw, "edid", "station"),
            _names(raw, "station"),
            _opt_str(raw, "description"),
            tuple(str(e) for e in edids) if isinstance(edids, list) else None,
            tuple(NetworkDatasource.from_json(n) for n in networks)
            if isinstance(networks, list)
            else None,
        )


@dataclass(frozen=True)
class _StationMember(_Datasource):
    station_edid: str | None = None
    """The parent station's EDID (with ``with_parent_edids`` or ``with_parents``)."""
    station: StationDatasource | None = None
    """The parent station (with ``with_parents=True``)."""

    def to_arrow_columns(
        self, *, fields: Iterable[str] = ("edid", "names"), namespaces: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Metadata columns; the parent station's names override this datasource's."""
        result = super().to_arrow_columns(fields=fields, namespaces=namespaces)
        if self.station is not None:
            result.update(self.station.to_arrow_columns(fields=("names",), namespaces=namespaces))
        return result

    @property
    def station_name(self) -> str:
        """The parent station's IGS name (else its 4-character id, else its EDID)."""
        names = self.station.names if self.station is not None else {}
        fallback = self.station_edid or self.edid
        return names.get("IGS") or names.get("4CHARID") or fallback

    @property
    def station_key(self) -> str:
        """The parent station's EDID (this datasource's when unknown)."""
        if self.station is not None:
            return self.station.edid
        return self.station_edid or self.edid


def _member(raw: Mapping[str, Any]) -> tuple[str | None, StationDatasource | None]:
    station = raw.get("station")
    parsed = StationDatasource.from_json(station) if isinstance(station, dict) else None
    edid = _opt_str(raw, "station_edid") or (parsed.edid if parsed else None)
    return edid, parsed


@dataclass(frozen=True)
class SessionDatasource(_StationMember):
    """A recording session of a station (one sample interval and file roll)."""

    sample_interval: timedelta = timedelta(0)
    """Time between epochs."""
    roll: timedelta = timedelta(0)
    """File roll cadence."""

    @classmethod
    def from_json(cls, raw: Any) -> SessionDatasource:
        """Parse one item of a session page."""
        raw = _object(raw, "session")
        edid, station = _member(raw)
        return cls(
            _str(raw, "edid", "session"),
            _names(raw, "session"),
            _opt_str(raw, "description"),
            edid,
            station,
            _duration(raw.get("sample_interval"), "milliseconds", "session", "sample_interval"),
            _duration(raw.get("roll"), "seconds", "session", "roll"),
        )


_STREAM_FIELDS = ("edid", "names", "facility", "software", "label", "sample_interval")


@dataclass(frozen=True)
class StreamDatasource(_StationMember):
    """A real-time stream of a station (raw observations or PPP positions)."""

    stream_type: StreamType = StreamType.GNSS_RAW
    """Raw observations or PPP positions."""
    facility: str = "unknown"
    """The processing facility."""
    software: str = ""
    """The software producing the stream."""
    label: str = ""
    """The stream's label."""
    sample_interval: timedelta = timedelta(0)
    """Time between samples."""

    def to_arrow_columns(
        self,
        *,
        fields: Iterable[str] = _STREAM_FIELDS,
        namespaces: Iterable[str] = (),
    ) -> dict[str, Any]:  # fmt: skip
        """Metadata columns; the parent station's names override this stream's."""
        return super().to_arrow_columns(fields=fields, namespaces=namespaces)

    @classmethod
    def from_json(cls, raw: Any) -> StreamDatasource:
        """Parse one item of a stream page."""
        raw = _object(raw, "stream")
        edid, station = _member(raw)
        try:
            stream_type = StreamType(raw.get("stream_type"))
        except ValueError:
            raise _bad("stream", "'stream_type' is not gnss_raw or gnss_ppp") from None
        return cls(
            _str(raw, "edid", "stream"),
            _names(raw, "stream"),
            _opt_str(raw, "description"),
            edid,
            station,
            stream_type,
            _str(raw, "facility", "stream"),
            _str(raw, "software", "stream"),
            _str(raw, "label", "stream"),
            _duration(raw.get("sample_interval"), "milliseconds", "stream", "sample_interval"),
        )
