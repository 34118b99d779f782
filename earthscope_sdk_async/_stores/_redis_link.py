"""The Redis side of :class:`RedisTokenStore`: one private asyncio loop thread per store.

redis-py's asyncio client is asyncio-only and bound to the loop that created it, while a
token store must serve any event loop (asyncio or trio) in any thread. So every Redis call
runs on one asyncio loop in a daemon thread owned by the store (a
:class:`~earthscope_sdk_async._portal.PortalThread`), with the one client created there;
callers reach it through ``anyio.to_thread.run_sync(portal.call, ...)``, which works the
same from asyncio, trio and plain threads. A process forked after the thread started (e.g.
``multiprocessing`` with ``fork``) gets a new thread and client on first use.

Every operation is bounded by ``socket_timeout`` (connects, reads and redis-py's own
retries included) and its failures are translated here, once, into
:class:`~earthscope_sdk_async.TokenStoreError` naming the server but never its password.
After a connection failure, calls fail fast for :data:`FAIL_FAST_SECONDS` instead of each
waiting for a timeout, so callers queued behind a dead Redis get their error promptly.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from .._errors import ClientClosedError, TokenStoreError
from .._portal import PortalThread

__all__ = ["FAIL_FAST_SECONDS", "RedisLink", "store_error"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

FAIL_FAST_SECONDS = 0.5
"""After a connection failure, calls fail at once for this long (then Redis is tried again)."""
_LOCK_POLL_SECONDS = 0.02
_CONNECTION_ERRORS = (rexc.ConnectionError, rexc.TimeoutError, TimeoutError, OSError)


def store_error(message: str, where: str, *, retryable: bool = False) -> TokenStoreError:
    """A TokenStoreError about ``where`` (a URL without credentials)."""
    error = TokenStoreError(message, path=where)
    error.retryable = retryable
    return error


class RedisLink:
    """One Redis connection pool on one private asyncio loop thread, for one store.

    ``where`` is the URL without credentials (for messages); ``secret`` is the password in
    the URL, scrubbed from any server message that might echo it.
    """

    def __init__(self, url: str, *, where: str, secret: str | None, timeout: float) -> None:
        self._url = url
        self.where = where
        self._secret = secret
        self.timeout = timeout
        self._guard = threading.Lock()
        self._thread: PortalThread | None = None
        self._pid = 0
        self._client: Redis | None = None  # created and used on the loop thread only
        self._down_until = -math.inf  # time.monotonic() before which calls fail fast
        self._down_reason = ""

    # -- caller side (any thread, any event loop) -----------------------------------------

    def _loop(self) -> PortalThread:
        with self._guard:
            if self._thread is None or self._pid != os.getpid():
                self._thread = PortalThread(name="earthscope-redis", backend="asyncio")
                self._pid = os.getpid()
                self._client = None  # a client inherited through fork belongs to a dead loop
            return self._thread

    def _blocking_call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return self._loop().call(func, *args)
        except ClientClosedError:
            raise store_error(
                f"the RedisTokenStore for {self.where} was closed during the call; try again",
                self.where,
                retryable=True,
            ) from None

    async def run(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await func(*args)`` on the loop thread, from any event loop or thread.

        Not cancellable while it runs (each operation is bounded by the timeout).
        """
        return await anyio.to_thread.run_sync(self._blocking_call, func, *args)

    def start(
        self, func: Callable[..., Awaitable[Any]], *args: Any
    ) -> concurrent.futures.Future[Any]:
        """Start ``func(*args)`` as a background task on the loop thread."""
        return self._loop().portal().start_task_soon(func, *args)

    def close(self) -> None:
        """Close the client and stop the loop thread (blocking; a later call restarts them)."""
        with self._guard:
            thread, self._thread = self._thread, None
            ours = self._pid == os.getpid()
        if thread is None or not ours or not thread.started:
            return
        try:
            thread.call(self._close_client)
        except (ClientClosedError, RuntimeError, *_CONNECTION_ERRORS, rexc.RedisError) as exc:
            logger.debug("closing the Redis client failed (%s)", type(exc).__name__)
        thread.stop()

    # -- loop side --------------------------------------------------------------------------

    def _redis(self) -> Redis:
        if self._client is None:
            self._client = Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
            )
        return self._client

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def guarded(
        self, what: str, op: Callable[..., Awaitable[T]], *args: Any, extra: float = 0.0
    ) -> T:
        """Run ``await op(client, *args)`` within the timeout (plus ``extra`` seconds);
        translate every Redis failure into TokenStoreError. ``what`` names the operation.
        """
        if time.monotonic() < self._down_until:
            raise self._unreachable(what, f"{self._down_reason}, moments ago")
        try:
            with anyio.fail_after(self.timeout + extra):
                return await op(self._redis(), *args)
        except (rexc.AuthenticationError, rexc.AuthorizationError) as exc:
            raise store_error(
                f"Redis at {self.where} refused the credentials while {what} "
                f"({self._describe(exc)}); check the user name and password in the URL",
                self.where,
            ) from None
        except _CONNECTION_ERRORS as exc:
            reason = self._describe(exc)
            self._down_until = time.monotonic() + FAIL_FAST_SECONDS
            self._down_reason = reason
            raise self._unreachable(what, reason) from exc
        except rexc.RedisError as exc:
            raise store_error(
                f"Redis at {self.where} failed while {what} ({self._describe(exc)})", self.where
            ) from None

    def _unreachable(self, what: str, reason: str) -> TokenStoreError:
        return store_error(
            f"Redis at {self.where} is unavailable while {what} ({reason}); check that it is "
            "running and reachable. Retrying later may succeed.",
            self.where,
            retryable=True,
        )

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError) and not str(exc):
            return f"no answer within {self.timeout:g} s"
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self._secret:
            text = text.replace(self._secret, "***")
        return text[:300]

    # -- the lock (loop side) ---------------------------------------------------------------

    async def acquire(self, name: str, lease: float, patience: float) -> Lock | None:
        """Try for up to ``patience`` seconds to take the lock ``name`` for ``lease`` seconds."""

        async def take(client: Redis) -> Lock | None:
            lock = client.lock(
                name,
                timeout=lease,
                sleep=_LOCK_POLL_SECONDS,
                blocking=True,
                blocking_timeout=patience,
                thread_local=False,  # the token lives on the Lock object
            )
            return lock if await lock.acquire() else None

        return await self.guarded(f"taking the lock {name!r}", take, extra=patience)

    async def keep_alive(self, lock: Lock, every: float) -> None:
        """Reset the lock's lease to its full length every ``every`` seconds, until cancelled."""
        while True:
            await anyio.sleep(every)
            try:
                with anyio.fail_after(self.timeout):
                    await lock.reacquire()
            except rexc.LockNotOwnedError:
                logger.warning(
                    "the Redis lock %r at %s expired while held (the lease was not extended in "
                    "time); another worker may refresh concurrently",
                    lock.name,
                    self.where,
                )
                return
            except (rexc.RedisError, *_CONNECTION_ERRORS) as exc:
                logger.warning(
                    "could not extend the Redis lock %r at %s (%s); retrying",
                    lock.name,
                    self.where,
                    type(exc).__name__,
                )

    def finish(
        self, keeper: concurrent.futures.Future[Any] | None, lock: Lock, lease: float
    ) -> None:
        """Stop extending ``lock``, then release it (blocking; call from a worker thread).

        When Redis is unreachable, the release is retried in the background for up to
        ``lease`` seconds (after that the lease has freed the lock anyway); it is never
        raised to the caller, whose refresh is done.
        """
        if keeper is not None:
            keeper.cancel()
        try:
            self._blocking_call(self._release, lock)
        except TokenStoreError as exc:
            logger.warning("%s; retrying in the background", exc)
            self.start(self._release_when_back, lock, time.monotonic() + lease)

    async def _release(self, lock: Lock) -> None:
        await self.guarded(f"releasing the lock {lock.name!r}", _release_lock, self.where, lock)

    async def _release_when_back(self, lock: Lock, until: float) -> None:
        while time.monotonic() < until:
            await anyio.sleep(FAIL_FAST_SECONDS / 4)
            try:
                with anyio.fail_after(self.timeout):
                    await _release_lock(None, self.where, lock)
                return
            except (rexc.RedisError, *_CONNECTION_ERRORS):
                continue


async def _release_lock(client: object, where: str, lock: Lock) -> None:
    try:
        await lock.release()
    except rexc.LockNotOwnedError:
        logger.warning("the Redis lock %r at %s had expired when released", lock.name, where)
