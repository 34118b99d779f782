"""A token store in a ``tokens.json`` file, shared safely between processes."""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio.to_thread
import filelock

from .._errors import TokenStoreError
from .._file_modes import exposed_file_warning
from .._tokens import Tokens
from ._fileio import atomic_write, ensure_private_dir, read_bytes, remove
from ._filelock import acquire_file_lock, check_timeout, release_file_lock
from ._hooks import call_on_save
from ._protocol import OnSave

__all__ = ["FileTokenStore"]

logger = logging.getLogger(__name__)

_FIX = "delete it and log in again"
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


_JSON_PROBLEMS = (
    ("Unterminated string", "a text value (string) is not closed"),
    ("Expecting value", "a value is missing or is not JSON"),
    ("Expecting property name", "a field name is not in double quotes (or a comma is extra)"),
    ("Expecting ',' delimiter", "a comma is missing between two items"),
    ("Expecting ':' delimiter", "a colon is missing after a field name"),
    ("Extra data", "there is more text after the JSON object"),
    ("Invalid control character", "a text value contains a line break or control character"),
    ("Invalid \\escape", "a text value has an invalid backslash escape"),
)


def _plain_json_problem(msg: str) -> str:
    """The json module's terse message in plain words (its position is reported apart)."""
    for prefix, words in _JSON_PROBLEMS:
        if msg.startswith(prefix):
            return words
    return msg


