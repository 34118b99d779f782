"""TokenManager: the one place tokens are handed out, refreshed and saved.

Single flight (C35, C36): a refresh takes the in-process lock (one ``anyio.Lock`` per event
loop, then a ``threading.Lock`` shared by every loop and thread), then the store's
cross-process lock; it re-reads the store, adopts a token another process already saved, or
else refreshes from the newest refresh token in the store, saves durably (C34) and releases.
Cancellation and deadlines (C37): every request to the identity provider has an overall
deadline (``Settings.token_request_timeout``). Only a refresh-token exchange and the saving
of its result are shielded from the caller's cancellation (a rotated refresh token the
server committed must be read and saved), and that shield lasts at most one deadline.
Callers waiting for another task's refresh wait on cancellable locks, so cancelling them
ends their wait at once.

Rotation durability: when saving fails after the identity provider rotated the refresh
token, the new tokens keep serving from memory, are never replaced by what the store holds,
and saving is retried in the background (and before every refresh) until it succeeds;
:meth:`TokenManager.aclose` makes one last attempt. Stores that can (``FileTokenStore``)
keep their cross-process lock meanwhile, so no other process refreshes with the
rotated-out token.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.lowlevel
import httpx
from anyio.lowlevel import RunVar

from ._clock import Clock, SystemClock
from ._errors import ClientClosedError, EarthScopeError, LoginRequiredError, TokenStoreError
from ._flows import ClientCredentialsFlow, DeviceCodeFlow, Prompt, refresh_tokens, revoke_token
from ._portal import PortalThread
from ._settings import Settings
from ._stores import MemoryTokenStore, TokenStore
from ._tokens import Tokens, fingerprint, refresh_leeway

T = TypeVar("T")
P = ParamSpec("P")

if TYPE_CHECKING:
    from ._flows import DeviceCode  # noqa: F401

__all__ = ["TokenManager"]

logger = logging.getLogger(__name__)

_LOOP_LOCKS: RunVar[WeakKeyDictionary[TokenManager, anyio.Lock]] = RunVar("earthscope_locks")
_NEVER = -math.inf
_PLACEHOLDER = "bootstrap-placeholder"
_SAVE_RETRY_FIRST = 1.0
"""Seconds before the first background retry of a failed save (then doubling)."""
_SAVE_RETRY_MAX = 60.0


class TokenManager:
    """Hands out fresh access tokens; refreshes once per expiry however many callers ask.

    ``store`` defaults to a :class:`MemoryTokenStore`. ``http`` is the client used for OAuth
    requests; by default a short-lived client is created for each (rare) OAuth exchange, so
    the manager is not bound to any event loop and may be shared by threads and loops.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: TokenStore | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self._http = http
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tokens: Tokens | None = None
        self._fresh_until = _NEVER  # clock.monotonic() before which _tokens is fresh
        self._ahead_at = math.inf  # clock.monotonic() after which a background refresh starts
        self._ahead: PortalThread | None = None  # the manager's loop thread (see run_blocking)
        self._ahead_guard = threading.Lock()
        self._ahead_closed = False
        self._loaded = False
        self._rejected: str | None = None  # an access token a server refused (invalidate)
        self._dead_refresh: str | None = None  # a refresh token refused with invalid_grant
        self._thread_lock = threading.Lock()
        self.last_save_error: TokenStoreError | None = None
        """The error of the last failed save, while the in-memory tokens still serve."""
        self._save_retry_running = False

    def __repr__(self) -> str:
        return f"TokenManager(profile={self.settings.profile!r}, store={type(self.store).__name__})"

    # -- reading ---------------------------------------------------------------------------

    @property
    def tokens(self) -> Tokens | None:
        """The tokens currently held in memory (``None`` before the first load)."""
        return self._tokens

    def cached_access_token(self) -> str | None:
        """The in-memory access token if it is fresh for at least the leeway, else ``None``.

        Synchronous, lock-free and loop-free: the fast path of every request.
        """
        tokens = self._tokens
        now = self._clock.monotonic()
        if tokens is not None and now < self._fresh_until:
            if now >= self._ahead_at:
                self._start_refresh_ahead(tokens.access_token)
            return tokens.access_token
        return None

    async def get_access_token(self) -> str:
        """Return an access token valid for at least ``settings.refresh_leeway`` seconds.

        Loads the store on first use; refreshes (single flight) when needed. Raises
        :class:`LoginRequiredError` when there is nothing to refresh from.
        """
        token = self.cached_access_token()
        if token is not None:
            return token
        token = (await self._renew(force=False, stale=None)).access_token
        return self.cached_access_token() or token  # (starts refresh-ahead if already due)

    async def get_tokens(self) -> Tokens:
        """Like :meth:`get_access_token`, but return the whole :class:`Tokens`."""
        if self.cached_access_token() is None:
            await self._renew(force=False, stale=None)
        assert self._tokens is not None
        return self._tokens

    async def load(self) -> Tokens | None:
        """Load tokens from the store into memory (without refreshing) and return them."""
        async with self._local_lock():
            if not self._loaded:
                self._adopt(await self._read_store())
                self._loaded = True
        return self._tokens

    # -- changing --------------------------------------------------------------------------

    async def refresh(self, *, force: bool = True) -> Tokens:
        """Refresh now (``force=True``) or only when the held token is not fresh.

        A forced refresh always calls the token endpoint, starting from the newest refresh
        token in the store; machine clients run the client-credentials grant again.
        """
        return await self._renew(force=force, stale=None)

    async def aclose(self) -> None:
        """Make one last attempt to save tokens whose save failed, then :meth:`close`.

        If that attempt fails too, the error is logged and the store's kept lock (if any)
        is released: the tokens in memory are lost with this manager.
        """
        try:
            if self.last_save_error is not None and self._tokens is not None:
                with anyio.CancelScope(shield=True), anyio.move_on_after(self._save_patience()):
                    await self._retry_save(final=True)
        finally:
            release = getattr(self.store, "release_pending", None)
            if release is not None:
                with anyio.CancelScope(shield=True):
                    await release()
            self.close()

    def close(self) -> None:
        """Stop the manager's loop thread, if one was started, and background refreshes
        with it (blocking, quick)."""
        with self._ahead_guard:
            self._ahead_at = math.inf
            self._ahead_closed = True
        self.stop_loop()

    def stop_loop(self) -> None:
        """Stop the manager's loop thread, if one was started (blocking, quick); it starts
        again when needed. Background refreshes stay on (:meth:`close` ends them too)."""
        with self._ahead_guard:
            ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.stop()

    def run_blocking(self, func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """``await func(*args, **kwargs)`` on the manager's loop thread, for sync callers
        (``EarthScopeAuth.sync_auth_flow``); returns its result.

        The manager owns one daemon loop thread, started on first use, shared by the sync
        auth flow and the background (refresh-ahead) refreshes; :meth:`stop_loop` or
        :meth:`close` stop it.
        """
        return self._loop_thread().call(func, *args, **kwargs)

    def _loop_thread(self) -> PortalThread:
        with self._ahead_guard:
            if self._ahead is None:
                self._ahead = PortalThread(name="earthscope-tokens")
            return self._ahead

    def _start_refresh_ahead(self, current: str) -> None:
        """Refresh in the background while ``current`` keeps serving (ANCHORS item 5)."""
        with self._ahead_guard:
            if self._ahead_at == math.inf:
                return  # already started for this token, or closed
            self._ahead_at = math.inf
        try:
            self._loop_thread().portal().start_task_soon(self._refresh_ahead, current)
        except (RuntimeError, ClientClosedError):  # shutting down: the normal path refreshes
            logger.debug("refresh-ahead not started: its loop is closed")

    async def _refresh_ahead(self, current: str) -> None:
        try:
            await self._renew(force=False, stale=current)
        except EarthScopeError as exc:  # the token still serves; expiry retries the normal way
            logger.warning("background refresh failed (%s); will retry at expiry", exc)

    def invalidate(self, token: str) -> None:
        """Mark ``token`` as rejected; clears it only if it is still the held access token."""
        tokens = self._tokens
        if tokens is not None and tokens.access_token == token:
            self._rejected = token
            self._fresh_until = _NEVER

    async def handle_rejected(self, token: str) -> str:
        """A server rejected ``token`` (401): return the token to retry with.

        Refreshes (single flight) only if ``token`` is still the one held; otherwise returns
        the newer token another caller already obtained (C48).
        """
        self.invalidate(token)
        current = self.cached_access_token()
        if current is not None and current != token:
            return current
        return (await self._renew(force=False, stale=token)).access_token

    async def login(self, prompt: Prompt | None = None) -> Tokens:
        """Log in: the device flow for people, client credentials when a secret is set.

        The interactive part runs without holding any lock; the result is saved under the
        store lock. ``prompt`` receives the :class:`DeviceCode` to show the user.
        """
        async with self._oauth_http() as http:
            if self.settings.is_machine:
                tokens = await ClientCredentialsFlow(http, self.settings, clock=self._clock).login()
            else:
                flow = DeviceCodeFlow(http, self.settings, clock=self._clock)
                tokens = await flow.login(prompt)
        async with self._all_locks():
            with anyio.CancelScope(shield=True):
                await self._commit(tokens, fresh=True)
        return tokens

    async def logout(self, *, revoke: bool = True) -> bool:
        """Forget the tokens: revoke the refresh token server-side (one request, C42-C45),
        then always delete them locally. Returns False when revocation failed (logged).
        """
        async with self._all_locks():
            with anyio.CancelScope(shield=True):  # local deletion always completes (C45)
                try:
                    tokens = await self._read_store() or self._tokens
                except TokenStoreError:  # unreadable file: delete it anyway
                    tokens = self._tokens
                await self.store.delete()
                self._tokens, self._fresh_until, self._loaded = None, _NEVER, True
                self.last_save_error = None
        # Revocation runs after the locks are released and stays cancellable: it may wait on
        # a slow identity provider, and other processes must not wait for it.
        if revoke and tokens is not None and tokens.refresh_token:
            return await self._revoke(tokens.refresh_token)
        return True

    async def save(self, tokens: Tokens) -> None:
        """Hold and store ``tokens`` (e.g. obtained elsewhere), under the store lock."""
        async with self._all_locks():
            with anyio.CancelScope(shield=True):
                await self._commit(tokens)

    # -- internals ---------------------------------------------------------------------------

    async def _revoke(self, refresh_token: str) -> bool:
        try:
            async with self._oauth_http() as http:
                await revoke_token(http, self.settings, refresh_token, clock=self._clock)
        except Exception as exc:
            logger.warning(
                "revoking the refresh token failed (%s); deleted locally anyway", type(exc).__name__
            )
            return False
        return True

    async def _renew(self, *, force: bool, stale: str | None) -> Tokens:
        stale = stale or self._rejected
        async with self._process_locks():
            # Another task or thread may have refreshed while we queued: no store lock needed.
            if self._loaded and not force and self._is_usable(stale):
                assert self._tokens is not None
                return self._tokens
            async with self.store.lock():
                if self.last_save_error is not None and self._tokens is not None:
                    await self._save_pending()  # the newest tokens first reach the store
                if not self._loaded:
                    self._adopt(await self._read_store())
                    self._loaded = True
                if not force and self._is_usable(stale):
                    assert self._tokens is not None
                    return self._tokens
                try:
                    tokens = await self._adopt_or_exchange(force=force, stale=stale)
                except EarthScopeError:
                    await anyio.lowlevel.checkpoint_if_cancelled()  # cancelled: say so first
                    raise
        await anyio.lowlevel.checkpoint_if_cancelled()  # the caller's cancellation, now
        return tokens

    async def _adopt_or_exchange(self, *, force: bool, stale: str | None) -> Tokens:
        stored = None if self.last_save_error is not None else await self._read_store()
        if not force and stored is not None and self._would_adopt(stored, stale):
            logger.debug(
                "adopting tokens another process saved (%s)", fingerprint(stored.access_token)
            )
            self._adopt(stored)
            return stored
        newest = self._tokens if self.last_save_error is not None else stored or self._tokens
        return await self._exchange(newest)

    def _is_usable(self, stale: str | None) -> bool:
        tokens = self._tokens
        if tokens is None or self._clock.monotonic() >= self._fresh_until:
            return False
        return stale is None or tokens.access_token != stale

    def _would_adopt(self, stored: Tokens, stale: str | None) -> bool:
        if stale is not None and stored.access_token == stale:
            return False
        return not stored.is_expired(self._leeway(stored), now=self._clock.now())

    def _leeway(self, tokens: Tokens, lifetime: float | None = None) -> float:
        """The refresh leeway for ``tokens`` (the rule shared with the CLI, C40, C60)."""
        return refresh_leeway(tokens, self.settings.refresh_leeway, lifetime)

    async def _exchange(self, base: Tokens | None) -> Tokens:
        if (
            base is not None
            and base.refresh_token
            and (base.refresh_token == self._dead_refresh or base.refresh_rejected_at is not None)
        ):
            raise LoginRequiredError(
                "the refresh token was rejected (invalid_grant: revoked or expired): log in "
                "again with `earthscope-async login` or `await client.login()`",
                error="invalid_grant",
            )
        asked_at = self._clock.now()  # the new token's lifetime starts after this (C21)
        async with self._oauth_http() as http:
            if self.settings.is_machine:  # C30: machines run the grant again, never refresh
                logger.debug("fetching a client-credentials token")
                new = await ClientCredentialsFlow(http, self.settings, clock=self._clock).login()
                new = new.replace(refresh_token=None)
            elif base is not None and base.refresh_token:
                # C37: the server may rotate the refresh token as soon as it has the request,
                # so the exchange and the save run to the end even if the caller is cancelled;
                # the exchange is bounded by token_request_timeout (one request, no retries).
                with anyio.CancelScope(shield=True):
                    new = await self._refresh_with(http, base, base.refresh_token)
                    await self._commit(new, fresh=True, asked_at=asked_at)
                return new
            else:
                raise LoginRequiredError(
                    "not logged in (no refresh token available): log in with "
                    "`earthscope-async login` or `await client.login()`"
                )
        with anyio.CancelScope(shield=True):
            await self._commit(new, fresh=True, asked_at=asked_at)
        return new

    async def _refresh_with(self, http: httpx.AsyncClient, base: Tokens, refresh: str) -> Tokens:
        logger.debug("refreshing (refresh token %s)", fingerprint(refresh))
        try:
            new = await refresh_tokens(http, self.settings, base, clock=self._clock)
        except LoginRequiredError:
            self._dead_refresh = refresh  # C38: final; never sent again
            await self._record_rejection(base)
            raise
        return new.rotated_from(base)

    async def _record_rejection(self, base: Tokens) -> None:
        """Save that ``base``'s refresh token is dead, so that later processes (and
        ``earthscope-async status``) know without asking the identity provider again.
        Called under the store lock; a failed save is only logged."""
        if base.access_token == _PLACEHOLDER:  # from settings, not from the store
            return
        marked = base.replace(refresh_rejected_at=self._clock.now())
        try:
            await self.store.save(marked)
        except TokenStoreError as exc:
            logger.warning("could not record the rejected refresh token (%s)", exc)
        self._adopt(marked)

    async def _commit(
        self, tokens: Tokens, *, fresh: bool = False, asked_at: datetime | None = None
    ) -> None:
        """Save durably, then hold (C34). A failed save keeps serving from memory.
        ``fresh``: the tokens were just issued (their time to live is their lifetime);
        ``asked_at``: when they were requested (their lifetime is counted from then)."""
        try:
            await self.store.save(tokens)
            self.last_save_error = None
        except TokenStoreError as exc:
            self.last_save_error = exc
            logger.warning(
                "could not save tokens (%s); using them from memory and retrying the save", exc
            )
            self._start_save_retries()
        self._adopt(tokens, fresh=fresh, asked_at=asked_at)
        self._loaded = True

    async def _save_pending(self) -> None:
        """Try again to save the held tokens (under the locks); quiet when it fails again."""
        tokens = self._tokens
        assert tokens is not None
        try:
            await self.store.save(tokens)
        except TokenStoreError as exc:
            self.last_save_error = exc
            return
        self.last_save_error = None
        logger.warning("saved the tokens that could not be saved before")

    async def _retry_save(self, *, final: bool = False) -> bool:
        """One attempt under every lock; True when nothing is pending any more."""
        async with self._all_locks():
            if self.last_save_error is None or self._tokens is None:
                return True
            with anyio.CancelScope(shield=True):
                await self._save_pending()
        if final and self.last_save_error is not None:
            logger.error(
                "the tokens could not be saved (%s); the login is lost with this process "
                "(log in again once the token store is writable)",
                self.last_save_error,
            )
        return self.last_save_error is None

    def _save_patience(self) -> float:
        return max(self.settings.token_request_timeout, 1.0)

    def _start_save_retries(self) -> None:
        """Keep retrying the save in the background loop until it works or we close."""
        with self._ahead_guard:
            if self._save_retry_running or self._ahead_closed:
                return
            self._save_retry_running = True
        try:
            self._loop_thread().portal().start_task_soon(self._save_retries)
        except (RuntimeError, ClientClosedError):
            with self._ahead_guard:
                self._save_retry_running = False

    async def _save_retries(self) -> None:
        delay = _SAVE_RETRY_FIRST
        try:
            while not self._ahead_closed:
                await anyio.sleep(delay)  # real time: paces I/O retries, not token expiry
                try:
                    if await self._retry_save():
                        return
                except TokenStoreError as exc:  # e.g. the lock timed out: try later
                    logger.debug("retrying the save failed: %s", exc)
                delay = min(delay * 2, _SAVE_RETRY_MAX)
        finally:
            with self._ahead_guard:
                self._save_retry_running = False

    def _adopt(
        self, tokens: Tokens | None, *, fresh: bool = False, asked_at: datetime | None = None
    ) -> None:
        self._tokens = tokens
        if tokens is None:
            self._fresh_until = _NEVER
            return
        ttl = tokens.ttl(now=self._clock.now())
        ahead = self.settings.refresh_ahead
        if ttl is None:
            self._fresh_until = self._ahead_at = math.inf
            return
        # The leeway is clamped by the token's lifetime, not by what is left of it: a
        # response read late (a starved machine) must not shrink the leeway it promises.
        lifetime = ttl.total_seconds() if fresh else None
        expires = tokens.effective_expires_at
        if asked_at is not None and expires is not None:
            lifetime = (expires - asked_at).total_seconds()
        left = ttl.total_seconds() - self._leeway(tokens, lifetime)
        self._fresh_until = self._clock.monotonic() + left
        with self._ahead_guard:
            if ahead > 0 and not self._ahead_closed:
                jitter = ahead * (0.5 + random.random() / 2)  # noqa: S311 - not cryptographic
                self._ahead_at = self._fresh_until - jitter
            else:
                self._ahead_at = math.inf

    async def _read_store(self) -> Tokens | None:
        tokens = await self.store.load()
        if tokens is None and self.settings.refresh_token and self._tokens is None:
            return _bootstrap(self.settings.refresh_token)
        return tokens

    @asynccontextmanager
    async def _oauth_http(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._http is not None:
            yield self._http
            return
        timeout = httpx.Timeout(self.settings.timeout_read, connect=self.settings.timeout_connect)
        async with httpx.AsyncClient(timeout=timeout) as http:
            yield http

    def _local_lock(self) -> anyio.Lock:
        try:
            locks = _LOOP_LOCKS.get()
        except LookupError:
            locks = WeakKeyDictionary()
            _LOOP_LOCKS.set(locks)
        lock = locks.get(self)
        if lock is None:
            lock = locks[self] = anyio.Lock()
        return lock

    @asynccontextmanager
    async def _process_locks(self) -> AsyncIterator[None]:
        """This event loop's lock, then the lock shared by every loop and thread."""
        async with self._local_lock():
            await _acquire_thread_lock(self._thread_lock)
            try:
                yield
            finally:
                self._thread_lock.release()

    @asynccontextmanager
    async def _all_locks(self) -> AsyncIterator[None]:
        """The process locks, then the store's cross-process lock."""
        async with self._process_locks(), self.store.lock():
            yield


async def _acquire_thread_lock(lock: threading.Lock) -> None:
    """Acquire a threading lock without blocking the event loop (cancellable)."""
    delay = 0.0005
    while not lock.acquire(blocking=False):
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.02)


def _bootstrap(refresh_token: str) -> Tokens:
    """Tokens holding only a refresh token (from settings): expired, so the first use refreshes."""
    from datetime import datetime, timezone

    return Tokens(
        access_token=_PLACEHOLDER,
        refresh_token=refresh_token,
        expires_at=datetime.fromtimestamp(0, timezone.utc),
    )
