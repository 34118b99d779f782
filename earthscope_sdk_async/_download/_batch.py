"""Bulk download: ``concurrency`` workers taking the items one at a time.

The input (an iterable or async iterable of URLs or ``(url, relative path)`` pairs) is
consumed lazily: an item is read from it only when a worker is free to take it, so a
generator of a million URLs is never materialised. Each item gets one
:class:`DownloadResult`; a bad item (unsafe name, HTTP 404...) fails alone, never the batch.

An existing final file is skipped without any request unless ``overwrite=True`` (existence
only: its size is not checked, and it is not hashed even when a checksum is expected, since
a final file only ever appears by renaming a complete, verified ``.part``). The worker
looks its item up on disk (:class:`Locator`: a few system calls, made in the event loop: a
worker-thread round trip would cost more) before its first request. See :mod:`._file` for
retries, resuming, checksums and the atomic rename, :mod:`._progress` for ``progress``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import anyio

from .._checks import check_count, is_number
from .._errors import ConfigError, DownloadError, EarthScopeError, TransportError
from .._http._pool import grow_pool
from ._checksum import ChecksumOption, Checksums
from ._file import DEFAULT_STALL_TIMEOUT, Fetched, FileJob, fetch_file
from ._paths import Locator, Spot, item_url, safe_url
from ._progress import (
    ProgressCallback,
    ProgressOption,
    Tracker,
    resolve_progress,
)
from ._route import Router, direct
from ._types import DownloadReport, DownloadResult

if TYPE_CHECKING:
    from .._http import Requester

__all__ = [
    "ChecksumOption",
    "DownloadItem",
    "DownloadSource",
    "ProgressCallback",
    "ProgressOption",
    "check_source",
    "run_download",
]

logger = logging.getLogger(__name__)

DownloadItem: TypeAlias = "str | tuple[str, str | os.PathLike[str]]"
"""A URL (saved under its last path segment) or a ``(url, relative path)`` pair."""
DownloadSource: TypeAlias = "Iterable[DownloadItem] | AsyncIterable[DownloadItem]"
"""What :meth:`AsyncEarthScopeClient.download` accepts."""

_Source: TypeAlias = "DownloadSource | AsyncIterable[DownloadItem | DownloadResult]"
"""What the engine takes: the items, some of them possibly already failed (e.g. an ``s3://``
prefix whose listing failed), reported as they are."""


@dataclass
class _Batch:
    """Shared state of one :func:`run_download` call."""

    job: FileJob
    dest: Path
    overwrite: bool
    per_file_timeout: float | None
    progress: Tracker
    locate: Locator
    results: dict[int, DownloadResult] = field(default_factory=dict)
    claimed: set[Path] = field(default_factory=set)


def _check_options(
    concurrency: int,
    retries: int | None,
    per_file_timeout: float | None,
    stall_timeout: float | None = None,
) -> None:
    check_count("concurrency", concurrency)
    if retries is not None:
        check_count("retries (attempts per file)", retries)
    for name, value in (("per_file_timeout", per_file_timeout), ("stall_timeout", stall_timeout)):
        if value is not None and not (is_number(value) and value > 0):
            raise ConfigError(f"{name} must be a number > 0 (or None), got {value!r}")


def check_source(urls: object) -> None:
    """:class:`ConfigError` for a single string, or anything but an iterable or async
    iterable, where the items (URLs) are expected."""
    if isinstance(urls, (str, bytes, bytearray, memoryview)):
        raise ConfigError("urls must be an iterable of URLs (e.g. a list), not a single string")
    if not isinstance(urls, (Iterable, AsyncIterable)):
        raise ConfigError(
            "urls must be an iterable (e.g. a list) or async iterable of URLs or "
            f"(url, relative path) pairs, got {type(urls).__name__}"
        )


async def run_download(
    requester: Requester,
    urls: _Source,
    dest: str | os.PathLike[str],
    *,
    concurrency: int,
    overwrite: bool,
    progress: ProgressOption,
    retries: int | None,
    per_file_timeout: float | None,
    checksum: ChecksumOption = None,
    checksum_algorithm: str = "sha256",
    route: Router = direct,
    stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
) -> DownloadReport:
    """The body of :meth:`AsyncEarthScopeClient.download`; ``route`` says where each item's
    requests go (see :mod:`._route`)."""
    check_source(urls)
    _check_options(concurrency, retries, per_file_timeout, stall_timeout)
    checksums = Checksums(checksum, checksum_algorithm)
    callback, bar = resolve_progress(progress)
    root = Path(dest)
    try:
        try:
            await anyio.Path(root).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create the destination {root}: {exc.strerror}") from exc
        tracker = Tracker(callback, len(urls) if isinstance(urls, Sized) else None)
        attempts = retries if retries is not None else requester.policy.max_attempts
        http = requester.http
        grow_pool(http, concurrency)  # one connection per worker: none waits for the pool
        job = FileJob(
            http,
            requester.policy,
            attempts,
            requester.pause,
            requester.clock,
            tracker.add_bytes,
            checksums,
            route,
            stall_timeout,
        )
        try:
            return await _run(
                _Batch(job, root, overwrite, per_file_timeout, tracker, Locator(root, overwrite)),
                urls,
                concurrency,
            )
        finally:
            job.disk.close()
    finally:
        if bar is not None:
            bar.close()


_Located: TypeAlias = "Spot | DownloadResult"
"""Where an item goes, or its failed result."""


async def _run(batch: _Batch, urls: _Source, concurrency: int) -> DownloadReport:
    feed = _Feed(urls)  # (before the task group: an error here is not wrapped in a group)
    async with anyio.create_task_group() as group:
        feed.scope = group.cancel_scope
        for _ in range(concurrency):
            group.start_soon(_worker, batch, feed)
    if feed.failure is not None:
        raise feed.failure
    batch.progress.finish()
    return DownloadReport([batch.results[i] for i in sorted(batch.results)])


class _Feed:
    """The items, taken one at a time by the workers, in input order and lazily: at most
    one item per worker has been read from the input at any time. Taking an item from a
    plain iterable is a ``next()`` (no hand-off task, no stream: about two event-loop
    round trips per file less); an async iterable is read under a lock. If the caller's
    iterable raises, the batch is cancelled and the error re-raised by :func:`_run`."""

    def __init__(self, urls: _Source) -> None:
        self.scope: anyio.CancelScope | None = None
        """The batch's scope, cancelled if the input fails."""
        self._items: Iterator[object] | None = None
        self._async: AsyncIterator[object] | None = None
        if isinstance(urls, AsyncIterable):
            self._async = aiter(urls)
        else:
            self._items = iter(urls)
        self._lock = anyio.Lock()
        self._next = 0
        self.failure: BaseException | None = None

    async def take(self) -> tuple[int, object] | None:
        """The next ``(index, item)``, ``None`` once the input is exhausted (or failed)."""
        if self.failure is not None:
            return None
        try:
            if self._items is not None:
                item = next(self._items, _END)
            else:
                assert self._async is not None
                async with self._lock:
                    item = await anext(self._async, _END) if self.failure is None else _END
        except Exception as exc:  # the caller's iterable failed: stop and re-raise it
            self.failure = exc
            if self.scope is not None:
                self.scope.cancel()
            return None
        if item is _END:
            return None
        index, self._next = self._next, self._next + 1
        return index, item


