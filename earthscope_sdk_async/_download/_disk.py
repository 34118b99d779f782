"""Where a batch writes its small files: from the event loop while the file system is fast,
in a writer thread of the batch once it is slow.

Writing a small body from the event loop (open, write, close, rename: see :mod:`._sink`)
costs less than any thread hand-off on a fast file system (tmpfs, a local SSD: tens of
microseconds a file). But creating a file can cost a millisecond or more (a busy ext4
journal, a virtual disk, a network file system, an antivirus on Windows), and an event loop
blocked that long reads no response meanwhile: the batch then runs at the disk's pace *plus*
the network's. :class:`Disk` times its batch's small writes (a moving average); above
:data:`SLOW` a file they move to one writer thread, fed through a queue, so the loop keeps
reading responses while the disk works, and they come back to the loop once the average
falls under half of it. One thread, because creations in one directory are serialised by
the kernel anyway (threads racing for that lock only burn the CPU the event loop needs),
and fed directly (not through a thread pool whose next job waits for the event loop), so
the disk never waits for the loop either. Each write's task waits for its own write, so a
failed write still fails its file, and no more bodies wait than there are workers.

Large bodies follow the same rule per MiB (:meth:`Disk.timed_bulk`): while writing costs
less than :data:`SLOW_MIB` a MiB (a page cache), each piece is written from the loop as it
arrives, still hot in the CPU cache, as a plain aiohttp loop does; above it, the body's own
writer thread takes ~1 MiB batches (see :mod:`._sink`), so a slow disk and the network
overlap.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable

import anyio

from .._loop import soon_from_thread

__all__ = ["SLOW", "Disk"]

SLOW = 250e-6
"""Seconds per small file above which the writes leave the event loop."""
SLOW_MIB = 1e-3
"""Seconds per MiB of a large body above which its writes leave the event loop (a page
cache takes about 0.3 ms; a disk slower than ~1 GB/s then gets a writer thread)."""
_MIB = 1024 * 1024
_WEIGHT = 0.125
"""How much each new timing moves the average."""

_Job = tuple[Callable[[], None], Callable[[Callable[[], object]], object], "_Done"]


class _Done:
    """One queued write's outcome, and the event its task waits on."""

    __slots__ = ("error", "event")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.error: BaseException | None = None


class _Pace:
    """A moving average of timings, and whether it counts as slow: above ``limit`` when
    it was fast, under half of it to count as fast again (no flapping at the limit)."""

    __slots__ = ("average", "slow")

    def __init__(self) -> None:
        self.average = 0.0
        self.slow = False

    def note(self, value: float, limit: float) -> None:
        """One more timing (``limit`` read at each call: tests change it)."""
        self.average += (value - self.average) * _WEIGHT
        self.slow = self.average > (limit / 2 if self.slow else limit)


class Disk:
    """Runs a batch's small-file writes where they cost the event loop least. Call
    :meth:`close` when the batch ends (its thread, if any, then exits)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.files = _Pace()
        """A small file's write, in seconds: slow means the batch's writer thread."""
        self.bulk = _Pace()
        """A large body's writes, in seconds per MiB: slow means its own writer thread."""
        self._jobs: queue.SimpleQueue[_Job | None] | None = None

    async def write(self, work: Callable[[], None]) -> None:
        """Run ``work`` (blocking file system calls) to its end, even if cancelled."""
        if not self.files.slow:
            self._timed(work)  # (no checkpoint: a cancel cannot land in the middle)
            return
        jobs = self._jobs if self._jobs is not None else self._start()
        done = _Done()
        jobs.put((work, soon_from_thread(), done))
        with anyio.CancelScope(shield=True):
            await done.event.wait()
        if done.error is not None:
            raise done.error

    def timed_bulk(self, write: Callable[[list[bytes]], None]) -> Callable[[list[bytes]], None]:
        """``write`` (of a large body's pieces, in any thread), timed into :attr:`bulk`."""

        def timed(pieces: list[bytes]) -> None:
            started = self._clock()
            write(pieces)
            size = sum(map(len, pieces))
            if size:
                self.bulk.note((self._clock() - started) * _MIB / size, SLOW_MIB)

        return timed

    def close(self) -> None:
        """Let the writer thread (if any) finish its queue and exit."""
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    def _start(self) -> queue.SimpleQueue[_Job | None]:
        jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        thread = threading.Thread(
            target=self._serve, args=(jobs,), name="earthscope-disk", daemon=True
        )
        thread.start()
        self._jobs = jobs
        return jobs

    def _serve(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        while (job := jobs.get()) is not None:
            work, soon, done = job
            try:
                self._timed(work)
            except BaseException as exc:  # handed to the waiting task
                done.error = exc
            with contextlib.suppress(RuntimeError):  # a closed event loop: nobody waits
                soon(done.event.set)

    def _timed(self, work: Callable[[], None]) -> None:
        started = self._clock()
        try:
            work()
        finally:
            self.files.note(self._clock() - started, SLOW)
