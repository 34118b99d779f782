"""A token store in Redis, shared by a fleet of workers on many machines (extra ``redis``)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import anyio.to_thread

from .._checks import is_number
from .._errors import ConfigError, TokenStoreError
from .._tokens import Tokens
from ._filelock import check_timeout
from ._hooks import call_on_save
from ._protocol import OnSave
from ._sealing import EncryptionKey, Sealer, looks_sealed

if TYPE_CHECKING:
    from redis.asyncio.lock import Lock

    from ._redis_link import RedisLink

__all__ = ["RedisTokenStore"]

logger = logging.getLogger(__name__)

_INSTALL = "pip install 'earthscope-sdk-async[redis]'"
_ATTEMPT_SECONDS = 0.25
"""Longest single wait for the lock: how soon a cancelled waiter notices."""
_SAVE_RETRY_SECONDS = 0.1
_FIX = "delete it (redis-cli DEL {key}) and log in again, or save new tokens to it"


def _import_link() -> ModuleType:
    try:
        from . import _redis_link
    except ImportError:
        raise ConfigError(f"RedisTokenStore needs the redis package: {_INSTALL}") from None
    return _redis_link


def _describe_url(url: str) -> tuple[str, str | None]:
    """``(where, password)``: the URL without credentials, and the password to hide."""
    from redis.asyncio.connection import parse_url

    if not isinstance(url, str):
        raise ConfigError(f"url must be a string, got {type(url).__name__}")
    try:
        parts: dict[str, object] = dict(parse_url(url))
    except (ValueError, TypeError):  # the URL is not quoted: it may hold a password
        raise ConfigError(
            "url must look like redis://[user:password@]host:port/db, rediss://... (TLS) or "
            "unix:///path/to/redis.sock"
        ) from None
    scheme = url.split(":", 1)[0].lower()
    db = parts.get("db", 0)
    if "path" in parts:
        where = f"unix://{parts['path']}?db={db}"
    else:
        host = str(parts.get("host", "localhost"))
        host = f"[{host}]" if ":" in host else host
        where = f"{scheme}://{host}:{parts.get('port', 6379)}/{db}"
    password = parts.get("password")
    return where, str(password) if password else None


def _positive(name: str, value: float) -> float:
    if not is_number(value):
        raise ConfigError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


class RedisTokenStore:
    """Keeps tokens in one Redis key, shared by every worker that points at it.

    The value is the ``tokens.json`` text (:meth:`Tokens.to_json`), or that text encrypted
    with Fernet when ``encryption_key`` is given (``pip install
    'earthscope-sdk-async[redis-encrypted]'``; one key, or a list whose first key encrypts
    and any of which decrypts, for key rotation). The key must not be shared by different
    users, client ids or profiles.

    :meth:`lock` is a Redis lock on ``<key>:lock`` (redis-py's ``Lock``) held for the whole
    refresh: it expires ``lease`` seconds after it was taken or last extended, and is
    extended every ``lease / 3`` seconds while held, so a refresh may take as long as it
    needs while a worker that dies mid-refresh frees it within ``lease`` seconds. Waiting
    for it gives up after ``lock_timeout`` seconds. :meth:`load` always reads Redis (no
    cache), so a worker that takes the lock sees the token another worker just saved.

    Every Redis operation gives up after ``socket_timeout`` seconds. Failures raise
    :class:`~earthscope_sdk_async.TokenStoreError` naming the server (never its password);
    an unreachable or timed-out Redis gives errors with ``retryable = True``, and for half a
    second after such a failure calls fail at once rather than wait again.

    The store is not bound to an event loop: its Redis client lives on a private asyncio
    loop thread, started on first use, which every caller (asyncio or trio, any thread)
    reaches through a worker thread. :meth:`close` stops that thread; a later call starts
    it again. ``on_save`` is called after each save (see
    :data:`~earthscope_sdk_async.OnSave`).
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        key: str = "earthscope-sdk-async:tokens",
        lock_timeout: float = 30.0,
        lease: float = 10.0,
        socket_timeout: float = 5.0,
        encryption_key: EncryptionKey | None = None,
        on_save: OnSave | None = None,
    ) -> None:
        link = _import_link()
        if not isinstance(key, str) or not key:
            raise ConfigError("key must be a non-empty string")
        self._key = key
        self._lock_key = f"{key}:lock"
        self._lock_timeout = check_timeout(lock_timeout)
        self._lease = _positive("lease", lease)
        where, password = _describe_url(url)
        self._sealer = None if encryption_key is None else Sealer(encryption_key)
        self._on_save = on_save
        self._link: RedisLink = link.RedisLink(
            url, where=where, secret=password, timeout=_positive("socket_timeout", socket_timeout)
        )

    def __repr__(self) -> str:
        sealed = ", encrypted" if self._sealer is not None else ""
        return f"RedisTokenStore({self.where!r}, key={self._key!r}{sealed})"

    @property
    def where(self) -> str:
        """The server's URL without credentials, e.g. ``redis://10.0.0.5:6379/0``."""
        return self._link.where

    @property
    def key(self) -> str:
        """The Redis key holding the tokens."""
        return self._key

    @property
    def lock_key(self) -> str:
        """The Redis key of the lock (``<key>:lock``)."""
        return self._lock_key

    # -- tokens ------------------------------------------------------------------------------

    async def load(self) -> Tokens | None:
        """Read the tokens from Redis (always, never cached); ``None`` when the key is absent.

        Raises:
            TokenStoreError: Redis failed or is unreachable (``retryable``), or the value
                is not a token set (or cannot be decrypted).
        """
        link = self._link
        data = await link.run(link.guarded, f"reading {self._key!r}", _get, self._key)
        return None if data is None else self._parse(data)

    async def save(self, tokens: Tokens) -> None:
        """Replace the stored tokens, then call the ``on_save`` hook.

        While Redis is unreachable the write is retried for up to two thirds of ``lease``
        (the time the lock is surely still held): a rotated refresh token that never
        reaches Redis would make the next worker refresh with a spent one, and the identity
        provider then revokes the whole token family.

        Raises:
            TokenStoreError: Redis failed or stayed unreachable, or the hook failed.
        """
        data = tokens.to_json().encode()
        if self._sealer is not None:
            data = self._sealer.seal(data)
        await self._write(data, patience=self._lease * 2 / 3)
        await call_on_save(self._on_save, tokens, where=f"{self.where} key {self._key!r}")

    async def _write(self, data: bytes, *, patience: float) -> None:
        link = self._link
        deadline = anyio.current_time() + patience
        while True:
            try:
                await link.run(link.guarded, f"saving {self._key!r}", _set, self._key, data)
                return
            except TokenStoreError as exc:
                if not exc.retryable or anyio.current_time() >= deadline:
                    raise
                logger.warning("%s; retrying the save", exc)
            await anyio.sleep(_SAVE_RETRY_SECONDS)

    async def delete(self) -> None:
        """Delete the stored tokens (deleting nothing is not an error)."""
        link = self._link
        await link.run(link.guarded, f"deleting {self._key!r}", _delete, self._key)

    def _parse(self, data: bytes) -> Tokens:
        if self._sealer is not None:
            opened = self._sealer.open(data)
            if opened is None:
                raise self._error(
                    "it cannot be decrypted with the encryption_key given (a wrong key, or it "
                    "was saved unencrypted)"
                )
            data = opened
        elif looks_sealed(data):
            raise self._error("it is encrypted", "pass the encryption_key it was saved with")
        try:
            return Tokens.from_json(data)
        except json.JSONDecodeError as exc:
            raise self._error(f"it is not valid JSON ({exc.msg})") from None
        except UnicodeDecodeError:
            raise self._error("it is not UTF-8 text") from None
        except (TypeError, ValueError) as exc:
            raise self._error(f"it is not a token set ({exc})") from None

    def _error(self, problem: str, fix: str | None = None) -> TokenStoreError:
        fix = fix or _FIX.format(key=self._key)
        message = f"Redis key {self._key!r} at {self.where}: {problem}; {fix}."
        return TokenStoreError(message, path=f"{self.where} {self._key}")

    # -- the lock ----------------------------------------------------------------------------

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Hold the Redis lock on :attr:`lock_key` for the ``async with`` block.

        The lease is extended in the background while the block runs; the lock is
        released on exit, even when the block is cancelled.

        Raises:
            TokenStoreError: not acquired within ``lock_timeout`` seconds, or Redis failed.
        """
        return self._hold()

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        lock = await self._acquire()
        link = self._link
        keeper = None
        try:
            keeper = link.start(link.keep_alive, lock, self._lease / 3)
            yield
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(link.finish, keeper, lock, self._lease)

    async def _acquire(self) -> Lock:
        link = self._link
        deadline = anyio.current_time() + self._lock_timeout
        while True:
            remaining = max(0.0, deadline - anyio.current_time())
            patience = min(_ATTEMPT_SECONDS, remaining)
            lock = await link.run(link.acquire, self._lock_key, self._lease, patience)
            if lock is not None:
                return lock  # no checkpoint before the caller's try/finally
            if remaining <= 0:
                raise self._timeout_error()
            await anyio.lowlevel.checkpoint()

    def _timeout_error(self) -> TokenStoreError:
        error = TokenStoreError(
            f"timed out after {self._lock_timeout:g} s waiting for the Redis lock "
            f"{self._lock_key!r} at {self.where}; another worker may be stuck refreshing the "
            f"tokens (its lock expires at most {self._lease:g} s after it stops extending it). "
            "Try again, or raise lock_timeout.",
            path=f"{self.where} {self._lock_key}",
        )
        error.retryable = True  # the holder may finish, or its lease run out
        return error

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the Redis connections and stop the store's loop thread (blocking).

        The store stays usable: the next call reconnects.
        """
        self._link.close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        await anyio.to_thread.run_sync(self._link.close)


async def _get(client: Any, key: str) -> bytes | None:
    value: bytes | None = await client.get(key)
    return value


async def _set(client: Any, key: str, data: bytes) -> None:
    await client.set(key, data)


async def _delete(client: Any, key: str) -> None:
    await client.delete(key)