class FileTokenStore:
    """Keeps tokens in a JSON file, in earthscope-sdk 1.x's ``tokens.json`` format.

    The file holds ``access_token``, ``id_token`` and ``refresh_token`` (nulls omitted),
    which 1.x reads, plus ``token_type``, ``scope`` and ``expires_at`` (epoch seconds),
    which 1.x ignores; a file written by 1.x loads here.

    Writes are atomic and durable (a 0600 temp file in the same directory, fsync, rename,
    fsync of the directory; C55, C56): readers see the old tokens or the new ones, never a
    mix. Missing directories are created 0700. :meth:`load` never modifies the file: a
    corrupted file raises :class:`~earthscope_sdk_async.TokenStoreError` until it is
    deleted or replaced by a :meth:`save` (a new login or refresh).

    :meth:`lock` is an OS lock on ``<path>.lock`` that excludes other processes and other
    threads, released by the OS if its holder dies (C36); waiting for it gives up after
    ``lock_timeout`` seconds (a retryable :class:`~earthscope_sdk_async.TokenStoreError`).
    All file I/O runs in worker threads.

    A failed :meth:`save` under the lock (disk full, read-only directory...) keeps the lock
    held when the ``async with`` block ends, until a later save succeeds or
    :meth:`release_pending` is called: tokens the identity provider has just rotated are then
    only in this process's memory, and no other process may refresh with the rotated-out
    refresh token still in the file meanwhile (they wait, then fail retryably).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float = 30.0,
        on_save: OnSave | None = None,
    ) -> None:
        self._path = Path(os.fspath(path)).expanduser()
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._lock_timeout = check_timeout(lock_timeout)
        self._on_save = on_save
        self._save_failed = False  # the last save failed: the file is behind memory
        self._kept: filelock.BaseFileLock | None = None  # held past its block meanwhile

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The token file."""
        return self._path

    @property
    def lock_path(self) -> Path:
        """The lock file next to the token file (never deleted)."""
        return self._lock_path

    async def load(self) -> Tokens | None:
        """Read the tokens; ``None`` when the file does not exist.

        A file that group or others may read is loaded with a warning (once per process)
        naming the ``chmod 600`` fix.

        Raises:
            TokenStoreError: the file cannot be read, or is not a valid token file, or
                (retryable) a failed save of newer tokens is pending in this process.
        """
        if self._kept is not None:  # the file is behind a rotation held in memory
            error = self._error(
                "a save of newer tokens failed in this process and is being retried; the "
                "file may hold a rotated-out refresh token",
                "try again later",
            )
            error.retryable = True
            raise error
        try:
            data = await anyio.to_thread.run_sync(read_bytes, self._path)
        except OSError as exc:
            raise self._error(f"could not read it ({exc.strerror or exc})") from exc
        if data is None:
            return None
        await anyio.to_thread.run_sync(_check_file, self._path)
        return self._parse(data)

    def _parse(self, data: bytes) -> Tokens:
        if not data.strip():
            raise self._error("it is empty")
        try:
            return Tokens.from_json(data)
        except json.JSONDecodeError as exc:
            raise self._error(
                f"it is not valid JSON: {_plain_json_problem(exc.msg)}, at line {exc.lineno}, "
                f"column {exc.colno}"
            ) from None
        except UnicodeDecodeError:
            raise self._error("it is not UTF-8 text") from None
        except (TypeError, ValueError) as exc:
            raise self._error(f"it is not a token file ({exc})") from None

    def _error(self, problem: str, fix: str = _FIX) -> TokenStoreError:
        return TokenStoreError(f"token file {self._path}: {problem}; {fix}.", path=str(self._path))

    async def save(self, tokens: Tokens) -> None:
        """Write ``tokens`` atomically (mode 0600), then call the ``on_save`` hook.

        Raises:
            TokenStoreError: the file could not be written (the old file is left intact;
                inside :meth:`lock`, the lock is then kept until a save succeeds), or the
                ``on_save`` hook failed (the file was written).
        """
        try:
            await anyio.to_thread.run_sync(self._write, tokens.to_json().encode())
        except _ForeignFileError as exc:
            self._save_failed = True
            fix = (
                "it belongs to another user: run as that user, or delete it (or point "
                "this profile elsewhere) to log in as yourself"
            )
            raise self._error(f"not replacing it ({exc})", fix) from None
        except OSError as exc:
            self._save_failed = True
            fix = "check that the directory exists and is writable by you"
            if exc.errno in _READ_ONLY:
                fix = (
                    f"its directory {self._path.parent} is read-only for you: the tokens can "
                    "be read, but a refresh or login cannot be saved there (refreshed tokens "
                    "then live only in this process); make it writable, or use another store"
                )
            raise self._error(f"could not save tokens ({exc.strerror or exc})", fix) from exc
        self._save_failed = False
        await call_on_save(self._on_save, tokens, where=str(self._path), path=str(self._path))

    def _write(self, data: bytes) -> None:
        ensure_private_dir(self._path.parent)
        _refuse_foreign(self._path)
        atomic_write(self._path, data)

    async def delete(self) -> None:
        """Delete the token file, if any (the lock file stays).

        Raises:
            TokenStoreError: the file exists but could not be deleted.
        """
        try:
            await anyio.to_thread.run_sync(remove, self._path)
        except OSError as exc:
            fix = "check the permissions of its directory"
            raise self._error(f"could not delete it ({exc.strerror or exc})", fix) from exc
        self._save_failed = False  # nothing newer to protect any more

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the cross-process lock on :attr:`lock_path` for the ``async with`` block.

        While a save is pending (the last save failed), the lock outlives the block: the
        next block reuses it, and it is released once a save succeeds (or by
        :meth:`release_pending`). Exclusion within the process is the token manager's job.

        Raises:
            TokenStoreError: the lock was not acquired within ``lock_timeout`` seconds
                (retryable).
        """
        return self._hold()

    @property
    def save_pending(self) -> bool:
        """True while the last save failed (the file may hold rotated-out tokens)."""
        return self._save_failed

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        lock, self._kept = self._kept, None
        if lock is None:
            lock = await acquire_file_lock(self._lock_path, self._lock_timeout)
        try:
            yield
        finally:
            if self._save_failed:
                self._kept = lock  # keep other processes off the rotated-out refresh token
            else:
                await release_file_lock(lock, self._lock_path)

    async def release_pending(self) -> None:
        """Give up a save that keeps failing: release the lock kept for it (on close)."""
        lock, self._kept = self._kept, None
        if lock is not None:
            await release_file_lock(lock, self._lock_path)


class _ForeignFileError(OSError):
    """The token file belongs to another user."""


def _owner(path: Path) -> int | None:
    """The owner of ``path`` when it is not us (POSIX only), else ``None``."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows
        return None
    try:
        uid = os.lstat(path).st_uid
    except OSError:
        return None
    return uid if uid != getuid() else None


def _refuse_foreign(path: Path) -> None:
    """Never silently re-own another user's token file (e.g. under sudo)."""
    uid = _owner(path)
    if uid is not None:
        raise _ForeignFileError(f"it is owned by user id {uid}, not by you")


_warned_foreign: set[str] = set()


def _check_file(path: Path) -> None:
    """Warn (once per process) about a file others may read, or another user's file."""
    warning = exposed_file_warning(path)
    if warning is not None:
        logger.warning("%s", warning)
    _warn_if_foreign(path)


def _warn_if_foreign(path: Path) -> None:
    uid = _owner(path)
    if uid is not None and str(path) not in _warned_foreign:
        _warned_foreign.add(str(path))
        logger.warning(
            "token file %s belongs to user id %s, not to you: its tokens are used, but a "
            "refresh will not replace it",
            path,
            uid,
        )
