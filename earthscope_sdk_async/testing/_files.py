"""The file store behind ``/files/``: in-memory or generated content, single byte ranges."""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._response import Response, json_response

__all__ = ["FileStore", "StoredFile"]

BLOCK = 64 * 1024
CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class StoredFile:
    """A file: ``data`` in memory, or ``size`` bytes generated from ``seed``."""

    path: str
    size: int
    data: bytes | None
    seed: int
    etag: str | None
    accept_ranges: bool

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start`` (inclusive) to ``end`` (exclusive)."""
        end = min(end, self.size)
        if start >= end:
            return b""
        if self.data is not None:
            return self.data[start:end]
        return b"".join(self._generate(start, end))

    def _generate(self, start: int, end: int) -> Iterator[bytes]:
        for block in range(start // BLOCK, (end - 1) // BLOCK + 1):
            raw = random.Random(self.seed * 1_000_003 + block).randbytes(BLOCK)  # noqa: S311
            lo = max(start - block * BLOCK, 0)
            yield raw[lo : min(end - block * BLOCK, BLOCK)]

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """Yield bytes ``start``..``end`` in chunks of about 256 KiB."""
        for pos in range(start, end, CHUNK):
            yield self.read(pos, min(pos + CHUNK, end))


def _make_file(
    path: str, data: bytes | None, size: int | None, *, ranges: bool, etag: bool
) -> StoredFile:
    if (data is None) == (size is None):
        raise ValueError("give exactly one of data and size")
    if size is not None and size < 0:
        raise ValueError("size must be >= 0")
    seed = int.from_bytes(hashlib.sha256(path.encode()).digest()[:6], "big")
    digest = hashlib.sha256(data if data is not None else f"{seed}:{size}".encode()).hexdigest()
    length = len(data) if data is not None else size
    assert length is not None
    return StoredFile(path, length, data, seed, f'"{digest[:32]}"' if etag else None, ranges)


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """``(start, end_exclusive)``, ``None`` (serve it all) or ``False`` (unsatisfiable)."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        return (max(size - suffix, 0), size) if suffix > 0 and size > 0 else False
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    return (start, end) if start < size else False


class FileStore:
    """Thread-safe mapping of paths to :class:`StoredFile`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}

    def add(
        self, path: str, data: bytes | None, *, size: int | None, ranges: bool, etag: bool
    ) -> None:
        """Add or replace a file."""
        stored = _make_file(path.lstrip("/"), data, size, ranges=ranges, etag=etag)
        with self._lock:
            self._files[stored.path] = stored

    def get(self, path: str) -> StoredFile:
        """The file at ``path``; ``KeyError`` if there is none."""
        with self._lock:
            return self._files[path.lstrip("/")]

    def serve(self, path: str, headers: Mapping[str, str]) -> Response:
        """Answer a GET for ``path`` (HEAD framing is left to the server)."""
        try:
            stored = self.get(path)
        except KeyError:
            return json_response(404, {"detail": f"no file at {path!r}"})
        head = [("content-type", "application/octet-stream")]
        if stored.etag:
            head.append(("etag", stored.etag))
        if stored.accept_ranges:
            head.append(("accept-ranges", "bytes"))
        wanted = _wanted_range(stored, headers)
        if wanted is False:
            return Response(416, [*head, ("content-range", f"bytes */{stored.size}")])
        status, (start, end) = 200, (0, stored.size)
        if isinstance(wanted, tuple):
            status, (start, end) = 206, wanted
            head.append(("content-range", f"bytes {start}-{end - 1}/{stored.size}"))
        return Response(
            status,
            head,
            stream=lambda budget: stored.iter_range(start, min(end, start + budget)),
            length=end - start,
        )


def _wanted_range(stored: StoredFile, headers: Mapping[str, str]) -> tuple[int, int] | bool | None:
    if not stored.accept_ranges or "range" not in headers:
        return None
    if_range = headers.get("if-range")
    if if_range is not None and (stored.etag is None or if_range.strip() != stored.etag):
        return None
    return parse_range(headers["range"], stored.size)
