"""``plan.write_parquet(dir)``: one Parquet file per partition, atomically, resumable.

A partition (station or system, UTC day) is fetched unit by unit and each merged unit
becomes a row group, so memory holds one unit per partition being written. Files are
written as ``.<name>.<random>.tmp`` next to their final name, fsynced, renamed, and the
directory fsynced; leftovers of a killed run are removed on the next one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import ConfigError, DownloadError
from ._engine import Run, execute

if TYPE_CHECKING:
    import pyarrow as pa

    from .._download._progress import ProgressOption, Tracker
    from ._arrow import Piece
    from ._plan import AsyncQueryPlan

__all__ = ["ParquetReport", "write_partitions"]


@dataclass
class ParquetReport:
    """What ``write_parquet`` did: files ``written`` and ``skipped`` (already complete)."""

    written: list[str] = field(default_factory=list)
    """Files written by this run (relative to the destination)."""
    skipped: list[str] = field(default_factory=list)
    """Files that were already complete, so not fetched again."""
    rows: int = 0
    """Rows written by this run."""


def _safe(part: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in part).lstrip(".")
    return cleaned or "_"


def _fsync_dir(path: str) -> None:
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clean_leftovers(directory: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(directory):
            if name.startswith(".") and name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))


class _PartitionWriter:
    """Writes one partition's row groups to a temporary file, then publishes it."""

    def __init__(self, final: str, schema: pa.Schema) -> None:
        self.final = final
        self.temp = os.path.join(
            os.path.dirname(final), f".{os.path.basename(final)}.{secrets.token_hex(4)}.tmp"
        )
        self.schema = schema
        self.writer: Any = None
        self.rows = 0

    def write(self, tables: list[pa.Table]) -> None:
        import pyarrow.parquet as pq

        for table in tables:
            if self.writer is None:
                self.schema = table.schema
                self.writer = pq.ParquetWriter(self.temp, self.schema, compression="zstd")
            self.writer.write_table(table)
            self.rows += table.num_rows

    def publish(self) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(self.temp, self.schema, compression="zstd")
        self.writer.close()
        with open(self.temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp, self.final)
        _fsync_dir(os.path.dirname(self.final))

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            if self.writer is not None:
                self.writer.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


async def _write_one(
    plan: AsyncQueryPlan[Any],
    requests: list[Any],
    final: str,
    name: str,
    tracker: Tracker | None,
    report: ParquetReport,
) -> None:
    from ._arrow import merge_pieces, release_memory

    schema = plan._schema()
    writer = _PartitionWriter(final, schema)

    async def sink(pieces: list[Piece]) -> None:
        def work() -> None:
            writer.write(merge_pieces(pieces, schema))
            release_memory()

        await anyio.to_thread.run_sync(work)

    jobs = plan._jobs(requests)
    try:
        await execute(
            plan._requester, jobs, Run(total=len(jobs)), sink, concurrency=2, tracker=tracker
        )
        await anyio.to_thread.run_sync(writer.publish)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(writer.discard)
        raise
    report.written.append(name)
    report.rows += writer.rows


def _prepare(
    partitions: dict[tuple[str, str], list[Any]], dest: str, report: ParquetReport
) -> list[tuple[str, str, list[Any]]]:
    """Create the directories, drop leftovers; the partitions still to write."""
    todo: list[tuple[str, str, list[Any]]] = []
    for (outer, day), requests in sorted(partitions.items()):
        directory = os.path.join(dest, _safe(outer))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create {directory}: {exc.strerror}") from None
        _clean_leftovers(directory)
        name = os.path.join(_safe(outer), f"{_safe(day)}.parquet")
        if os.path.exists(os.path.join(dest, name)):
            report.skipped.append(name)
        else:
            todo.append((os.path.join(dest, name), name, requests))
    return todo


async def write_partitions(
    plan: AsyncQueryPlan[Any],
    partitions: dict[tuple[str, str], list[Any]],
    dest: str,
    *,
    progress: ProgressOption,
    concurrency: int,
) -> ParquetReport:
    """Write every partition not already complete under ``dest``."""
    from .._download._progress import Tracker, resolve_progress

    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency must be an int >= 1, got {concurrency!r}")
    report = ParquetReport()
    todo = await anyio.to_thread.run_sync(_prepare, partitions, dest, report)
    callback, bar = resolve_progress(progress, label="fetch")
    total = sum(len(r) for _, _, r in todo)
    tracker = Tracker(callback, total) if callback is not None else None
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(final: str, name: str, requests: list[Any]) -> None:
        async with limiter:
            await _write_one(plan, requests, final, name, tracker, report)

    try:
        async with anyio.create_task_group() as tg:
            for final, name, requests in todo:
                tg.start_soon(one, final, name, requests)
        if tracker is not None:
            tracker.finish()
    finally:
        if bar is not None:
            bar.close()
    report.written.sort()
    return report
