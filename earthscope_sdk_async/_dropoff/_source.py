"""Upload sources: what ``put_object`` accepts as ``body``, read part by part.

A path is never held in memory: each part is read once, in order, in 1 MiB chunks, to
compute its checksums (the part's CRC64NVME, which S3 wants in the request headers, and the
running whole-object CRC64NVME and SHA-256), then streamed from disk again while it is sent.
So an upload holds about one chunk per part in flight, whatever the part size. A path is
also the only resumable source: its identity (resolved path, size, modification time) is
recorded so a changed file restarts the upload. Bytes-like objects are sliced; binary file
objects and sync or async iterables of bytes are gathered into parts in memory. Every read
and every checksum runs in a worker thread, so the event loop never blocks on disk or
hashing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeAlias

import anyio
import anyio.to_thread

from .._errors import ConfigError
from ._checksum import Crc64

__all__ = ["Body", "Part", "PartReader", "open_source"]

CHUNK = 1024 * 1024

Body: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] "
    "| Iterable[bytes] | AsyncIterable[bytes]"
)


@dataclass(frozen=True)
class Part:
    """One part: its bytes (in memory) or where to stream them from, and its checksums."""

    number: int
    size: int
    crc64nvme: str
    md5: str | None = None
    data: bytes | None = field(default=None, repr=False)
    offset: int = 0


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

    async def read_part(self, number: int, part_size: int, *, md5: bool = False) -> Part:
        """Part ``number`` (the next one; size 0 at the end), with its checksums (and its
        MD5 when ``md5``, to compare with an ETag)."""
        data = await self._read(part_size)
        return await anyio.to_thread.run_sync(self._account, number, data, md5)

    def _account(self, number: int, data: bytes, md5: bool) -> Part:
        self.sha256.update(data)
        self.bytes_read += len(data)
        digest = hashlib.md5(data).hexdigest() if md5 else None  # noqa: S324 - ETag check
        return Part(number, len(data), self.crc.update(data), digest, data)

    def stream(self, part: Part) -> Callable[[], AsyncIterator[bytes]] | bytes:
        """The part's body: its bytes, or a factory of async iterators streaming it."""
        assert part.data is not None
        return part.data

    async def _read(self, count: int) -> bytes:
        raise NotImplementedError

    async def check_unchanged(self) -> str | None:
        """A reason when the source changed while being read, else ``None``."""
        return None

    async def aclose(self) -> None:
        """Release the source."""


class _FileReader(PartReader):
    """Reads each part twice from disk (checksums, then sending); holds no part in memory."""

    def __init__(self, path: Path) -> None:
        try:
            stat = path.stat()
            self._file: IO[bytes] | None = path.open("rb")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        identity = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        super().__init__(stat.st_size, identity)
        self._path = path

    async def read_part(self, number: int, part_size: int, *, md5: bool = False) -> Part:
        return await anyio.to_thread.run_sync(self._scan, number, part_size, md5)

    def _scan(self, number: int, part_size: int, md5: bool) -> Part:
        assert self._file is not None
        offset = self.bytes_read
        part_crc = Crc64()
        digest = hashlib.md5() if md5 else None  # noqa: S324 - compared with S3's ETag
        left = part_size
        while left > 0:
            chunk = self._file.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            part_crc.add(chunk)
            self.crc.add(chunk)
            self.sha256.update(chunk)
            if digest is not None:
                digest.update(chunk)
        size = part_size - left
        self.bytes_read += size
        hexdigest = digest.hexdigest() if digest is not None else None
        return Part(number, size, part_crc.b64, hexdigest, None, offset)

    def stream(self, part: Part) -> Callable[[], AsyncIterator[bytes]] | bytes:
        path = self._path

        async def chunks() -> AsyncIterator[bytes]:
            file = await anyio.to_thread.run_sync(path.open, "rb")
            try:
                position, end = part.offset, part.offset + part.size
                while position < end:
                    size = min(CHUNK, end - position)
                    chunk = await anyio.to_thread.run_sync(_read_at, file, position, size)
                    if not chunk:
                        raise ConfigError(f"{path} was truncated while it was being uploaded")
                    position += len(chunk)
                    yield chunk
            finally:
                file.close()

        return chunks

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


def _read_at(file: IO[bytes], position: int, size: int) -> bytes:
    file.seek(position)
    return file.read(size)


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
