"""The fake's GNSS data products: deterministic synthetic Arrow IPC streams.

pyarrow and numpy are imported on the first data request only (``pip install
'earthscope-sdk-async[arrow]'``). Generation is vectorised and the bodies of recent
requests are cached (by path and query), so the fake can serve benchmark-sized plans.

Observations: every epoch on the session's grid in ``[start, end)`` has 16 satellites
(GPS 1-8, GLONASS 1-4, Galileo 1-4) x 2 codes (``1C``, ``2W``) = 32 rows, ordered by
time, system id, satellite, code. Positions: one row per second. Ephemeris: one row per
``sample_period`` per satellite (8 per system).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._response import Response, json_response

if TYPE_CHECKING:
    from ._catalogue import Catalogue
    from ._log import RecordedRequest

__all__ = ["BodyCache", "serve_data"]

ARROW_TYPE = "application/vnd.apache.arrow.stream"
_SATS = (
    [(1, s) for s in range(1, 9)] + [(2, s) for s in range(1, 5)] + [(4, s) for s in range(1, 5)]
)
_CODES = [0x3143, 0x3257]  # "1C", "2W"
_LETTERS = {"G": 1, "R": 2, "S": 3, "E": 4, "C": 5, "J": 6, "I": 7}
_OBS_FIELDS = ("range", "phase", "doppler", "snr", "slip", "flags", "fcn")
_POS_FIELDS = ("east", "north", "up", "sigEE", "sigNN", "sigUU", "qChannel", "ingestLatency",
               "processingDelay")  # fmt: skip
_EPH_FIELDS = ("x", "y", "z", "elevation", "azimuth", "clock", "relativity")


class BodyCache:
    """Recently generated bodies, up to ``max_bytes`` in total (least recently used out)."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: Any, body: bytes) -> None:
        with self._lock:
            if key in self._items or len(body) > self.max_bytes:
                return
            self._items[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)


class _BadRequest(Exception):
    pass


def _ms(request: RecordedRequest, key: str) -> int:
    raw = request.query.get(key)
    if not raw:
        raise _BadRequest(f"{key} is required")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRequest(f"{key} is not an ISO-8601 datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def _window(request: RecordedRequest) -> tuple[int, int]:
    start, end = _ms(request, "start_datetime"), _ms(request, "end_datetime")
    if end <= start:
        raise _BadRequest("end_datetime must be after start_datetime")
    return start, end


def _fields(request: RecordedRequest, allowed: tuple[str, ...]) -> list[str]:
    wanted = request.query_list("field")
    bad = [f for f in wanted if f not in allowed]
    if bad:
        raise _BadRequest(f"unknown field(s) {bad}")
    return [f for f in allowed if f in wanted] if wanted else list(allowed)


def _ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=1 << 20)
    return bytes(sink.getvalue())


