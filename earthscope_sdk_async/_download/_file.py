"""Download one file: stream to ``<name>.part``, resume it with ``Range``, retry, rename.

Retries reuse the client's :class:`RetryPolicy` (back-off with full jitter, the per-call
time budget) and its :class:`SharedPause` (a 429 or ``Retry-After`` pauses every request of
the client, so the whole batch backs off together). Retried: 429, 5xx (see
:func:`retryable_status`), transport failures and bodies shorter (or longer) than their
``Content-Length``. Never retried: other 4xx (a 401 was already refreshed and retried once by
the auth).

A partial ``.part`` file is resumed with ``Range: bytes=<size>-`` and ``If-Range: <etag>``
when the server advertises ranges (learnt from the previous attempt, or from a HEAD for a
``.part`` left by an earlier run, whose ETag was recorded next to it: see
:mod:`._resume`): 206 appends, 200 restarts from zero, 416 means complete
when the size matches and restart otherwise. The final name only ever appears through an
atomic ``os.replace`` of a complete ``.part`` (no fsync: a crash may lose data, but never
leaves a truncated final file after a clean rename).

Bodies are requested without content coding (``Accept-Encoding: identity``, so lengths,
ranges and checksums all refer to the bytes saved) and read with ``aiter_raw``; see
:mod:`._sink` for the writes (what arrived before a network error is written too,
so a retry resumes after it). With an expected checksum, a complete
``.part`` whose digest differs is deleted and downloaded once more from scratch; a second
mismatch fails the file.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import anyio
import httpx

from .._clock import Clock
from .._errors import ApiError, DownloadError, TransportError
from .._http._direct import DirectRoute, RawAnswer, direct_route, raw_body, stream_direct
from .._network_errors import network_failure
from .._redact import redact
from .._retry import Failure, RetryPolicy, SharedPause, retry, retryable_status, retryable_transport
from .._retry_after import retry_after_seconds
from .._urls import safe_url
from ._bounds import DEFAULT_STALL_TIMEOUT, STALL_BYTES, ScopeBound, Watch
from ._checksum import Checksums, Hasher, hash_prefix
from ._disk import Disk
from ._paths import PART_SUFFIX
from ._resume import (
    Resume,
    drop_part,
    drop_validator,
    finish_part,
    record_validator,
    resume_point,
)
from ._route import Route, Router, direct
from ._sink import BodySink

__all__ = [
    "DEFAULT_STALL_TIMEOUT",
    "STALL_BYTES",
    "FileDownload",
    "FileJob",
    "Fetched",
    "fetch_file",
]

logger = logging.getLogger(__name__)

_IDENTITY: Mapping[str, str] = MappingProxyType({"Accept-Encoding": "identity"})
_TOTAL = re.compile(r"^bytes (?:(\d+)-\d+|\*)/(\d+)$")


@dataclass(frozen=True)
class FileJob:
    """Everything one file download needs from the batch."""

    http: httpx.AsyncClient
    policy: RetryPolicy
    attempts: int
    pause: SharedPause
    clock: Clock
    on_bytes: Callable[[int], None]
    checksums: Checksums
    route: Router = direct
    """Where each item's requests go (the hook for ``s3://``)."""
    stall: float | None = DEFAULT_STALL_TIMEOUT
    """Seconds in which a response must bring at least ``STALL_BYTES`` (or its end)."""
    disk: Disk = field(default_factory=Disk)
    """Where the batch's small files are written (the event loop, or a thread)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A file saved: the bytes received (over every attempt), the verified digest if any."""

    received: int
    checksum: str | None


