"""Writing a body to its ``.part`` file, without copying it, where it costs the event loop
least (see :mod:`._disk` for the measure), each write shielded from cancellation.

A body of at most :data:`INLINE` (256 KiB) is written at its end in one go: open, write,
close and the caller's ``then`` (the rename of a complete file), with no checkpoint in
between, from the event loop while the file system is fast, by the batch's writer thread
while creating files is slow. (A thread round trip per small file costs more than it
saves on a fast disk: with 128 files in flight, 2,000 files of 16 KiB took 2.0 s with one
worker-thread call each and 1.1 s written from the loop, on tmpfs.)

A larger body is gathered into a ~1 MiB first batch. While the disk takes less than
``SLOW_MIB`` a MiB and no checksum is being computed, that batch and then every piece as
it arrives are written from the event loop (as a plain aiohttp loop writes: the bytes are
still hot in the CPU cache, and no thread competes for the GIL or a core). On a slow disk,
or while hashing, the first batch is written by a worker-thread call and the rest by a
writer thread of the body's own, fed ~1 MiB batches through a queue of two while the loop
keeps reading, so disk and network overlap; the last call closes the file and runs
``then``. The pieces are written one by one with ``os.write`` (no join, no
``bytearray +=``): a body is never copied on its way to disk.

Why shielded: the body is read with ``async for piece in response.aiter_raw()``, a chain of
async generators (httpx, then the transport). A cancel (Ctrl-C, a per-file timeout, a
cancelled task group) delivered at a checkpoint in the loop body leaves that chain suspended;
trio then warns about each abandoned generator when it is garbage collected (and with
warnings as errors that failed tests at random under load). With the writes shielded, the
only checkpoints left are inside the stream, where a cancel terminates the whole chain.
:meth:`BodySink.aclose` writes what is still buffered, so a cancelled download keeps
every byte that arrived and resumes after it.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import anyio

from .._files import check_same_file, open_part
from ._checksum import Hasher
from ._disk import Disk

__all__ = ["CHUNK", "BodySink"]

CHUNK = 1024 * 1024
"""Bytes gathered before a write."""
QUEUED = 2
"""Batches of :data:`CHUNK` bytes that may wait for a body's writer thread (its memory)."""
INLINE = 256 * 1024
"""A whole body of at most this many bytes is written from the event loop, not a thread."""


class _Writer:
    """A thread writing the batches of one large body while the event loop reads the next
    ones (disk and network overlap). At most :data:`QUEUED` batches wait for it."""

    def __init__(self, write: Callable[[list[bytes]], None], done: int) -> None:
        self._write = write
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(QUEUED)
        self.done = done  # bytes in the file so far (only this thread adds to it)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="earthscope-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (pieces := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._write(pieces)
                    self.done += sum(map(len, pieces))
                except BaseException as exc:  # handed to the event loop by check()
                    self.error = exc

    def check(self) -> None:
        """Raise what the thread failed with, if anything."""
        if self.error is not None:
            raise self.error

    def offer(self, pieces: list[bytes]) -> bool:
        """Queue ``pieces`` without blocking; False when the queue is full."""
        try:
            self._queue.put_nowait(pieces)
        except queue.Full:
            return False
        return True

    def put(self, pieces: list[bytes] | None) -> None:
        """Queue ``pieces`` (``None``: stop), waiting for room. Blocking."""
        self._queue.put(pieces)

    def stop(self) -> None:
        """Let the thread finish what is queued, and wait for it. Blocking."""
        self._queue.put(None)
        self._thread.join()


