"""``earthscope-async discover`` and ``earthscope-async data``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from datetime import timedelta
from enum import Enum
from typing import Any

from earthscope_sdk_async._client import AsyncEarthScopeClient

from ._errors import OK, USAGE, CliError
from ._output import Output, format_duration
from ._progress import progress_display
from ._run import with_client

__all__ = ["do_data", "do_discover", "run"]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _row(kind: str, item: Any) -> list[str]:
    names = ", ".join(f"{k}={v}" for k, v in item.names.items())
    extra = ""
    if kind in ("sessions", "streams"):
        extra = f"{item.sample_interval.total_seconds():g} s"
        if kind == "streams":
            extra += f" {item.stream_type.value} {item.facility}/{item.software}"
    station = item.station_name if kind in ("sessions", "streams") else ""
    return [item.edid, names, station, extra]


async def do_discover(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """List datasources as a table or JSON."""
    common: dict[str, Any] = {"network_name": args.network, "limit": args.limit}
    discover = client.discover
    if args.kind == "networks":
        items = await discover.list_network_datasources(**common)
    elif args.kind == "stations":
        items = await discover.list_station_datasources(station_name=args.station, **common)
    elif args.kind == "sessions":
        items = await discover.list_session_datasources(
            station_name=args.station, sample_interval=args.interval, with_parents=True, **common
        )
    else:
        items = await discover.list_stream_datasources(
            station_name=args.station, sample_interval=args.interval,
            stream_type=args.stream_type, with_parents=True, **common,
        )  # fmt: skip
    if args.json:
        ui.json([_jsonable(i) for i in items])
        return OK
    rows = [_row(args.kind, i) for i in items]
    ui.table(["edid", "names", "station", "details"], rows, title=f"{len(rows)} {args.kind}")
    return OK


def _plan(client: AsyncEarthScopeClient, args: argparse.Namespace) -> Any:
    window = {"start_datetime": args.start, "end_datetime": args.end}
    if args.product == "ephemeris":
        if not args.system:
            raise CliError("ephemeris needs --system (e.g. --system G)", USAGE)
        interval = args.interval or timedelta(seconds=15)
        return client.data.gnss_ephemeris_positions(
            **window, system=args.system, field=args.field, sample_interval=interval
        )
    if not args.station and not args.network:
        raise CliError("give --station NAME (or --network NAME)", USAGE)
    names = {"station_name": args.station, "network_name": args.network}
    if args.product == "observations":
        return client.data.gnss_observations(
            **window, **names, system=args.system, field=args.field,
            sample_interval=args.interval,
        )  # fmt: skip
    return client.data.gnss_instantaneous_positions(
        **window, **names, field=args.field, sample_interval=args.interval
    )


async def do_data(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """Fetch a data product into a Parquet file, a CSV file or a partitioned directory."""
    out: str = args.output
    is_dir = out.endswith(("/", os.sep)) or args.output_is_dir
    if not is_dir and not out.endswith((".parquet", ".csv")):
        raise CliError("-o must end in .parquet or .csv, or be a directory (end it with /)", USAGE)
    plan = _plan(client, args)
    started = time.monotonic()
    await plan.plan()
    with progress_display(ui, len(plan), quiet=args.quiet, action="fetch") as progress:
        if is_dir:
            report = await plan.write_parquet(out, progress=progress)
            rows, what = (
                report.rows,
                f"{len(report.written)} files written, {len(report.skipped)} skipped",
            )
        else:
            table = await plan.fetch(progress=progress)
            _save(table, out)
            rows, what = table.num_rows, out
    ui.note(f"{rows} rows -> {what} in {format_duration(time.monotonic() - started)}")
    return OK


def _save(table: Any, path: str) -> None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    temp = f"{path}.part"
    if path.endswith(".csv"):
        pcsv.write_csv(table, temp)
    else:
        pq.write_table(table, temp, compression="zstd")
    os.replace(temp, path)


def run(args: argparse.Namespace) -> int:
    """Run ``discover`` or ``data``."""
    ui = Output()
    args.output_is_dir = args.command == "data" and os.path.isdir(args.output)
    if args.command == "discover":
        return with_client(args, lambda c: do_discover(c, ui, args))
    return with_client(args, lambda c: do_data(c, ui, args))
