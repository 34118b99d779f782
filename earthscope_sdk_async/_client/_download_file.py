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
:mod:`._download_resume`): 206 appends, 200 restarts from zero, 416 means complete
when the size matches and restart otherwise. The final name only ever appears through an
atomic ``os.replace`` of a complete ``.part`` (no fsync: a crash may lose data, but never
leaves a truncated final file after a clean rename).

Bodies are requested without content coding (``Accept-Encoding: identity``, so lengths,
ranges and checksums all refer to the bytes saved) and read with ``aiter_raw``; see
:mod:`._download_sink` for the writes (what arrived before a network error is written too,
so a retry resumes after it). With an expected checksum, a complete
``.part`` whose digest differs is deleted and downloaded once more from scratch; a second
mismatch fails the file.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from .._api_errors import api_error_from_response
from .._clock import Clock
from .._errors import ApiError, DownloadError, EarthScopeError, TransportError
from .._network_errors import gave_up_after, network_failure
from .._retry_after import retry_after_seconds
from .._urls import safe_url
from ._download_checksum import Checksums, Hasher, hash_prefix
from ._download_paths import part_path
from ._download_resume import (
    drop_part,
    drop_validator,
    finish_part,
    record_validator,
    resume_point,
)
from ._download_sink import BodySink
from ._retry import Failure as _Failure
from ._retry import (
    RetryPolicy,
    SharedPause,
    api_error_after,
    retryable_status,
    retryable_transport,
)

__all__ = ["FileJob", "Fetched", "fetch_file"]

logger = logging.getLogger(__name__)

_IDENTITY = {"Accept-Encoding": "identity"}
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


@dataclass(frozen=True)
class Fetched:
    """A file saved: the bytes received (over every attempt), the verified digest if any."""

    received: int
    checksum: str | None


@dataclass
class _State:
    """What is known about the remote file and the ``.part`` on disk."""

    url: str
    target: Path
    offset: int = 0
    etag: str | None = None
    ranges: bool = False
    recorded: str | None = None  # the ETag recorded next to the .part on disk
    received: int = 0
    expected: str | None = None  # the hex digest to verify, if any
    hasher: Hasher | None = None  # covers the first ``hashed`` bytes of the .part
    hashed: int = 0
    renamed: bool = False  # the complete, verified .part is the target now
    digest: str | None = None  # the verified digest, once renamed

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)


def _transport(state: _State, exc: httpx.HTTPError) -> _Failure:
    error = TransportError(
        network_failure(f"GET {state.safe_url}", exc, setting="that the URL is right")
    )
    error.__cause__ = exc
    return _Failure(error, retryable_transport("GET", exc))


def _short(state: _State, got: int, expected: int) -> _Failure:
    return _Failure(
        TransportError(
            f"GET {state.safe_url}: the body ended after {got} of {expected} bytes; "
            "the connection was probably cut, try again"
        ),
        True,
    )


async def _discard(state: _State) -> None:
    """Delete the ``.part`` and its recorded validator."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(drop_part, state.target)
    state.recorded = None


def _request_headers(state: _State) -> dict[str, str]:
    if state.offset <= 0 or not state.ranges:
        return dict(_IDENTITY)
    headers = {**_IDENTITY, "Range": f"bytes={state.offset}-"}
    if state.etag:
        headers["If-Range"] = state.etag
    return headers


def _encoded(response: httpx.Response) -> bool:
    """True when the server applied a content coding although identity was asked for."""
    return response.headers.get("content-encoding", "identity").strip().lower() not in (
        "",
        "identity",
    )


def _pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as it arrives (decoded only if the server insisted on a content coding)."""
    return response.aiter_bytes() if _encoded(response) else response.aiter_raw()


async def _prepare_hasher(job: FileJob, state: _State, part: Path) -> Hasher | None:
    """The hasher to continue with: fresh from byte 0, or fed the ``.part`` prefix again."""
    if state.expected is None:
        return None
    if state.offset == 0:
        state.hasher, state.hashed = job.checksums.new(), 0
    elif state.hasher is None or state.hashed != state.offset:
        hasher = job.checksums.new()
        await anyio.to_thread.run_sync(hash_prefix, hasher, part, state.offset)
        state.hasher, state.hashed = hasher, state.offset
    return state.hasher


