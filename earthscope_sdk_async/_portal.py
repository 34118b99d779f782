"""One event loop in one daemon thread, reached through an anyio blocking portal.

Sync code (the ``EarthScopeClient`` facade, ``EarthScopeAuth.sync_auth_flow``) runs the async
core here: never a new event loop per call, never ``nest_asyncio``. The thread is a daemon so
a client that is never closed does not keep the interpreter alive at exit, and the portal works
from any thread, including one whose own event loop is running (Jupyter).

A caller interrupted while it waits (Ctrl-C, i.e. ``KeyboardInterrupt``) cancels the coroutine
it was waiting for, so nothing keeps running behind its back.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from ._errors import ClientClosedError

__all__ = ["PortalThread"]

T = TypeVar("T")
P = ParamSpec("P")

_CLOSED = "this client is closed; create a new one"


class PortalThread:
    """A lazily started event loop thread; :meth:`call` runs a coroutine function on it."""

    def __init__(self, *, name: str = "earthscope-portal", backend: str = "asyncio") -> None:
        self._name = name
        self._backend = backend
        self._portal: BlockingPortal | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._guard = threading.Lock()

    @property
    def started(self) -> bool:
        """True while the loop thread runs."""
        return self._portal is not None

    @property
    def closed(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._closed

    def portal(self) -> BlockingPortal:
        """The running portal, started on first use; :class:`ClientClosedError` once stopped."""
        portal = self._portal
        if portal is not None:
            return portal
        with self._guard:
            if self._closed:
                raise ClientClosedError(_CLOSED)
            if self._portal is None:
                self._start()
            assert self._portal is not None
            return self._portal

    def call(self, func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``await func(*args, **kwargs)`` on the loop thread and return its result.

        If the waiting thread is interrupted (``KeyboardInterrupt`` or any other exception
        raised while it waits), the coroutine is cancelled and the exception re-raised.
        Raises :class:`ClientClosedError` after :meth:`stop` (also for a call that
        :meth:`stop` cancelled), and ``RuntimeError`` when called from the loop thread
        itself (that would deadlock).
        """
        portal = self.portal()
        if threading.current_thread() is self._thread:
            raise RuntimeError("a sync EarthScope call cannot run inside the SDK's own event loop")
        try:
            future = portal.start_task_soon(functools.partial(func, *args, **kwargs))
        except RuntimeError:
            if self._closed:  # stop() won the race against this call
                raise ClientClosedError(_CLOSED) from None
            raise
        return self._wait(future)

    def _wait(self, future: concurrent.futures.Future[T]) -> T:
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            if self._closed:
                raise ClientClosedError(
                    "the client was closed while this call was running"
                ) from None
            raise
        except BaseException:
            future.cancel()  # a no-op when the call itself raised; cancels it when interrupted
            raise

    def _start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            async with BlockingPortal() as portal:
                self._portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(main, backend=self._backend)
            except BaseException as exc:  # pragma: no cover - reported to the starter
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:  # pragma: no cover
            raise RuntimeError("could not start the SDK's event loop thread") from failure[0]

    def stop(self) -> None:
        """Stop the loop and join its thread; idempotent. Later calls raise ClientClosedError.

        Calls still running are cancelled (their callers get :class:`ClientClosedError`).
        """
        with self._guard:
            self._closed = True
            portal, thread = self._portal, self._thread
            self._portal = None
        if portal is not None and thread is not None and thread is not threading.current_thread():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                portal.call(portal.stop, True)
            thread.join()
