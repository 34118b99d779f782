"""The fake's datasource catalogue: networks, stations, sessions, streams; discovery pages.

Deterministic: EDIDs are derived from names. The default catalogue has two networks,
twelve stations (``P041`` ... ``P052``, IGS ids ``P04100USA`` ...), each with a 15 s
session (daily files), a 1 Hz session (hourly files), a raw and a PPP stream; ``P999`` is
decommissioned: it is listed, but every data request for it answers 404.
:meth:`Catalogue.add_stations` adds more (for paging and benchmarks).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Catalogue", "FakeSession", "FakeStation", "FakeStream", "edid_for"]

PAGE_MAX = 100


def edid_for(kind: str, name: str) -> str:
    """A 26-character ULID-like EDID derived from ``kind`` and ``name``."""
    digest = hashlib.sha256(f"{kind}:{name}".encode()).digest()
    return base64.b32encode(digest).decode()[:26]


@dataclass(frozen=True)
class FakeNetwork:
    """A network."""

    name: str
    edid: str

    def json(self) -> dict[str, Any]:
        return {"edid": self.edid, "names": {"NETWORK": self.name}, "description": None}


@dataclass(frozen=True)
class FakeStation:
    """A station (``code`` is the 4-character id)."""

    code: str
    networks: tuple[FakeNetwork, ...]
    decommissioned: bool = False

    @property
    def edid(self) -> str:
        return edid_for("station", self.code)

    @property
    def igs(self) -> str:
        return f"{self.code}00USA"

    @property
    def names(self) -> dict[str, str]:
        return {"IGS": self.igs, "4CHARID": self.code, "DATAFLOW": self.code.lower()}

    def json(self, *, parent_edids: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {"edid": self.edid, "names": self.names, "description": None}
        if parent_edids:
            item["network_edids"] = [n.edid for n in self.networks]
        return item

    def matches(self, query: dict[str, list[str]]) -> bool:
        networks = query.get("network_name", [])
        if networks and not {n.name.lower() for n in self.networks} & {v.lower() for v in networks}:
            return False
        edids = query.get("network_edid", [])
        if edids and not {n.edid for n in self.networks} & set(edids):
            return False
        names = query.get("station_name", [])
        mine = {v.lower() for v in self.names.values()}
        if names and not mine & {v.lower() for v in names}:
            return False
        stations = query.get("station_edid", [])
        return not stations or self.edid in stations


@dataclass(frozen=True)
class _Member:
    station: FakeStation
    name: str

    def _base(self, kind: str, query: dict[str, list[str]]) -> dict[str, Any]:
        item: dict[str, Any] = {"edid": self.edid, "names": self.names, "description": None}
        if _flag(query, "with_parent_edids") or _flag(query, "with_parents"):
            item["station_edid"] = self.station.edid
        if _flag(query, "with_parents"):
            item["station"] = self.station.json()
        return item

    @property
    def edid(self) -> str:
        return edid_for(type(self).__name__, self.name)

    @property
    def names(self) -> dict[str, str]:
        return {"NAME": self.name}


@dataclass(frozen=True)
class FakeSession(_Member):
    """A session: ``interval_ms`` between epochs, files of ``roll_s`` seconds."""

    interval_ms: int = 15000
    roll_s: int = 86400

    def json(self, query: dict[str, list[str]]) -> dict[str, Any]:
        item = self._base("session", query)
        item.update(sample_interval=float(self.interval_ms), roll=float(self.roll_s))
        return item

    def matches(self, query: dict[str, list[str]]) -> bool:
        if not self.station.matches(query):
            return False
        if query.get("session_name") and self.name not in query["session_name"]:
            return False
        if query.get("session_edid") and self.edid not in query["session_edid"]:
            return False
        if not _number_matches(query, "sample_interval", self.interval_ms):
            return False
        return _number_matches(query, "roll", self.roll_s)


@dataclass(frozen=True)
class FakeStream(_Member):
    """A real-time stream (``gnss_raw`` or ``gnss_ppp``)."""

    stream_type: str = "gnss_ppp"
    facility: str = "earthscope"
    software: str = "fastlane"
    label: str = "lc"
    interval_ms: int = 1000

    @property
    def names(self) -> dict[str, str]:
        return {"GEOSNCL": self.name, "SN": self.name.split(".")[0]}

    def json(self, query: dict[str, list[str]]) -> dict[str, Any]:
        item = self._base("stream", query)
        item.update(
            stream_type=self.stream_type,
            facility=self.facility,
            software=self.software,
            label=self.label,
            sample_interval=float(self.interval_ms),
        )
        return item

    def matches(self, query: dict[str, list[str]]) -> bool:
        if not self.station.matches(query):
            return False
        for key, mine in (
            ("stream_name", self.name),
            ("stream_edid", self.edid),
            ("stream_type", self.stream_type),
            ("facility", self.facility),
            ("software", self.software),
            ("label", self.label),
        ):
            if query.get(key) and mine not in query[key]:
                return False
        return _number_matches(query, "sample_interval", self.interval_ms)


def _flag(query: dict[str, list[str]], key: str) -> bool:
    return (query.get(key) or ["false"])[-1].lower() == "true"


def _number_matches(query: dict[str, list[str]], key: str, value: float) -> bool:
    wanted = query.get(key)
    if not wanted:
        return True
    try:
        return any(abs(float(w) - value) < 1e-6 for w in wanted)
    except ValueError:
        return False


@dataclass
class Catalogue:
    """The datasources the fake knows, and its observation epoch limit per request."""

    networks: list[FakeNetwork] = field(default_factory=list)
    stations: list[FakeStation] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)
    streams: list[FakeStream] = field(default_factory=list)
    max_epochs: int = 11520
    """Observations requests over this many epochs answer 422."""
    body_cache_bytes: int = 256 << 20
    """How many bytes of generated data-product bodies are kept for repeated requests."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        if not self.networks:
            self.networks = [
                FakeNetwork("NOTA", edid_for("network", "NOTA")),
                FakeNetwork("GAGE", edid_for("network", "GAGE")),
            ]
            self.add_stations(12, first=41)
            self._add(FakeStation("P999", (self.networks[0],), decommissioned=True))

    def add_stations(self, count: int, *, first: int | None = None) -> list[FakeStation]:
        """Add ``count`` stations (with their sessions and streams); returns them."""
        with self._lock:
            start = first if first is not None else 1000 + len(self.stations)
            added = []
            for number in range(start, start + count):
                code = f"P{number:03d}" if number < 1000 else f"X{number:04d}"[:5]
                networks = tuple(self.networks[: 1 + number % 2])
                added.append(self._add(FakeStation(code, networks)))
            return added

    def _add(self, station: FakeStation) -> FakeStation:
        self.stations.append(station)
        code = station.code
        self.sessions.append(FakeSession(station, f"{code}.15s", 15000, 86400))
        self.sessions.append(FakeSession(station, f"{code}.1hz", 1000, 3600))
        self.streams.append(FakeStream(station, f"{code}.PW.LY_.20", "gnss_ppp"))
        self.streams.append(FakeStream(station, f"{code}.PW.LX_.00", "gnss_raw", "earthscope",
                                       "receiver", "raw", 1000))  # fmt: skip
        return station

    def session(self, edid: str) -> FakeSession | None:
        """The session with ``edid``."""
        return next((s for s in self.sessions if s.edid == edid), None)

    def stream(self, edid: str) -> FakeStream | None:
        """The stream with ``edid``."""
        return next((s for s in self.streams if s.edid == edid), None)

    def page(self, kind: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        """A discovery page of ``kind`` for ``query``; ``None`` for an unknown kind."""
        items: list[Any]
        if kind == "network":
            items = [
                n.json()
                for n in self.networks
                if (not query.get("network_name") or n.name in query["network_name"])
                and (not query.get("network_edid") or n.edid in query["network_edid"])
            ]
        elif kind == "station":
            parent = _flag(query, "with_parent_edids")
            items = [s.json(parent_edids=parent) for s in self.stations if s.matches(query)]
        elif kind == "session":
            items = [s.json(query) for s in self.sessions if s.matches(query)]
        elif kind == "stream":
            items = [s.json(query) for s in self.streams if s.matches(query)]
        else:
            return None
        offset = max(0, int((query.get("offset") or ["0"])[-1]))
        limit = min(PAGE_MAX, max(1, int((query.get("limit") or ["50"])[-1])))
        chunk = items[offset : offset + limit]
        if _flag(query, "with_edid_only"):
            chunk = [i["edid"] for i in chunk]
        return {
            "has_next": offset + limit < len(items),
            "offset": offset,
            "limit": limit,
            "items": chunk,
            "total": len(items),
        }
