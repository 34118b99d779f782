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

import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from ._errors import UploadError
from ._models import UploadResult, UploadStatus
from ._options import choose_part_size
from ._s3api import MultipartApi, PartInfo
from ._source import Part, PartReader
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
        self.on_status = on_status
        self.on_bytes = on_bytes
        self.parts: dict[int, tuple[str, str]] = {}
        self.upload_id = ""
        self.bytes_done = 0
        self.bytes_resumed = 0
        self.parts_sent = 0
        self._unverified: dict[int, PartInfo] = {}
        self._dirty = anyio.Event()
        self._producing = True
        self._sending = 0
        self._last_part = 0

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
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._saver)
            try:
                await self._produce(tg)
            finally:
                self._producing = False
                self._dirty.set()
        await self._report(complete=False)

    async def _produce(self, tg: anyio.abc.TaskGroup) -> None:
        number = 0
        size = self.reader.size
        while True:
            await self.slots.acquire()
            try:
                part = await self.reader.read_part(
                    number + 1, self.part_size, md5=number + 1 in self._unverified
                )
            except BaseException:
                self.slots.release()
                raise
            if part.size == 0 and number > 0:
                self.slots.release()
                break
            number += 1
            if self._already_there(part):
                self.slots.release()
            else:
                self._sending += 1
                tg.start_soon(self._send_part, part)
            if size is not None and self.reader.bytes_read >= size:
                break
        self._last_part = number

    def _already_there(self, part: Part) -> bool:
        recorded = self.parts.get(part.number)
        if recorded is not None and recorded[1] == part.crc64nvme:
            self._resumed(part.size)
            return True
        held = self._unverified.get(part.number)
        if held is not None and held.size == part.size and held.etag.strip('"') == part.md5:
            self.parts[part.number] = (held.etag, part.crc64nvme)
            self._dirty.set()
            self._resumed(part.size)
            return True
        self.parts.pop(part.number, None)
        return False

    def _resumed(self, size: int) -> None:
        self.bytes_resumed += size
        self.bytes_done += size
        if self.on_bytes is not None:
            self.on_bytes(size)

    async def _send_part(self, part: Part) -> None:
        try:
            body = self.reader.stream(part)
            etag = await self.api.upload_part(
                self.s3_key, self.upload_id, part.number, body, part.size, part.crc64nvme
            )
            self.parts[part.number] = (etag, part.crc64nvme)
            self.parts_sent += 1
        finally:
            self.slots.release()
            self._sending -= 1
            self._dirty.set()
        self.bytes_done += part.size
        if self.on_bytes is not None:
            self.on_bytes(part.size)
        await self._report(complete=False)

    async def _saver(self) -> None:
        """Write the state file whenever parts were recorded since the last write (writes
        coalesce: a slow disk never holds a part slot). A part sent but not yet written is
        adopted on resume when S3's ETag matches its MD5."""
        state = self.state
        while True:
            await self._dirty.wait()
            self._dirty = anyio.Event()
            if state is not None and self.reader.identity is not None:
                state.parts = dict(self.parts)
                await anyio.to_thread.run_sync(state.save)
            if not self._producing and self._sending == 0:
                return

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
