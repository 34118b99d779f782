"""The options of ``discover`` and ``data`` (argparse only, like the parser)."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone

__all__ = ["add_data_options", "add_discover_options", "parse_interval", "parse_time"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hz": -1.0}


def parse_interval(text: str) -> timedelta:
    """``15s``, ``1s``, ``200ms``, ``1Hz``, ``5m`` or a number of seconds as a timedelta."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or (unit and unit not in _UNITS):
        raise argparse.ArgumentTypeError(
            f"expected an interval like 15s, 1Hz or 200ms; got {text!r}"
        )
    value = float(match.group(1))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the interval must be positive, got {text!r}")
    scale = _UNITS.get(unit, 1.0)
    return timedelta(seconds=1.0 / value if scale < 0 else value * scale)


def parse_time(text: str) -> datetime:
    """An ISO-8601 date or datetime, taken as UTC when it has no offset."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or datetime like 2025-03-01 or 2025-03-01T12:00; got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", metavar="NAME", action="append", default=[],
                        help="network name (repeatable)")  # fmt: skip
    parser.add_argument("--station", metavar="NAME", action="append", default=[],
                        help="station name, e.g. P041 (repeatable)")  # fmt: skip


def add_discover_options(parser: argparse.ArgumentParser) -> None:
    """``discover stations|sessions|streams [filters] [--json]``."""
    parser.add_argument("kind", choices=["networks", "stations", "sessions", "streams"],
                        help="what to list")  # fmt: skip
    _filters(parser)
    parser.add_argument("--interval", type=parse_interval, metavar="DT",
                        help="sample interval of sessions/streams (15s, 1Hz, ...)")  # fmt: skip
    parser.add_argument("--stream-type", choices=["gnss_raw", "gnss_ppp"], help="stream type")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="at most N results (default: all)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``data observations|positions|ephemeris --start --end -o OUT``."""
    parser.add_argument("product", choices=["observations", "positions", "ephemeris"],
                        help="the data product")  # fmt: skip
    _filters(parser)
    parser.add_argument("--start", type=parse_time, required=True, metavar="TIME",
                        help="start (UTC), e.g. 2025-03-01")  # fmt: skip
    parser.add_argument("--end", type=parse_time, required=True, metavar="TIME",
                        help="end (UTC, exclusive), e.g. 2025-03-02")  # fmt: skip
    parser.add_argument("--interval", type=parse_interval, metavar="DT",
                        help="sample interval: 15s, 1s, 1Hz (ephemeris: 15s)")  # fmt: skip
    parser.add_argument("--system", action="append", default=[], metavar="G",
                        help="system letter (repeatable; ephemeris: required)")  # fmt: skip
    parser.add_argument("--field", action="append", default=[], metavar="NAME",
                        help="a field to fetch (repeatable; default: all)")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="out.parquet, out.csv, or a directory/ for one Parquet file "
                        "per station and day (resumable)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress display")