def _grid(start: int, end: int, step: int) -> Any:
    import numpy as np

    first = -(-start // step) * step
    return np.arange(first, end, step, dtype=np.int64)


def _seed(name: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 997


def observations(catalogue: Catalogue, request: RecordedRequest) -> bytes | None:
    """The body for an observations request; ``None`` when there is no data."""
    import numpy as np
    import pyarrow as pa

    session = catalogue.session(request.query.get("session_id", ""))
    if session is None or session.station.decommissioned:
        return None
    start, end = _window(request)
    epochs = _grid(start, end, session.interval_ms)
    if len(epochs) > catalogue.max_epochs:
        raise _BadRequest(f"too many epochs ({len(epochs)} > {catalogue.max_epochs})")
    combos = [(sy, sa, c) for sy, sa in _SATS for c in _CODES]
    systems = {_LETTERS.get(s, -1) for s in request.query_list("system")}
    sats = {int(s) for s in request.query_list("satellite") if s.isdigit()}
    codes = {(ord(c[0]) << 8) | ord(c[1]) for c in request.query_list("obs_code") if len(c) == 2}
    combos = [
        (sy, sa, c) for sy, sa, c in combos
        if (not systems or sy in systems) and (not sats or sa in sats) and (not codes or c in codes)
    ]  # fmt: skip
    if not len(epochs) or not combos:
        return None
    per = len(combos)
    sys_col = np.tile(np.array([c[0] for c in combos], np.uint8), len(epochs))
    sat_col = np.tile(np.array([c[1] for c in combos], np.uint8), len(epochs))
    obs_col = np.tile(np.array([c[2] for c in combos], np.uint16), len(epochs))
    time_col = np.repeat(epochs, per)
    seconds = (time_col % 86_400_000).astype(np.float64) / 1000.0
    base = 2.0e7 + 1000.0 * sat_col + 10.0 * sys_col + _seed(session.station.code)
    values = {
        "range": base + seconds * 0.5,
        "phase": base * 5.25 + seconds,
        "doppler": np.sin(seconds / 600.0 + sat_col) * 3000.0,
        "snr": (
            38.0
            + 8.0 * np.sin(seconds / 5400.0 + sat_col + _seed(session.station.code))
            + (obs_col & 0xF) * 0.5
        ).astype(np.float32),
        "slip": (time_col // session.interval_ms % 97 == 0).astype(np.uint8),
        "flags": np.zeros(len(time_col), np.uint8),
        "fcn": np.where(sys_col == 2, sat_col.astype(np.int8) - 3, 0).astype(np.int8),
    }
    columns: dict[str, Any] = {"time": time_col, "sys": sys_col, "sat": sat_col, "obs": obs_col}
    columns.update({f: values[f] for f in _fields(request, _OBS_FIELDS)})
    return _ipc(pa.table(columns))


def positions(catalogue: Catalogue, request: RecordedRequest) -> bytes | None:
    """The body for an instantaneous-positions request; ``None`` when there is no data."""
    import numpy as np
    import pyarrow as pa

    stream = catalogue.stream(request.query.get("stream_id", ""))
    if stream is None or stream.station.decommissioned or stream.stream_type != "gnss_ppp":
        return None
    start, end = _window(request)
    times = _grid(start, end, stream.interval_ms)
    if not len(times):
        return None
    seconds = (times % 86_400_000).astype(np.float64) / 1000.0
    seed = _seed(stream.station.code)
    values = {
        "east": np.sin(seconds / 3600.0) * 0.01 + seed * 1e-4,
        "north": np.cos(seconds / 3600.0) * 0.01,
        "up": np.sin(seconds / 900.0) * 0.02,
        "sigEE": np.full(len(times), 0.003),
        "sigNN": np.full(len(times), 0.003),
        "sigUU": np.full(len(times), 0.008),
        "qChannel": (times // 1000 % 4).astype(np.int32),
        "ingestLatency": (times // 1000 % 500 + 100).astype(np.int64),
        "processingDelay": (times // 1000 % 50 + 20).astype(np.int64),
    }
    columns: dict[str, Any] = {"time": times}
    columns.update({f: values[f] for f in _fields(request, _POS_FIELDS)})
    return _ipc(pa.table(columns))


def _interval(text: str | None) -> tuple[float, float, bool, bool] | None:
    if not text:
        return None
    if len(text) < 3 or text[0] not in "[(" or text[-1] not in "])" or "," not in text:
        raise _BadRequest(f"invalid interval {text!r}")
    low, high = text[1:-1].split(",", 1)
    try:
        return (
            float(low) if low else -1e300,
            float(high) if high else 1e300,
            text[0] == "[",
            text[-1] == "]",
        )
    except ValueError:
        raise _BadRequest(f"invalid interval {text!r}") from None


def ephemeris(catalogue: Catalogue, request: RecordedRequest) -> bytes | None:
    """The body for an ephemeris request; ``None`` when there is no data."""
    import numpy as np
    import pyarrow as pa

    start, end = _window(request)
    system = request.query.get("system", "")
    if system not in _LETTERS:
        raise _BadRequest("system must be one of G R E J C I S")
    try:
        period = int(request.query.get("sample_period", "15000"))
    except ValueError:
        raise _BadRequest("sample_period must be an integer of milliseconds") from None
    if period < 200:
        raise _BadRequest("sample_period must be at least 200 ms")
    point = "latitude" in request.query
    fields = _fields(request, _EPH_FIELDS)
    if not point and {"elevation", "azimuth"} & set(request.query_list("field")):
        raise _BadRequest("elevation and azimuth need a reference point")
    if not point:
        fields = [f for f in fields if f not in ("elevation", "azimuth")]
    sats = [int(s) for s in request.query_list("satellite") if s.isdigit()] or list(range(1, 9))
    times = _grid(start, end, period)
    if not len(times):
        return None
    time_col = np.repeat(times, len(sats))
    sat_col = np.tile(np.array(sats, np.uint8), len(times))
    phase = (time_col % 43_080_000).astype(np.float64) / 43_080_000 * 2 * np.pi + sat_col
    values = {
        "x": 2.6e7 * np.cos(phase),
        "y": 2.6e7 * np.sin(phase),
        "z": 1.0e7 * np.sin(phase / 2),
        "elevation": 45.0 + 44.0 * np.sin(phase),
        "azimuth": (np.degrees(phase) % 360.0),
        "clock": 1e-5 * np.cos(phase),
        "relativity": 1e-9 * np.sin(phase),
    }
    mask = np.ones(len(time_col), bool)
    for key, column in (("elevation_filter", "elevation"), ("azimuth_filter", "azimuth")):
        bounds = _interval(request.query.get(key)) if point else None
        if bounds is not None:
            low, high, low_in, high_in = bounds
            value = values[column]
            mask &= (value >= low) if low_in else (value > low)
            mask &= (value <= high) if high_in else (value < high)
    columns: dict[str, Any] = {
        "timestamp": pa.array(time_col[mask], pa.timestamp("ms", tz="UTC")),
        "system": pa.array(np.full(int(mask.sum()), system)),
        "satellite": sat_col[mask],
    }
    columns.update({f: values[f][mask] for f in fields})
    return _ipc(pa.table(columns))


_PRODUCTS = {
    "/beta/data-products/gnss/observations": observations,
    "/beta/data-products/gnss/positions/instantaneous/v2": positions,
    "/beta/data-products/gnss/ephemeris/positions": ephemeris,
}


def is_data_path(path: str) -> bool:
    """True for the three data-product paths."""
    return path in _PRODUCTS


def serve_data(catalogue: Catalogue, cache: BodyCache, request: RecordedRequest) -> Response:
    """Answer a data-product request: an Arrow stream, 404 (no data) or 422 (bad query)."""
    key = (request.path, request.query_items)
    body = cache.get(key)
    if body is None:
        try:
            found = _PRODUCTS[request.path](catalogue, request)
        except _BadRequest as exc:
            return json_response(422, {"detail": str(exc)})
        except ImportError:
            return json_response(501, {"detail": "the fake needs pyarrow for data products"})
        if found is None:
            return json_response(404, {"detail": "No data found for the request"})
        body = found
        cache.put(key, body)
    return Response(200, [("content-type", ARROW_TYPE)], body)
