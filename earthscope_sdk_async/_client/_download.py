"""Bulk download: a bounded producer feeding ``concurrency`` workers.

The input (an iterable or async iterable of URLs or ``(url, relative path)`` pairs) is
consumed lazily: the producer blocks once ``concurrency`` items wait for a worker, so a
generator of a million URLs is never materialised. Each item gets one
:class:`DownloadResult`; a bad item (unsafe name, HTTP 404...) fails alone, never the batch.

An existing final file is skipped without any request unless ``overwrite=True`` (existence
only: its size is not checked, since a final file only ever appears by renaming a complete
``.part``). See :mod:`._download_file` for retries, resuming and the atomic rename.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterable, Callable, Iterable, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from .._errors import ConfigError, DownloadError, EarthScopeError, TransportError
from ._download_file import FileJob, fetch_file
from ._download_paths import item_url, resolve_target, safe_url
from ._download_types import DownloadProgress, DownloadReport, DownloadResult

if TYPE_CHECKING:
    from ._async_client import AsyncEarthScopeClient

__all__ = ["DownloadItem", "DownloadSource", "ProgressCallback", "run_download"]

logger = logging.getLogger(__name__)

DownloadItem: TypeAlias = "str | tuple[str, str | os.PathLike[str]]"
"""A URL (saved under its last path segment) or a ``(url, relative path)`` pair."""
DownloadSource: TypeAlias = "Iterable[DownloadItem] | AsyncIterable[DownloadItem]"
"""What :meth:`AsyncEarthScopeClient.download` accepts."""
ProgressCallback: TypeAlias = Callable[[DownloadProgress], None]
"""Called with a :class:`DownloadProgress` at most about 10 times a second, and at the end."""

_INTERVAL = 0.1


class _Progress:
    """Counts bytes and files; calls the callback at most every ``_INTERVAL`` seconds."""

    def __init__(self, callback: ProgressCallback | None, files_total: int | None) -> None:
        self.callback = callback
        self.files_total = files_total
        self.bytes_done = 0
        self.files_done = 0
        self.started = time.monotonic()
        self.last = -float("inf")

    def add_bytes(self, count: int) -> None:
        self.bytes_done += count
        self._maybe_emit()

    def file_done(self) -> None:
        self.files_done += 1
        self._maybe_emit()

    def finish(self) -> None:
        self.files_total = self.files_done
        self._emit(self.bytes_done)

    def _maybe_emit(self) -> None:
        if self.callback is not None and time.monotonic() - self.last >= _INTERVAL:
            self._emit(None)

    def _emit(self, bytes_total: int | None) -> None:
        callback = self.callback
        if callback is None:
            return
        now = time.monotonic()
        self.last = now
        rate = self.bytes_done / max(now - self.started, 1e-6)
        snapshot = DownloadProgress(
            self.bytes_done, bytes_total, self.files_done, self.files_total, rate
        )
        try:
            callback(snapshot)
        except Exception:  # a broken callback must not abort the batch
            logger.warning("the download progress callback failed; ignoring it", exc_info=True)
            self.callback = None


@dataclass
class _Batch:
    """Shared state of one :func:`run_download` call."""

    job: FileJob
    dest: Path
    overwrite: bool
    per_file_timeout: float | None
    progress: _Progress
    results: dict[int, DownloadResult] = field(default_factory=dict)
    claimed: set[Path] = field(default_factory=set)


def _check_options(concurrency: int, retries: int | None, per_file_timeout: float | None) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or retries < 1
    ):
        raise ConfigError(f"retries (attempts per file) must be an integer >= 1, got {retries!r}")
    if per_file_timeout is not None and not (
        isinstance(per_file_timeout, (int, float)) and per_file_timeout > 0
    ):
        raise ConfigError(f"per_file_timeout must be a number > 0, got {per_file_timeout!r}")


async def run_download(
    client: AsyncEarthScopeClient,
    urls: DownloadSource,
    dest: str | os.PathLike[str],
    *,
    concurrency: int,
    overwrite: bool,
    progress: ProgressCallback | None,
    retries: int | None,
    per_file_timeout: float | None,
) -> DownloadReport:
    """The body of :meth:`AsyncEarthScopeClient.download`."""
    _check_options(concurrency, retries, per_file_timeout)
    root = Path(dest)
    try:
        await anyio.Path(root).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the destination {root}: {exc.strerror}") from exc
    attempts = retries if retries is not None else client.retry_policy.max_attempts
    tracker = _Progress(progress, len(urls) if isinstance(urls, Sized) else None)
    job = FileJob(
        client.http, client.retry_policy, attempts, client._pause, client.clock, tracker.add_bytes
    )
    batch = _Batch(job, root, overwrite, per_file_timeout, tracker)
    send, receive = anyio.create_memory_object_stream[tuple[int, object]](concurrency)
    failure: BaseException | None = None
    async with anyio.create_task_group() as group:
        async with receive:
            for _ in range(concurrency):
                group.start_soon(_worker, batch, receive.clone())
        try:
            await _produce(urls, send)
        except Exception as exc:  # the caller's iterable failed: stop and re-raise it
            failure = exc
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    tracker.finish()
    return DownloadReport([batch.results[i] for i in sorted(batch.results)])


async def _produce(urls: DownloadSource, send: ObjectSendStream[tuple[int, object]]) -> None:
    async with send:
        index = 0
        if isinstance(urls, AsyncIterable):
            async for item in urls:
                await send.send((index, item))
                index += 1
        else:
            for item in urls:
                await send.send((index, item))
                index += 1


async def _worker(batch: _Batch, receive: ObjectReceiveStream[tuple[int, object]]) -> None:
    async with receive:
        async for index, item in receive:
            batch.results[index] = await _one(batch, item)
            batch.progress.file_done()


async def _one(batch: _Batch, item: object) -> DownloadResult:
    url = item_url(item)
    try:
        url, target = await anyio.to_thread.run_sync(resolve_target, item, batch.dest)
    except DownloadError as exc:
        return DownloadResult(url, None, "failed", error=exc)
    if target in batch.claimed:
        error = DownloadError(
            f"{safe_url(url)}: {target} is already the destination of another item"
        )
        return DownloadResult(url, target, "failed", error=error)
    batch.claimed.add(target)
    try:
        return await _save(batch, url, target)
    except EarthScopeError as exc:
        return DownloadResult(url, target, "failed", error=exc)
    except OSError as exc:
        error = DownloadError(f"cannot write {target}: {exc.strerror or exc}")
        error.__cause__ = exc
        return DownloadResult(url, target, "failed", error=error)


async def _save(batch: _Batch, url: str, target: Path) -> DownloadResult:
    final = anyio.Path(target)
    if not batch.overwrite and await final.is_file():
        return DownloadResult(url, target, "skipped", (await final.stat()).st_size)
    await final.parent.mkdir(parents=True, exist_ok=True)
    if batch.per_file_timeout is None:
        received = await fetch_file(batch.job, url, target)
        return DownloadResult(url, target, "downloaded", received)
    with anyio.move_on_after(batch.per_file_timeout) as scope:
        received = await fetch_file(batch.job, url, target)
    if scope.cancelled_caught:
        raise TransportError(
            f"downloading {safe_url(url)} took longer than "
            f"per_file_timeout={batch.per_file_timeout} s; "
            "run again to resume it, or raise the timeout"
        )
    return DownloadResult(url, target, "downloaded", received)
