"""One object's multipart upload: plan, resume, send parts concurrently, complete.

:class:`ObjectUpload` owns its steps. Parts are read in order (one reader, in a worker
thread) and sent by up to ``slots`` concurrent tasks; a slot is taken *before* a part is
read and given back once it is sent, so at most ``part_concurrency`` parts are in memory
over all objects sharing the slots. Each sent part is recorded in the state file at once.

Resuming: when a state file matches the source (same file, size, mtime and part size),
ListParts tells which recorded parts S3 still holds with the recorded ETag; those are read
(for the whole-object checksums) but not sent again. A part S3 holds that the state file
missed (the process died between S3's answer and the save) is adopted when its ETag is the
MD5 of the local bytes. Anything else restarts the upload (and aborts the stale one).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from ._errors import UploadError
from ._models import UploadResult, UploadStatus
from ._options import MIN_PART_SIZE, choose_part_size
from ._s3api import MultipartApi, PartInfo
from ._source import PartReader
from ._state import UploadState

__all__ = ["ObjectUpload", "StatusCallback"]

logger = logging.getLogger(__name__)

StatusCallback = Callable[[UploadStatus], "Awaitable[None] | None"]
BytesCallback = Callable[[int], None]


class ObjectUpload:
    """Uploads one source to ``s3_key`` (the full key); ``key`` is the caller's key."""

    def __init__(
        self,
        api: MultipartApi,
        reader: PartReader,
        *,
        key: str,
        s3_key: str,
        content_type: str | None,
        part_size: int,
        slots: anyio.Semaphore,
        state_file: Path | None,
        on_status: StatusCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> None:
        self.api = api
        self.reader = reader
        self.key = key
        self.s3_key = s3_key
        self.content_type = content_type
        self.part_size = choose_part_size(reader.size, part_size)
        self.slots = slots
        self.state = UploadState(state_file) if state_file else None
        self._state_file = state_file
        self.on_status = on_status
        self.on_bytes = on_bytes
        self.parts: dict[int, tuple[str, str]] = {}
        self.upload_id = ""
        self.bytes_done = 0
        self.bytes_resumed = 0
        self.parts_sent = 0
        self._save_lock = anyio.Lock()
        self._unverified: dict[int, PartInfo] = {}

    # -- the steps -------------------------------------------------------------------------

    async def run(self) -> UploadResult:
        """Upload (or resume) and complete; return the result.

        Raises:
            UploadError: S3 refused or the network failed after retries (resumable),
                or the source changed while it was read.
            PartSizeError: the source is too large for S3 multipart.
        """
        try:
            await self._start()
            await self._send_all()
            await self._complete()
        finally:
            await self.reader.aclose()
        return UploadResult(
            self.api.bucket, self.s3_key, self.reader.bytes_read, self.reader.sha256.hexdigest()
        )

    async def _start(self) -> None:
        source = self.reader.identity
        if self.state is not None and source is not None:
            loaded = await anyio.to_thread.run_sync(UploadState.load, self.state.path)
            self.state = loaded
            if await self._resume(loaded, source):
                return
        self.upload_id = await self.api.create(self.s3_key, content_type=self.content_type)
        if self.state is not None and source is not None:
            self.state.reset(total_bytes=self.reader.size, part_size=self.part_size, source=source)
            self.state.upload_id = self.upload_id
            await anyio.to_thread.run_sync(self.state.save)

    async def _resume(self, state: UploadState, source: dict[str, Any]) -> bool:
        """Adopt the saved upload if S3 still has it; return whether it was adopted."""
        stale = state.upload_id
        if state.matches(total_bytes=self.reader.size, part_size=self.part_size, source=source):
            assert stale is not None
            held = await self.api.list_parts(self.s3_key, stale)
            if held is not None:
                self.upload_id = stale
                self.parts = {
                    n: v for n, v in state.parts.items() if n in held and held[n].etag == v[0]
                }
                self._unverified = {n: p for n, p in held.items() if n not in self.parts}
                logger.info("resuming %s: %d parts already uploaded", self.key, len(self.parts))
                return True
        if stale:
            logger.info("restarting the upload of %s (the saved one cannot be resumed)", self.key)
            try:
                await self.api.abort(self.s3_key, stale)
            except UploadError as exc:  # best effort: S3 expires abandoned uploads anyway
                logger.debug("could not abort the stale upload: %s", exc)
        return False

    async def _send_all(self) -> None:
        number = 0
        async with anyio.create_task_group() as tg:
            while True:
                await self.slots.acquire()
                try:
                    data, crc = await self.reader.read_part(self.part_size)
                except BaseException:
                    self.slots.release()
                    raise
                if not data and number > 0:
                    self.slots.release()
                    break
                number += 1
                if await self._already_there(number, data, crc):
                    self.slots.release()
                    continue
                tg.start_soon(self._send_part, number, data, crc)
                if self.reader.size is not None and self.reader.bytes_read >= self.reader.size:
                    break
        await self._report(complete=False)
        if number > 1 and self.part_size < MIN_PART_SIZE:  # pragma: no cover - guarded by options
            raise UploadError("part size below S3's 5 MiB minimum", key=self.key)
        self._last_part = number

    async def _already_there(self, number: int, data: bytes, crc: str) -> bool:
        recorded = self.parts.get(number)
        if recorded is not None and recorded[1] == crc:
            self._resumed(len(data))
            return True
        held = self._unverified.get(number)
        if held is not None and held.size == len(data):
            md5 = await anyio.to_thread.run_sync(lambda: hashlib.md5(data).hexdigest())  # noqa: S324
            if held.etag.strip('"') == md5:
                self.parts[number] = (held.etag, crc)
                await self._save_part(number)
                self._resumed(len(data))
                return True
        self.parts.pop(number, None)
        return False

    def _resumed(self, size: int) -> None:
        self.bytes_resumed += size
        self.bytes_done += size
        if self.on_bytes is not None:
            self.on_bytes(size)

    async def _send_part(self, number: int, data: bytes, crc: str) -> None:
        try:
            etag = await self.api.upload_part(self.s3_key, self.upload_id, number, data, crc)
            self.parts[number] = (etag, crc)
            self.parts_sent += 1
            await self._save_part(number)
            self.bytes_done += len(data)
            if self.on_bytes is not None:
                self.on_bytes(len(data))
        finally:
            self.slots.release()
        await self._report(complete=False)

    async def _save_part(self, number: int) -> None:
        state = self.state
        if state is None or self.reader.identity is None:
            return
        async with self._save_lock:
            state.parts = dict(self.parts)
            await anyio.to_thread.run_sync(state.save)

    async def _complete(self) -> None:
        changed = await self.reader.check_unchanged()
        if changed is not None:
            raise UploadError(f"{changed}; upload it again once it no longer changes", key=self.key)
        parts = [(n, etag, crc) for n, (etag, crc) in sorted(self.parts.items())]
        if len(parts) != self._last_part:
            raise UploadError(f"internal error: {self.key} is missing parts", key=self.key)
        await self.api.complete(self.s3_key, self.upload_id, parts, self.reader.crc.b64)
        if self.state is not None and self.reader.identity is not None:
            await anyio.to_thread.run_sync(self.state.delete)
        await self._report(complete=True)

    async def _report(self, *, complete: bool) -> None:
        callback = self.on_status
        if callback is None:
            return
        status = UploadStatus(
            key=self.key,
            bytes_done=self.bytes_done,
            bytes_buffered=self.reader.bytes_read,
            total_bytes=self.reader.size,
            complete=complete,
            bytes_resumed=self.bytes_resumed,
        )
        try:
            result = callback(status)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a broken callback must not break the upload
            logger.warning("the upload progress callback failed; ignoring it", exc_info=True)
            self.on_status = None