def _on_written(job: FileJob, state: _State, hashing: bool) -> Callable[[int], None]:
    def written(count: int) -> None:
        state.offset += count
        state.received += count
        if hashing:
            state.hashed = state.offset
        job.on_bytes(count)

    return written


def _renamer(state: _State, part: Path, expected: int | None) -> Callable[[int], None]:
    """Rename the ``.part`` when this body was complete and its digest right (blocking)."""

    def rename(written: int) -> None:
        if expected is not None and written != expected:
            return
        digest = None
        if state.expected is not None:
            digest = state.hasher.hexdigest() if state.hasher is not None else None
            if digest != state.expected:
                return
        part.replace(state.target)
        if state.recorded is not None:  # a validator from an earlier run or attempt
            drop_validator(state.target)
        state.renamed, state.digest = True, digest

    return rename


def _record(state: _State, _written: int) -> None:
    """Record the response's ETag next to the ``.part`` being left behind. Blocking."""
    if state.recorded != state.etag:
        record_validator(state.target, state.etag, False)
        state.recorded = state.etag


async def _write_body(
    job: FileJob, state: _State, response: httpx.Response, expected: int | None
) -> _Failure | None:
    part = part_path(state.target)
    appending = response.status_code == 206
    if not appending:
        state.offset = 0
    hasher = await _prepare_hasher(job, state, part)
    # The validator is recorded only when a .part is left behind (an error, a short body, a
    # cancel): the common, complete download pays nothing for it. A stale validator is safe
    # (If-Range then gets a 200 and the file restarts); a missing one falls back to a HEAD.
    record = functools.partial(_record, state)
    sink = BodySink(part, appending, hasher, _on_written(job, state, hasher is not None))
    try:
        try:
            async for piece in _pieces(response):
                if sink.add(piece):
                    await sink.flush()
        except httpx.HTTPError as exc:
            await sink.flush(final=True, then=record)  # keep what arrived: resume after it
            return _transport(state, exc)
        await sink.flush(final=True, then=_renamer(state, part, expected))
    finally:
        await sink.aclose()
        if not state.renamed and state.recorded != state.etag and sink.written:
            with anyio.CancelScope(shield=True):  # cancelled mid-body: keep a resumable .part
                await anyio.to_thread.run_sync(record, 0)
    if expected is not None and sink.written != expected:
        if sink.written > expected:
            await _discard(state)
            state.offset = 0
        return _short(state, sink.written, expected)
    return None


async def _handle_416(state: _State, response: httpx.Response) -> bool | _Failure:
    match = _TOTAL.match(response.headers.get("content-range", "").strip())
    if match is not None and int(match.group(2)) == state.offset:
        return True
    await _discard(state)
    state.offset = 0
    error = TransportError(f"GET {state.safe_url}: the partial file does not match; restarting")
    return _Failure(error, True, immediate=True)


async def _error_response(job: FileJob, response: httpx.Response) -> _Failure:
    await response.aread()
    wait = retry_after_seconds(response.headers, now=job.clock.now())
    status = response.status_code
    retryable = retryable_status("GET", status, has_retry_after=wait is not None)
    return _Failure(api_error_from_response(response), retryable, wait, status == 429)


async def _attempt(job: FileJob, state: _State) -> bool | _Failure:
    """One GET; True when the ``.part`` file is complete."""
    try:
        async with job.http.stream("GET", state.url, headers=_request_headers(state)) as response:
            status = response.status_code
            if status == 416 and state.offset > 0:
                return await _handle_416(state, response)
            if not response.is_success:
                return await _error_response(job, response)
            state.etag = response.headers.get("etag")
            state.ranges = response.headers.get("accept-ranges", "").lower() == "bytes"
            if _encoded(response):  # lengths and ranges count encoded bytes: restart instead
                state.ranges = False
            expected = _expected_length(state, response)
            if isinstance(expected, _Failure):
                await _discard(state)
                return expected
            failure = await _write_body(job, state, response, expected)
            return failure if failure is not None else True
    except httpx.HTTPError as exc:
        return _transport(state, exc)


