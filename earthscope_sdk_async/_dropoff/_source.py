"""Upload sources: what ``put_object`` accepts as ``body``, read part by part.

A path is read from disk one part at a time (never the whole file) and is the only
resumable source: its identity (resolved path, size, modification time) is recorded so a
changed file restarts the upload. Bytes-like objects are sliced; binary file objects and
sync or async iterables of bytes are read sequentially into parts. Every read and every
checksum runs in a worker thread, so the event loop never blocks on disk or hashing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeAlias

import anyio
import anyio.to_thread

from .._errors import ConfigError
from ._checksum import Crc64

__all__ = ["Body", "PartReader", "open_source"]

Body: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] "
    "| Iterable[bytes] | AsyncIterable[bytes]"
)


class PartReader:
    """Reads a source sequentially in parts, hashing as it goes (SHA-256 and the
    full-object CRC64NVME need the bytes in order)."""

    def __init__(self, size: int | None, identity: dict[str, Any] | None) -> None:
        self.size = size
        """Bytes in the source, if known."""
        self.identity = identity
        """What identifies the source for resuming (``None``: not resumable)."""
        self.sha256 = hashlib.sha256()
        self.crc = Crc64()
        self.bytes_read = 0

    async def read_part(self, part_size: int) -> tuple[bytes, str]:
        """The next part (``b""`` at the end) and its CRC64NVME (base64)."""
        data = await self._read(part_size)
        if not data:
            return b"", ""
        checksum = await anyio.to_thread.run_sync(self._account, data)
        return data, checksum

    def _account(self, data: bytes) -> str:
        self.sha256.update(data)
        self.bytes_read += len(data)
        return self.crc.update(data)

    async def _read(self, count: int) -> bytes:
        raise NotImplementedError

    async def check_unchanged(self) -> str | None:
        """A reason when the source changed while being read, else ``None``."""
        return None

    async def aclose(self) -> None:
        """Release the source."""


class _FileReader(PartReader):
    def __init__(self, path: Path) -> None:
        try:
            stat = path.stat()
            self._file: IO[bytes] | None = path.open("rb")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        identity = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        super().__init__(stat.st_size, identity)
        self._path = path

    async def _read(self, count: int) -> bytes:
        assert self._file is not None
        return await anyio.to_thread.run_sync(self._file.read, count)

    async def check_unchanged(self) -> str | None:
        stat = await anyio.to_thread.run_sync(self._path.stat)
        if stat.st_size != self.size or stat.st_mtime_ns != (self.identity or {}).get("mtime_ns"):
            return f"{self._path} changed while it was being uploaded"
        if self.bytes_read != self.size:
            return f"{self._path} was truncated while it was being uploaded"
        return None

    async def aclose(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()


class _BufferReader(PartReader):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        super().__init__(len(self._view), None)
        self._offset = 0

    async def _read(self, count: int) -> bytes:
        chunk = bytes(self._view[self._offset : self._offset + count])
        self._offset += len(chunk)
        return chunk


class _StreamReader(PartReader):
    """Binary file objects and iterables: chunks gathered into parts."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        super().__init__(None, None)
        self._chunks = chunks
        self._buffer = bytearray()
        self._done = False

    async def _read(self, count: int) -> bytes:
        while len(self._buffer) < count and not self._done:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                break
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise ConfigError(f"an upload body yielded {type(chunk).__name__}, not bytes")
            self._buffer += chunk
        part = bytes(self._buffer[:count])
        del self._buffer[:count]
        return part


async def _from_file_object(file: IO[bytes], size: int) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(file.read, size):
        yield chunk


async def _from_iterable(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    iterator: Iterator[bytes] = iter(items)
    end = object()
    while (chunk := await anyio.to_thread.run_sync(next, iterator, end)) is not end:
        yield chunk  # type: ignore[misc]


async def _from_async_iterable(items: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in items:
        yield chunk


def open_source(body: object) -> PartReader:
    """A :class:`PartReader` for ``body``.

    Raises:
        ConfigError: ``body`` is of no supported kind, or a path cannot be opened.
    """
    if isinstance(body, (str, os.PathLike)):
        return _FileReader(Path(body))
    if isinstance(body, (bytes, bytearray, memoryview)):
        return _BufferReader(body)
    if hasattr(body, "read"):
        return _StreamReader(_from_file_object(body, 1024 * 1024))  # type: ignore[arg-type]
    if isinstance(body, AsyncIterable):
        return _StreamReader(_from_async_iterable(body))
    if isinstance(body, Iterable):
        return _StreamReader(_from_iterable(body))
    raise ConfigError(
        f"cannot upload a {type(body).__name__}: give a path, bytes, a binary file object "
        "or an (async) iterable of bytes"
    )