_END = object()


async def _worker(batch: _Batch, feed: _Feed) -> None:
    while (taken := await feed.take()) is not None:
        index, item = taken
        located = _locate(batch, item)
        if isinstance(located, DownloadResult) or located.existing is not None:
            await anyio.lowlevel.checkpoint()  # (nothing awaited: let others run)
        batch.results[index] = await _one(batch, located)
        batch.progress.file_done()


def _locate(batch: _Batch, item: object) -> _Located:
    if isinstance(item, DownloadResult):  # failed before it got here
        return item
    url = item_url(item)
    try:
        return batch.locate(item)  # a few system calls: cheaper than a thread round trip
    except DownloadError as exc:
        return DownloadResult(url, None, "failed", error=exc)
    except OSError as exc:
        return DownloadResult(url, None, "failed", error=_write_error(exc))
    except ValueError as exc:  # e.g. a name the file system refuses; never the whole batch
        error = DownloadError(f"cannot download {safe_url(url)!r}: {exc}")
        return DownloadResult(url, None, "failed", error=error)


async def _one(batch: _Batch, spot: _Located) -> DownloadResult:
    if isinstance(spot, DownloadResult):
        return spot
    url, target = spot.url, spot.target
    if target in batch.claimed:
        error = DownloadError(
            f"{safe_url(url)}: {target} is already the destination of another item"
        )
        return DownloadResult(url, target, "failed", error=error)
    batch.claimed.add(target)
    if spot.existing is not None:
        return DownloadResult(url, target, "skipped", spot.existing)
    try:
        return await _save(batch, spot)
    except EarthScopeError as exc:
        return DownloadResult(url, target, "failed", error=exc)
    except OSError as exc:
        return DownloadResult(url, target, "failed", error=_write_error(exc))


def _write_error(exc: OSError) -> DownloadError:
    where = exc.filename if exc.filename is not None else "the destination"
    error = DownloadError(f"cannot write {where}: {exc.strerror or exc}")
    error.__cause__ = exc
    return error


async def _save(batch: _Batch, spot: Spot) -> DownloadResult:
    url, target = spot.url, spot.target
    expected = batch.job.checksums.expected(url)
    fetch = fetch_file(
        batch.job, url, target, expected, spot.part_size, spot.part_etag, spot.part_mtime
    )
    if batch.per_file_timeout is None:  # (no cancel scope: one less per file)
        return _downloaded(url, target, await fetch)
    with anyio.move_on_after(batch.per_file_timeout) as scope:
        return _downloaded(url, target, await fetch)
    assert scope.cancelled_caught
    raise TransportError(
        f"downloading {safe_url(url)} took longer than "
        f"per_file_timeout={batch.per_file_timeout} s; "
        "run again to resume it, or raise the timeout"
    )


def _downloaded(url: str, target: Path, fetched: Fetched) -> DownloadResult:
    return DownloadResult(url, target, "downloaded", fetched.received, checksum=fetched.checksum)
