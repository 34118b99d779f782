"""The cross-process lock of :class:`FileTokenStore` (C36), on top of ``filelock``.

The lock is an OS lock (``flock`` on Unix, ``LockFileEx`` on Windows) on ``<tokens>.lock``:
the OS releases it when the holder dies, so the lock file is never deleted and a crashed
process never leaves a stale lock. A fresh ``FileLock`` object is used for every
acquisition, so holders in other threads (and other event loops) of this process are
excluded too, and the lock may be released from a different worker thread than the one
that took it.

Acquisition never blocks the event loop and is safe under cancellation: it runs in short,
uncancellable attempts in a worker thread, with a checkpoint between attempts; whatever
happens, a lock taken by an attempt is released when the caller leaves.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
import filelock

from .._checks import is_number
from .._errors import ConfigError, TokenStoreError
from .._files import check_regular
from ._fileio import ensure_private_dir

__all__ = ["acquire_file_lock", "hold_file_lock", "release_file_lock"]

_ATTEMPT_SECONDS = 0.05
"""Longest a single attempt blocks a worker thread: the cancellation latency."""
_POLL_SECONDS = 0.005


def _new_lock(lock_path: Path) -> filelock.BaseFileLock:
    return filelock.FileLock(
        lock_path,
        mode=0o600,
        thread_local=False,  # taken in one worker thread, maybe released in another
        preserve_lock_file=True,  # never unlink; also refuses the stale-prone soft fallback
    )


def _attempt(lock: filelock.BaseFileLock, seconds: float) -> bool:
    """Try to take ``lock`` for up to ``seconds``; True when it is held."""
    try:
        lock.acquire(timeout=seconds, poll_interval=_POLL_SECONDS)
    except filelock.Timeout:
        return False
    return True


def _release(lock: filelock.BaseFileLock) -> None:
    if lock.is_locked:
        lock.release(force=True)


def _timeout_error(lock_path: Path, timeout: float) -> TokenStoreError:
    error = TokenStoreError(
        f"timed out after {timeout:g} s waiting for the token lock {lock_path}; another process "
        "may be stuck refreshing the tokens, or holding them until it can save a rotated refresh "
        "token (its disk is full or read-only). Try again later, or stop that process; the "
        "lock file itself need not be deleted.",
        path=str(lock_path),
    )
    error.retryable = True
    return error


def _os_error(lock_path: Path, exc: OSError) -> TokenStoreError:
    return TokenStoreError(
        f"could not lock or unlock the token lock file {lock_path}: {exc.strerror or exc}; "
        "check that its directory is writable and on a filesystem that supports file locks.",
        path=str(lock_path),
    )


def _prepare(lock_path: Path) -> None:
    """Create the directory; refuse a lock path that is a link or not a regular file (also
    refused by the lock library's own ``O_NOFOLLOW`` open in recent filelock versions)."""
    ensure_private_dir(lock_path.parent)
    if os.path.lexists(lock_path):
        check_regular(lock_path)


async def _acquire(lock: filelock.BaseFileLock, lock_path: Path, patience: float) -> None:
    deadline = anyio.current_time() + patience
    try:
        await anyio.to_thread.run_sync(_prepare, lock_path)
    except OSError as exc:
        raise _os_error(lock_path, exc) from exc
    while True:
        remaining = max(0.0, deadline - anyio.current_time())
        try:
            if await anyio.to_thread.run_sync(_attempt, lock, min(_ATTEMPT_SECONDS, remaining)):
                return
        except OSError as exc:
            raise _os_error(lock_path, exc) from exc
        if remaining <= 0:
            raise _timeout_error(lock_path, patience)
        await anyio.lowlevel.checkpoint()


async def acquire_file_lock(lock_path: Path, patience: float) -> filelock.BaseFileLock:
    """Take the OS lock on ``lock_path``; release it with :func:`release_file_lock` (from any
    task, thread or event loop). Raises ``TokenStoreError`` after ``patience`` seconds."""
    lock = _new_lock(lock_path)
    try:
        await _acquire(lock, lock_path, patience)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_release, lock)
        raise
    return lock


async def release_file_lock(lock: filelock.BaseFileLock, lock_path: Path) -> None:
    """Release a lock taken by :func:`acquire_file_lock`, even when cancelled."""
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(_release, lock)
        except OSError as exc:
            raise _os_error(lock_path, exc) from exc


@asynccontextmanager
async def hold_file_lock(lock_path: Path, patience: float) -> AsyncIterator[None]:
    """Hold the OS lock on ``lock_path`` (created 0600, never deleted) for the block.

    Raises ``TokenStoreError`` after ``patience`` seconds without the lock.
    """
    lock = await acquire_file_lock(lock_path, patience)
    try:
        yield
    finally:
        await release_file_lock(lock, lock_path)


def check_timeout(value: float) -> float:
    """Validate ``lock_timeout``: a finite number of seconds, zero or more."""
    if not is_number(value):
        raise ConfigError(f"lock_timeout must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"lock_timeout must be a finite number of seconds >= 0, got {value!r}")
    return float(value)
