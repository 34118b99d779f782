"""The socket loop's home: an asyncio event loop in a daemon thread, started and stopped sync.

Running the server in its own thread and loop makes it independent of its callers: they may
be asyncio or trio code, plain sync code, or code that blocks its thread (a sync facade).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

import anyio
from anyio.abc import SocketAttribute, SocketStream

from ._app import App
from ._connection import serve_connection

__all__ = ["HttpServer"]

logger = logging.getLogger(__name__)


class HttpServer:
    """An h11 server on anyio sockets, in a background daemon thread."""

    def __init__(self, app: App, *, host: str, port: int, backlog: int = 65536) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.backlog = backlog
        self.port = 0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._cancel: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def start(self, timeout: float = 10.0) -> None:
        """Bind and start serving; returns once the socket listens."""
        if self._thread is not None:
            return
        self._ready.clear()
        self._error = None
        thread = threading.Thread(target=self._run, name="fake-earthscope", daemon=True)
        thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            error = self._error
            self.stop(timeout)
            raise RuntimeError(f"the fake EarthScope server did not start: {error!r}") from error
        self._thread = thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread (idempotent)."""
        thread, cancel = self._thread, self._cancel
        self._thread = self._cancel = None
        if cancel is not None:
            cancel()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        try:
            anyio.run(self._main, backend="asyncio")
        except BaseException as exc:  # reported to start(), which raises it
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        listener = await anyio.create_tcp_listener(
            local_host=self.host, local_port=self.requested_port, backlog=self.backlog
        )
        self.port = listener.extra(SocketAttribute.local_port)  # noqa: S610
        loop = asyncio.get_running_loop()
        async with listener, anyio.create_task_group() as handlers:
            with anyio.CancelScope() as accepting:

                def stop_serving() -> None:
                    # Stop accepting first; cancel the handlers one loop turn later, so that
                    # a connection accepted just before has entered its handler (and will
                    # close its socket) instead of being dropped unclosed.
                    accepting.cancel()
                    loop.call_soon(handlers.cancel_scope.cancel)

                def cancel() -> None:
                    with contextlib.suppress(RuntimeError):  # the loop is already closed
                        loop.call_soon_threadsafe(stop_serving)

                self._cancel = cancel
                self._ready.set()
                await listener.serve(self._connection, task_group=handlers)

    async def _connection(self, stream: SocketStream) -> None:
        async with stream:  # closed whatever happens, cancellation included
            try:
                await serve_connection(stream, self.app)
            except Exception:
                logger.exception("fake EarthScope connection failed")
