"""Writing a body to its ``.part`` file: pieces gathered into ~1 MiB writes (and hash updates)
done in a worker thread, each shielded from cancellation.

One worker thread call per write: the file is opened by the first one and closed by the
last (``final``), which also runs the caller's ``then`` (the rename of a complete file), so
a small file costs a single call. (Each call is a thread round trip; the fewer there are,
the sooner a worker sends its next request.)

Why shielded: the body is read with ``async for piece in response.aiter_raw()``, a chain of
async generators (httpx, then httpcore). A cancel (Ctrl-C, a per-file timeout, a cancelled
task group) delivered at a checkpoint in the loop body leaves that chain suspended; trio
then warns about each abandoned generator when it is garbage collected (and with warnings
as errors that failed tests at random under load). With the writes shielded, the only
checkpoints left are inside the stream, where a cancel terminates the whole chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

import anyio

from .._files import check_same_file, open_part
from ._checksum import Hasher

__all__ = ["CHUNK", "BodySink"]

CHUNK = 1024 * 1024


class BodySink:
    """Buffers body pieces; :meth:`flush` writes (and hashes) them in a worker thread.

    ``path`` is opened for appending, or created afresh, by the first flush (never through a
    link: see :func:`~earthscope_sdk_async._files.open_part`); ``on_written(count)``
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
        self._append = append
        self._identity = (0, 0)
        self._hasher = hasher
        self._on_written = on_written
        self._buffer = bytearray()
        self._file: IO[bytes] | None = None
        self.written = 0

    def add(self, piece: bytes) -> bool:
        """Buffer ``piece``; True when the buffer is due to be flushed."""
        self._buffer += piece
        return len(self._buffer) >= CHUNK

    def _write(self, data: bytearray, final: bool, then: Callable[[int], None] | None) -> None:
        if self._file is None:  # never through a link, a FIFO or a hard link (see _files)
            fd, self._identity = open_part(self._path, append=self._append)
            self._file = os.fdopen(fd, "ab")
        if data:
            self._file.write(data)
            if self._hasher is not None:
                self._hasher.update(data)
        if final:
            self._file.close()
            if then is not None:
                check_same_file(self._path, self._identity)  # not swapped for a link since
                then(self.written + len(data))

    async def flush(
        self, *, final: bool = False, then: Callable[[int], None] | None = None
    ) -> None:
        """Write (and hash) the buffer; ``final`` also closes the file (creating it if no
        byte came), then calls ``then(bytes written in all)`` in the same worker thread. A
        cancel waits for the call to finish."""
        data, self._buffer = self._buffer, bytearray()
        if not data and not final:
            return
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._write, data, final, then)
        if data:
            self.written += len(data)
            self._on_written(len(data))

    async def aclose(self) -> None:
        """Close the file if a flush opened it and no final flush closed it."""
        out = self._file
        if out is not None and not out.closed:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(out.close)