def _expected_length(state: _State, response: httpx.Response) -> int | _Failure | None:
    length = response.headers.get("content-length")
    expected = int(length) if length is not None and length.isdigit() else None
    if _encoded(response):
        return None
    if response.status_code != 206:
        return expected
    match = _TOTAL.match(response.headers.get("content-range", "").strip())
    if match is None or match.group(1) is None or int(match.group(1)) != state.offset:
        state.offset = 0
        error = TransportError(f"GET {state.safe_url}: the server resumed at the wrong offset")
        return _Failure(error, True, immediate=True)
    return expected


def _final(failure: _Failure, attempts: int) -> EarthScopeError:
    error = failure.error
    if attempts < 2:
        return error
    if isinstance(error, ApiError):
        return api_error_after(error, attempts)
    final = type(error)(f"{error} ({gave_up_after(attempts)})")
    final.__cause__ = error.__cause__
    return final


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
    # "": whatever validator file may lie around is unknown, so the first response records
    state = _State(url, target, expected=expected, recorded=part_etag if part_size > 0 else None)
    if part_size > 0:
        resume = await resume_point(job.http, url, part_size, part_etag, part_mtime)
        state.offset, state.etag, state.ranges = resume.offset, resume.etag, resume.ranges
        if resume.offset == 0:
            logger.debug("GET %s: the old partial file is stale; restarting", state.safe_url)
            await _discard(state)
    for check in (1, 2):
        await _complete_part(job, state)
        if state.renamed:  # the common case: renamed by the last write
            return Fetched(state.received, state.digest)
        digest = await _digest(job, state)
        if digest == expected:
            await anyio.to_thread.run_sync(finish_part, target)
            return Fetched(state.received, digest)
        await _discard(state)
        state.offset, state.hasher, state.hashed = 0, None, 0
        if check == 2:
            raise _mismatch(job, state, digest)
        logger.warning(
            "GET %s: %s checksum mismatch; downloading it again from scratch",
            state.safe_url,
            job.checksums.algorithm,
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def _digest(job: FileJob, state: _State) -> str | None:
    """The digest of the complete ``.part`` (``None`` when nothing is to be verified)."""
    if state.expected is None:
        return None
    hasher = state.hasher
    if hasher is None or state.hashed != state.offset:  # e.g. completed by a 416
        hasher = job.checksums.new()
        await anyio.to_thread.run_sync(hash_prefix, hasher, part_path(state.target), state.offset)
    return hasher.hexdigest()


def _mismatch(job: FileJob, state: _State, digest: str | None) -> DownloadError:
    return DownloadError(
        f"{state.safe_url}: {job.checksums.algorithm} checksum mismatch: expected "
        f"{state.expected}, got {digest} (also after downloading it again from scratch; "
        "the partial file was deleted). Check the expected checksum, or try again later."
    )


async def _complete_part(job: FileJob, state: _State) -> None:
    """GET (and retry) until the ``.part`` file is complete."""
    deadline = job.clock.monotonic() + job.policy.max_total
    failure: _Failure | None = None
    for attempt in range(1, job.attempts + 1):
        if not await job.pause.wait(deadline):
            raise _final(failure, attempt - 1) if failure else _paused(state)
        outcome = await _attempt(job, state)
        if outcome is True:
            return
        assert isinstance(outcome, _Failure)
        failure = outcome
        wait = 0.0 if outcome.immediate else job.policy.backoff(attempt)
        if outcome.retry_after is not None:
            wait = outcome.retry_after
        if outcome.rate_limited or outcome.retry_after is not None:
            job.pause.pause(wait)
        give_up = attempt >= job.attempts or job.clock.monotonic() + wait > deadline
        if not outcome.retryable or give_up:
            raise _final(outcome, attempt)
        logger.debug("GET %s: attempt %d failed, retrying in %.2f s", state.safe_url, attempt, wait)
        await job.clock.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _paused(state: _State) -> ApiError:
    return ApiError(
        f"EarthScope rate limit: requests are paused longer than the retry policy allows; "
        f"GET {state.safe_url} was not sent. Try again later.",
        status_code=429,
        url=state.safe_url,
    )