class FileDownload:
    """One file being downloaded: what is known about the remote file and the ``.part`` on
    disk, and the steps that move it forward (one GET, its body, the rename)."""

    __slots__ = (
        "digest",
        "etag",
        "expected",
        "hashed",
        "hasher",
        "job",
        "offset",
        "part",
        "ranges",
        "received",
        "recorded",
        "renamed",
        "route",
        "target",
        "total",
        "url",
    )

    def __init__(
        self,
        job: FileJob,
        url: str,
        target: Path,
        *,
        expected: str | None = None,
        recorded: str | None = None,
    ) -> None:
        self.job = job
        self.url = url
        self.target = target
        self.part = f"{target}{PART_SUFFIX}"  # (the .part's name: no new Path)
        self.route = job.route(url)
        self.offset = 0  # bytes of the .part on disk
        self.etag: str | None = None
        self.ranges = False
        self.total: int | None = None  # the file's size, as announced by an earlier answer
        self.recorded = recorded  # the ETag recorded next to the .part on disk
        self.received = 0
        self.expected = expected  # the hex digest to verify, if any
        self.hasher: Hasher | None = None  # covers the first ``hashed`` bytes of the .part
        self.hashed = 0
        self.renamed = False  # the complete, verified .part is the target now
        self.digest: str | None = None  # the verified digest, once renamed

    @property
    def safe_url(self) -> str:
        """The URL as messages and logs show it (see :func:`safe_url`)."""
        return safe_url(self.url)

    def __str__(self) -> str:
        """``GET <safe URL>``: how log lines name this download (formatted when logged)."""
        return f"GET {self.safe_url}"

    # -- the whole file ----------------------------------------------------------------

    async def resume(self, part_size: int, part_etag: str | None, part_mtime: float) -> None:
        """Learn where a ``.part`` left by an earlier run resumes (or drop it if stale)."""
        job = self.job
        with anyio.move_on_after(math.inf if job.stall is None else job.stall) as scope:
            resume = await resume_point(
                job.http,
                self.route.url,
                part_size,
                part_etag,
                part_mtime,
                auth=self.route.httpx_auth,
            )
        if scope.cancelled_caught:  # a stalled HEAD: no resuming, start over
            logger.debug("HEAD %s stalled; restarting the download", self.safe_url)
            resume = Resume(0)
        self.offset, self.etag, self.ranges = resume.offset, resume.etag, resume.ranges
        if resume.offset == 0:
            logger.debug("GET %s: the old partial file is stale; restarting", self.safe_url)
            await self.discard()

    async def run(self) -> Fetched:
        """Complete the ``.part``, verify it and put it in place (one more try on mismatch)."""
        for check in (1, 2):
            await self.complete()
            if self.renamed:  # the common case: renamed by the last write
                return Fetched(self.received, self.digest)
            digest = await self.final_digest()
            if digest == self.expected:
                await anyio.to_thread.run_sync(finish_part, self.target)
                return Fetched(self.received, digest)
            await self.discard()
            self.offset, self.hasher, self.hashed = 0, None, 0
            if check == 2:
                raise self.mismatch(digest)
            logger.warning(
                "GET %s: %s checksum mismatch; downloading it again from scratch",
                self.safe_url,
                self.job.checksums.algorithm,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def complete(self) -> None:
        """GET (and retry) until the ``.part`` file is complete."""
        job = self.job
        await retry(
            self.attempt,
            policy=job.policy,
            clock=job.clock,
            what=self,
            pause=job.pause,
            max_attempts=job.attempts,
            paused=self.paused,
        )

    async def final_digest(self) -> str | None:
        """The digest of the complete ``.part`` (``None`` when nothing is to be verified)."""
        if self.expected is None:
            return None
        hasher = self.hasher
        if hasher is None or self.hashed != self.offset:  # e.g. completed by a 416
            hasher = self.job.checksums.new()
            await anyio.to_thread.run_sync(hash_prefix, hasher, self.part, self.offset)
        return hasher.hexdigest()

    async def discard(self) -> None:
        """Delete the ``.part`` and its recorded validator."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(drop_part, self.target)
        self.recorded = None

    # -- one attempt -------------------------------------------------------------------

    async def attempt(self) -> Literal[True] | Failure:
        """One GET; True when the ``.part`` file is complete. The whole exchange must keep
        making progress (``STALL_BYTES`` per ``job.stall`` seconds, the headers included:
        see :mod:`._bounds`)."""
        http = self.job.http
        route = direct_route(http) if self.route.auth is None else None
        if route is None or route.deadlines is None:
            bound = ScopeBound(self.job.stall)
            with bound.scope:
                return await self.exchange(route, bound)
            return bound.failure(self.safe_url)  # the scope was cancelled: stalled
        watch = Watch(route, route.deadlines, self.job.stall)
        try:
            done = await self.exchange(route, watch)
        except asyncio.CancelledError:
            if watch.finish():  # expired before the headers came
                return watch.failure(self.safe_url)
            raise
        finally:
            watch.finish()
        return watch.failure(self.safe_url) if watch.expired and done is not True else done

    async def exchange(
        self, route: DirectRoute | None, bound: ScopeBound | Watch
    ) -> Literal[True] | Failure:
        """Send the GET (straight to aiohttp when ``route`` is given: see ``_http._direct``)
        and handle its answer, within ``bound``."""
        opened: AbstractAsyncContextManager[httpx.Response | RawAnswer]
        if route is None:
            opened = self.job.http.stream(
                "GET", self.route.url, headers=self.headers(), auth=self.route.httpx_auth
            )
        else:  # (a Watch bounds the reads itself: no per-read timer in aiohttp)
            reads = not isinstance(bound, Watch)
            opened = stream_direct(route, self.route.url, self.headers(), reads=reads, lean=True)
        try:
            async with opened as response:
                status = response.status_code
                if isinstance(response, RawAnswer):  # (a 2xx answer, no httpx.Response)
                    bound.answered(response.body)
                    head = _Head(response.raw_headers)
                else:
                    bound.answered(response.stream)
                    if status == 416 and self.offset > 0:
                        return await self.on_416(response)
                    if not response.is_success:
                        return await _error_response(self.job, response, self.route)
                    head = _Head(response.headers.raw)
                self.etag = head.etag
                # (lengths and ranges would count encoded bytes: a coded body restarts)
                self.ranges = head.ranges and not head.encoded
                expected = self.expected_length(status, head)
                if isinstance(expected, Failure):
                    await self.discard()
                    return expected
                failure = await self.write_body(response, head, expected, bound)
                return failure if failure is not None else True
        except httpx.HTTPError as exc:
            return self.transport_failure(exc)

    def headers(self) -> Mapping[str, str]:
        """The request headers: identity coding, and ``Range``/``If-Range`` to resume."""
        if self.offset <= 0 or not self.ranges:
            return _IDENTITY
        headers = {**_IDENTITY, "Range": f"bytes={self.offset}-"}
        if self.etag:
            headers["If-Range"] = self.etag
        return headers

    def expected_length(self, status: int, head: _Head) -> int | Failure | None:
        """The body's length (``None`` if unknown), or a failure for a misplaced 206."""
        length = head.length
        expected = None  # (ASCII digits only: "²".isdigit() is True, and int() refuses it)
        if length is not None and length.isascii() and length.isdigit():
            expected = int(length)
        if status != 206 or head.encoded:
            if expected is None and not head.encoded:
                return self.total  # no length: the size an earlier answer announced, if any
            self.total = expected if not head.encoded else self.total
            return expected
        match = _TOTAL.match(head.content_range.strip())
        if match is None or match.group(1) is None or int(match.group(1)) != self.offset:
            self.offset = 0
            error = TransportError(f"GET {self.safe_url}: the server resumed at the wrong offset")
            return Failure(error, True, immediate=True)
        self.total = int(match.group(2))
        announced = self.total - self.offset  # the rest, per Content-Range
        return announced if expected is None else min(expected, announced)

    async def on_416(self, response: httpx.Response) -> Literal[True] | Failure:
        """Range not satisfiable: complete when the size matches, else restart."""
        match = _TOTAL.match(_Head(response.headers.raw).content_range.strip())
        if match is not None and int(match.group(2)) == self.offset:
            return True
        await self.discard()
        self.offset = 0
        error = TransportError(f"GET {self.safe_url}: the partial file does not match; restarting")
        return Failure(error, True, immediate=True)

    async def write_body(
        self,
        response: httpx.Response | RawAnswer,
        head: _Head,
        expected: int | None,
        bound: ScopeBound | Watch,
    ) -> Failure | None:
        """Stream the body into the ``.part``; rename it when complete and verified. Never
        writes more than ``expected`` bytes: a longer body fails at once."""
        appending = response.status_code == 206
        if not appending:
            self.offset = 0
        hasher = await self.prepare_hasher()
        # The validator is recorded only when a .part is left behind (an error, a short body,
        # a cancel): the common, complete download pays nothing for it. A stale validator is
        # safe (If-Range then gets a 200 and the file restarts); a missing one falls back to
        # a HEAD.
        sink = BodySink(
            self.part, appending, hasher, self.on_written(hasher is not None), self.job.disk
        )
        got = 0
        try:
            try:
                async for piece in _pieces(response, head, self):
                    got += len(piece)
                    if got != expected:  # (complete: no more waiting for the network)
                        bound.progress(len(piece))
                    if expected is not None and got > expected:
                        break  # longer than announced: nothing past the announced end is saved
                    if sink.add(piece):
                        await sink.flush()
            except httpx.HTTPError as exc:
                await sink.flush(final=True, then=self.record)  # keep what arrived: resume
                return self.transport_failure(exc)
            if expected is not None and got > expected:
                await sink.flush(final=True)
                await self.discard()
                self.offset = 0
                return self.long_failure(expected)
            await sink.flush(final=True, then=functools.partial(self.rename, expected))
        finally:
            await sink.aclose()
            if not self.renamed and self.recorded != self.etag and sink.written:
                with anyio.CancelScope(shield=True):  # cancelled mid-body: keep a resumable .part
                    await anyio.to_thread.run_sync(self.record, 0)
        if expected is not None and sink.written != expected:
            if sink.written > expected:
                await self.discard()
                self.offset = 0
            return self.short_failure(sink.written, expected)
        return None

    async def prepare_hasher(self) -> Hasher | None:
        """The hasher to continue with: fresh from byte 0, or fed the ``.part`` prefix again."""
        if self.expected is None:
            return None
        if self.offset == 0:
            self.hasher, self.hashed = self.job.checksums.new(), 0
        elif self.hasher is None or self.hashed != self.offset:
            hasher = self.job.checksums.new()
            await anyio.to_thread.run_sync(hash_prefix, hasher, self.part, self.offset)
            self.hasher, self.hashed = hasher, self.offset
        return self.hasher

    def on_written(self, hashing: bool) -> Callable[[int], None]:
        """The sink's callback: count the bytes written (and hashed)."""

        def written(count: int) -> None:
            self.offset += count
            self.received += count
            if hashing:
                self.hashed = self.offset
            self.job.on_bytes(count)

        return written

    def rename(self, expected: int | None, written: int) -> None:
        """Rename the ``.part`` when this body was complete and its digest right. Blocking."""
        if expected is not None and written != expected:
            return
        digest = None
        if self.expected is not None:
            digest = self.hasher.hexdigest() if self.hasher is not None else None
            if digest != self.expected:
                return
        os.replace(self.part, self.target)  # (Path.replace would make a new Path)
        if self.recorded is not None:  # a validator from an earlier run or attempt
            drop_validator(self.target)
        self.renamed, self.digest = True, digest

    def record(self, _written: int) -> None:
        """Record the response's ETag next to the ``.part`` being left behind. Blocking."""
        if self.recorded != self.etag:
            record_validator(self.target, self.etag, False)
            self.recorded = self.etag

    # -- errors ------------------------------------------------------------------------

    def transport_failure(self, exc: httpx.HTTPError) -> Failure:
        """A network failure during the GET (retryable like any idempotent request)."""
        what = f"GET {self.safe_url}"
        error = TransportError(network_failure(what, exc, setting="that the URL is right"))
        error.__cause__ = exc
        return Failure(error, retryable_transport("GET", exc))

    def long_failure(self, expected: int) -> Failure:
        """A body longer than its ``Content-Length``: the ``.part`` is dropped, retried."""
        return Failure(
            TransportError(
                f"GET {self.safe_url}: the body is longer than the {expected} bytes announced; "
                "nothing past them was saved (the partial file was deleted). Try again later."
            ),
            True,
        )

    def short_failure(self, got: int, expected: int) -> Failure:
        """A body shorter (or longer) than its ``Content-Length``: retried."""
        return Failure(
            TransportError(
                f"GET {self.safe_url}: the body ended after {got} of {expected} bytes; "
                "the connection was probably cut, try again"
            ),
            True,
        )

    def mismatch(self, digest: str | None) -> DownloadError:
        """The error for a digest that differed twice."""
        return DownloadError(
            f"{self.safe_url}: {self.job.checksums.algorithm} checksum mismatch: expected "
            f"{self.expected}, got {digest} (also after downloading it again from scratch; "
            "the partial file was deleted). Check the expected checksum, or try again later."
        )

    def paused(self) -> ApiError:
        """The error when the shared pause outlasts the retry budget (nothing was sent)."""
        return ApiError(
            f"EarthScope rate limit: requests are paused longer than the retry policy allows; "
            f"GET {self.safe_url} was not sent. Try again later.",
            status_code=429,
            url=self.safe_url,
        )


class _Head:
    """The answer's headers a download reads, found in one pass over them (values decoded
    as httpx decodes them, repeated ones joined with ``", "``, as ``headers.get`` does)."""

    __slots__ = ("coding", "content_range", "encoded", "etag", "length", "ranges")

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        found: dict[bytes, bytes] = {}
        for name, value in raw:
            lower = name.lower()
            if lower in _READ:
                found[lower] = found[lower] + b", " + value if lower in found else value
        try:  # (ASCII, as answers' headers nearly always are: then any encoding agrees)
            text = {name: value.decode("ascii") for name, value in found.items()}
        except UnicodeDecodeError:  # as httpx decodes them (its choice looks at them all)
            encoding = httpx.Headers(list(raw)).encoding
            text = {name: value.decode(encoding) for name, value in found.items()}
        self.etag: str | None = text.get(b"etag")
        self.ranges = text.get(b"accept-ranges", "").lower() == "bytes"
        self.length: str | None = text.get(b"content-length")
        self.content_range: str = text.get(b"content-range", "")
        self.coding: str = text.get(b"content-encoding", "identity")
        self.encoded = self.coding.strip().lower() not in ("", "identity")
        """True when the server applied a content coding although identity was asked for."""


_READ = frozenset(
    (b"etag", b"accept-ranges", b"content-length", b"content-range", b"content-encoding")
)


def _pieces(
    response: httpx.Response | RawAnswer, head: _Head, where: object
) -> AsyncIterator[bytes]:
    """The body's bytes exactly as sent, never decoded: a server that applies a content
    coding although identity was asked for gets its (compressed) bytes saved as they are,
    so a small answer can never expand into a huge file; a checksum then fails it."""
    if head.encoded:
        logger.warning(
            "%s: the server sent Content-Encoding %r although identity was asked for; "
            "saving the bytes as sent (not decoded)",
            where,
            redact(head.coding, limit=40),
        )
    if isinstance(response, RawAnswer):
        return response.body.__aiter__()
    return raw_body(response)


async def _error_response(job: FileJob, response: httpx.Response, route: Route) -> Failure:
    await response.aread()
    wait = retry_after_seconds(response.headers, now=job.clock.now())
    status = response.status_code
    retryable = retryable_status("GET", status, has_retry_after=wait is not None)
    return Failure(route.error(response), retryable, wait, status == 429)


async def fetch_file(
    job: FileJob,
    url: str,
    target: Path,
    expected: str | None,
    part_size: int,
    part_etag: str | None = None,
    part_mtime: float = 0.0,
) -> Fetched:
    """Download ``url`` to ``target`` (via ``<target>.part``, of ``part_size`` bytes now,
    written with the recorded ``part_etag`` and last modified at ``part_mtime``), verifying
    the hex digest ``expected`` when given.

    Raises:
        ApiError: a non-retryable answer, or a retryable one after the retry budget.
        TransportError: the network failed, or bodies kept arriving truncated.
        DownloadError: the digest differed twice (the ``.part`` file is deleted).
        OSError: the file could not be written (the caller turns it into a result).
    """
    recorded = part_etag if part_size > 0 else None
    download = FileDownload(job, url, target, expected=expected, recorded=recorded)
    if part_size > 0:
        await download.resume(part_size, part_etag, part_mtime)
    return await download.run()
