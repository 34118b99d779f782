"""One HTTP/1.1 connection driven by h11: read requests, send (or sabotage) responses."""

from __future__ import annotations

import gzip
import socket
import struct
import time

import anyio
import h11
from anyio.abc import SocketAttribute, SocketStream

from ._app import App, Plan
from ._log import RecordedRequest
from ._response import Response

__all__ = ["serve_connection"]

_NET_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


def _kernel_outq(sock: socket.socket) -> int:
    """Bytes the kernel has not yet had acknowledged (Linux ``SIOCOUTQ``; 0 elsewhere)."""
    try:
        import fcntl
        import termios

        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        return int(struct.unpack("i", raw)[0])
    except (ImportError, OSError, AttributeError):
        return 0


class Connection:
    """Server side of one TCP connection."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.SERVER)

    async def _receive(self) -> bool:
        try:
            data = await self.stream.receive(65536)
        except anyio.EndOfStream:
            data = b""
        except _NET_ERRORS:
            return False
        self.h11.receive_data(data)
        return True

    async def read_request(self) -> RecordedRequest | None:
        """The next request, fully read; ``None`` when the client is gone or spoke nonsense."""
        head: h11.Request | None = None
        body = bytearray()
        started = 0.0
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError:
                await self._bad_request()
                return None
            if event is h11.NEED_DATA:
                if not await self._receive():
                    return None
            elif isinstance(event, h11.Request):
                head, started = event, time.monotonic()
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return _record(head, bytes(body), started)
            else:
                return None

    async def _write(self, data: bytes | None) -> None:
        if data:
            await self.stream.send(data)

    async def _bad_request(self) -> None:
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                response = h11.Response(status_code=400, headers=[("content-length", "0")])
                await self._write(self.h11.send(response))
            except (h11.LocalProtocolError, *_NET_ERRORS):
                pass
        await self.close_gracefully()

    async def send(self, plan: Plan, *, head_only: bool) -> bool:
        """Carry out ``plan``; ``True`` when the connection can serve another request."""
        response = plan.response
        if response is None or plan.action in ("drop", "drop_after_commit"):
            await self.reset()
            return False
        length = response.content_length
        skip = {"content-length", "transfer-encoding", "connection"}
        headers = [(k, v) for k, v in response.headers if k.lower() not in skip]
        body: list[bytes] | None = None
        if plan.action in ("gzip", "overlong"):
            body, headers = _rewrite(plan, response, length, headers)
        else:
            headers.append(("content-length", str(length)))
        head = self.h11.send(h11.Response(status_code=response.status, headers=headers))
        await self._write_slowly(head, plan.interval if plan.action == "drip_headers" else 0.0)
        half = plan.action in ("truncate", "reset_mid_body")
        budget = 0 if head_only else length // 2 if half else length
        drip = plan.interval if plan.action == "drip" else 0.0
        for chunk in body if body is not None and not head_only else response.chunks(budget):
            await self._write_slowly(self.h11.send(h11.Data(data=chunk)), drip)
        if plan.action == "truncate":
            await self.close_gracefully()
            return False
        if plan.action == "reset_mid_body":
            await self._flush()
            await self.reset()
            return False
        await self._write(self.h11.send(h11.EndOfMessage()))
        if self.h11.our_state is h11.MUST_CLOSE:
            await self.close_gracefully()
            return False
        self.h11.start_next_cycle()
        return True

    async def _write_slowly(self, data: bytes | None, interval: float) -> None:
        """Write ``data`` at once, or one byte every ``interval`` seconds."""
        if not interval or not data:
            await self._write(data)
            return
        for index in range(len(data)):
            await self._write(data[index : index + 1])
            await anyio.sleep(interval)

    async def _flush(self) -> None:
        """Wait (up to 2 s) until what was sent has reached the peer."""
        transport = getattr(self.stream, "_transport", None)
        sock = self.stream.extra(SocketAttribute.raw_socket)  # noqa: S610

        def unsent() -> int:
            buffered = transport.get_write_buffer_size() if transport is not None else 0
            return int(buffered) + _kernel_outq(sock)

        with anyio.move_on_after(2):
            while unsent():  # noqa: ASYNC110 - no event tells when the kernel got an ACK
                await anyio.sleep(0.001)

    async def reset(self) -> None:
        """Abort the connection with a TCP RST (``SO_LINGER`` 0)."""
        try:
            sock = self.stream.extra(SocketAttribute.raw_socket)  # noqa: S610
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        await self.aclose()

    async def close_gracefully(self) -> None:
        """Send FIN, let the client read what was sent and close its side, then close."""
        try:
            await self.stream.send_eof()
            with anyio.move_on_after(2):
                while True:
                    await self.stream.receive(65536)
        except (anyio.EndOfStream, *_NET_ERRORS):
            pass
        await self.aclose()

    async def aclose(self) -> None:
        """Close the socket, even when cancelled."""
        with anyio.CancelScope(shield=True):
            await self.stream.aclose()


def _rewrite(
    plan: Plan, response: Response, length: int, headers: list[tuple[str, str]]
) -> tuple[list[bytes], list[tuple[str, str]]]:
    """The body and headers of a ``gzip`` (compressed whatever was asked, with a matching
    Content-Length) or ``overlong`` (``extra`` more bytes than the body, no Content-Length:
    chunked) answer."""
    raw = b"".join(response.chunks(length))
    if plan.action == "gzip":
        packed = gzip.compress(raw, mtime=0)
        headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        headers += [("content-encoding", "gzip"), ("content-length", str(len(packed)))]
        return [packed], headers
    extra = plan.extra or max(len(raw), 1)
    padding = (raw or b"x") * (extra // max(len(raw), 1) + 1)
    return [raw, padding[:extra]], headers


def _record(head: h11.Request, body: bytes, started: float) -> RecordedRequest:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return RecordedRequest.build(
        method=head.method.decode("ascii", "replace"),
        target=head.target.decode("ascii", "replace"),
        headers=headers,
        body=body,
        started=started,
    )


async def serve_connection(stream: SocketStream, app: App) -> None:
    """Serve requests on ``stream`` until either side closes it."""
    connection = Connection(stream)
    try:
        while True:
            request = await connection.read_request()
            if request is None:
                break
            plan = await app.handle(request)
            if not await connection.send(plan, head_only=request.method == "HEAD"):
                break
    except _NET_ERRORS:
        pass
    finally:
        await connection.aclose()
