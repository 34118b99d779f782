"""Writing a body to its ``.part`` file: pieces gathered, without copying, into ~1 MiB
writes (and hash updates) in a worker thread, each shielded from cancellation.

One worker-thread call per ~1 MiB: the file is opened by the first call and closed by the
last (``final``), which also runs the caller's ``then`` (the rename of a complete file), so a
small file costs a single thread round trip. The pieces are written one by one to an
unbuffered file (no join, no ``bytearray +=``: a body is never copied on its way to disk).
Not from the event loop, even for a few KiB: creating and renaming a file takes 0.2-2 ms
on a busy disk (measured on ext4), which would stall every transfer; in a thread it
overlaps with them.

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

from collections.abc import Callable
from pathlib import Path
from typing import IO

import anyio

from ._checksum import Hasher

__all__ = ["CHUNK", "BodySink"]

CHUNK = 1024 * 1024
"""Bytes gathered before a write."""


class BodySink:
    """Buffers body pieces; :meth:`flush` writes (and hashes) them.

    ``path`` is opened for appending or truncated by the first flush; ``on_written(count)``
    is called in the event loop after each write. Call :meth:`aclose` in a ``finally``.
    """

    def __init__(
        self,
        path: Path,
        append: bool,
        hasher: Hasher | None,
        on_written: Callable[[int], None],
    ) -> None:
        self._path = path
        self._mode = "ab" if append else "wb"
        self._hasher = hasher
        self._on_written = on_written
        self._pieces: list[bytes] = []
        self._pending = 0
        self._file: IO[bytes] | None = None
        self._finished = False
        self.written = 0

    def add(self, piece: bytes) -> bool:
        """Buffer ``piece`` (not copied); True when the buffer is due to be flushed."""
        self._pieces.append(piece)
        self._pending += len(piece)
        return self._pending >= CHUNK

    def _write(
        self, pieces: list[bytes], size: int, final: bool, then: Callable[[int], None] | None
    ) -> None:
        if self._file is None:
            self._file = open(self._path, self._mode, buffering=0)  # noqa: SIM115 - closed below
        out, hasher = self._file, self._hasher
        for piece in pieces:
            view = memoryview(piece)
            while view:
                view = view[out.write(view) :]
            if hasher is not None:
                hasher.update(piece)
        if final:
            out.close()
            if then is not None:
                then(self.written + size)

    async def flush(
        self, *, final: bool = False, then: Callable[[int], None] | None = None
    ) -> None:
        """Write (and hash) the buffer; ``final`` also closes the file (creating it if no
        byte came), then calls ``then(bytes written in all)`` right after, before any other
        flush. A cancel waits for the write to finish."""
        pieces, size = self._pieces, self._pending
        self._pieces, self._pending = [], 0
        if not size and not final:
            return
        if final:
            self._finished = True
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._write, pieces, size, final, then)
        if size:
            self.written += size
            self._on_written(size)

    async def aclose(self) -> None:
        """Write what is still buffered and close the file, when no final flush did (an
        error or a cancel interrupted the body): every byte that arrived is kept."""
        if self._finished or (self._file is None and not self._pending):
            return
        with anyio.CancelScope(shield=True):
            await self.flush(final=True)