class BodySink:
    """Buffers body pieces; :meth:`flush` writes (and hashes) them.

    ``path`` is opened for appending, or created afresh, by the first flush (never through a
    link: see :func:`~earthscope_sdk_async._files.open_part`); ``on_written(count)`` is
    called in the event loop after bytes reached the file. Call :meth:`aclose` in a
    ``finally``. A body of at most :data:`CHUNK` bytes is written by one worker-thread call
    at the final flush; a larger one gets a :class:`_Writer` thread of its own after its
    first batch, so the file is written while the rest of the body arrives.
    """

    __slots__ = (
        "_append",
        "_bulk",
        "_disk",
        "_fd",
        "_finished",
        "_hasher",
        "_identity",
        "_now",
        "_on_written",
        "_path",
        "_pending",
        "_pieces",
        "_writer",
        "written",
    )

    def __init__(
        self,
        path: Path | str,
        append: bool,
        hasher: Hasher | None,
        on_written: Callable[[int], None],
        disk: Disk | None = None,
    ) -> None:
        self._path = path
        self._disk = disk if disk is not None else Disk()
        self._bulk = self._disk.timed_bulk(self._write)
        self._append = append
        self._identity = (0, 0)
        self._hasher = hasher
        self._on_written = on_written
        self._pieces: list[bytes] = []
        self._pending = 0
        self._fd: int | None = None  # the open .part (written with os.write, unbuffered)
        self._writer: _Writer | None = None
        self._now = False  # a large body written piece by piece from the loop (a fast disk)
        self._finished = False
        self.written = 0
        """Bytes known to be in the file (a flush behind the writer thread)."""

    def add(self, piece: bytes) -> bool:
        """Buffer ``piece`` (not copied); True when the buffer is due to be flushed. A large
        body being written from the loop (a fast disk: see :mod:`._disk`) is written at once
        instead, until the disk gets slow."""
        if self._now:
            self._bulk([piece])
            self._wrote(len(piece))
            self._now = not self._disk.bulk.slow
            return False
        self._pieces.append(piece)
        self._pending += len(piece)
        return self._pending >= CHUNK

    def _write(self, pieces: list[bytes]) -> None:
        if self._fd is None:  # never through a link, a FIFO or a hard link (see _files)
            self._fd, self._identity = open_part(self._path, append=self._append)
        fd, hasher = self._fd, self._hasher
        for piece in pieces:
            written = os.write(fd, piece)
            if written < len(piece):  # (a short write: the rest, without copying)
                view = memoryview(piece)[written:]
                while view:
                    view = view[os.write(fd, view) :]
            if hasher is not None:
                hasher.update(piece)

    def _close(self, pieces: list[bytes], then: Callable[[int], None] | None) -> None:
        """Write the last pieces (after the writer thread's), close, run ``then``."""
        writer = self._writer
        if writer is not None:
            writer.stop()
        try:
            if writer is not None:
                writer.check()
            self._write(pieces)
        finally:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
        if then is not None:
            check_same_file(self._path, self._identity)  # not swapped for a link since
            done = writer.done if writer is not None else self.written
            then(done + sum(map(len, pieces)))

    def _wrote(self, size: int) -> None:
        """``size`` more bytes are in the file (written from the event loop, or by a
        worker-thread call it awaited)."""
        self.written += size
        self._on_written(size)

    def _account(self) -> None:
        """Report what the writer thread has written since the last call."""
        writer = self._writer
        if writer is not None and writer.done > self.written:
            count, self.written = writer.done - self.written, writer.done
            self._on_written(count)

    async def flush(
        self, *, final: bool = False, then: Callable[[int], None] | None = None
    ) -> None:
        """Write (and hash) the buffer; ``final`` also closes the file (creating it if no
        byte came), then calls ``then(bytes written in all)`` right after, before any other
        flush. A cancel waits for the writes to finish."""
        pieces, size = self._pieces, self._pending
        self._pieces, self._pending = [], 0
        if final:
            self._finished = True
            if self._writer is None and self._fd is None and size <= INLINE:
                # a small body: in the loop, or a thread when the disk is slow (see _disk)
                await self._disk.write(functools.partial(self._close, pieces, then))
            elif self._now:  # a large body written from the loop: close it there too
                self._now = False
                self._close(pieces, then)
            else:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._close, pieces, then)
            self._account()
            if size:
                self._wrote(size)
            return
        if not size:
            return
        if self._fd is None:  # the first batch: written before anything else happens
            if self._hasher is None and not self._disk.bulk.slow:
                self._bulk(pieces)  # a fast disk: from the loop, the rest piece by piece
                self._now = not self._disk.bulk.slow
            else:  # (hashing, or a slow disk: off the loop)
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._bulk, pieces)
            self._wrote(size)
            return
        if self._writer is None:
            self._writer = _Writer(self._bulk, self.written)
        self._writer.check()
        if not self._writer.offer(pieces):  # the disk is behind: wait for room
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._writer.put, pieces)
        self._account()

    async def aclose(self) -> None:
        """Write what is still buffered and close the file, when no final flush did (an
        error or a cancel interrupted the body): every byte that arrived is kept."""
        if self._finished or (self._fd is None and self._writer is None and not self._pending):
            return
        with anyio.CancelScope(shield=True):
            await self.flush(final=True)
