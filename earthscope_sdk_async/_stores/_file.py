"""A token store in a ``tokens.json`` file, shared safely between processes."""

from __future__ import annotations

import json
import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio.to_thread

from .._errors import TokenStoreError
from .._tokens import Tokens
from ._fileio import atomic_write, ensure_private_dir, read_bytes, remove
from ._filelock import check_timeout, hold_file_lock
from ._hooks import call_on_save
from ._protocol import OnSave

__all__ = ["FileTokenStore"]

_FIX = "delete it and log in again"


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
    ``lock_timeout`` seconds. All file I/O runs in worker threads.
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

        Raises:
            TokenStoreError: the file cannot be read, or is not a valid token file.
        """
        try:
            data = await anyio.to_thread.run_sync(read_bytes, self._path)
        except OSError as exc:
            raise self._error(f"could not read it ({exc.strerror or exc})") from exc
        return None if data is None else self._parse(data)

    def _parse(self, data: bytes) -> Tokens:
        if not data.strip():
            raise self._error("it is empty")
        try:
            return Tokens.from_json(data)
        except json.JSONDecodeError as exc:
            raise self._error(f"it is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        except UnicodeDecodeError:
            raise self._error("it is not UTF-8 text") from None
        except (TypeError, ValueError) as exc:
            raise self._error(f"it is not a token file ({exc})") from None

    def _error(self, problem: str, fix: str = _FIX) -> TokenStoreError:
        return TokenStoreError(f"token file {self._path}: {problem}; {fix}.", path=str(self._path))

    async def save(self, tokens: Tokens) -> None:
        """Write ``tokens`` atomically (mode 0600), then call the ``on_save`` hook.

        Raises:
            TokenStoreError: the file could not be written (the old file is left intact),
                or the ``on_save`` hook failed (the file was written).
        """
        try:
            await anyio.to_thread.run_sync(self._write, tokens.to_json().encode())
        except OSError as exc:
            fix = "check that the directory exists and is writable by you"
            raise self._error(f"could not save tokens ({exc.strerror or exc})", fix) from exc
        await call_on_save(self._on_save, tokens, where=str(self._path), path=str(self._path))

    def _write(self, data: bytes) -> None:
        ensure_private_dir(self._path.parent)
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

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the cross-process lock on :attr:`lock_path` for the ``async with`` block.

        Raises:
            TokenStoreError: the lock was not acquired within ``lock_timeout`` seconds.
        """
        return hold_file_lock(self._lock_path, self._lock_timeout)
