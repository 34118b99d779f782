"""A small HTTP/1.1 server in a thread, for tests of how requests are sent: it echoes what
it received, redirects, sets cookies and answers gzip, on any address (127.0.0.1 and
127.0.0.2 make two origins). Independent of the fake EarthScope and of both HTTP backends.

Paths: ``/echo`` (JSON: method, target, lower-case headers, body),
``/redirect?code=N&to=URL``, ``/loop`` (redirects to itself), ``/file?size=N`` (N bytes),
``/setcookie``
(``Set-Cookie: session=abc``), ``/gzip`` (a gzip-encoded JSON document).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append(self.path)
            self.server.auth.append(self.headers.get("Authorization"))
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        if split.path == "/echo":
            echo = {
                "method": self.command,
                "target": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8"),
            }
            self._answer(200, json.dumps(echo).encode(), {"Content-Type": "application/json"})
        elif split.path == "/redirect":
            location = query["to"][0]
            self._answer(int(query["code"][0]), b"", {"Location": location})
        elif split.path == "/file":
            size = int(query["size"][0])
            self._answer(200, b"x" * size, {"Content-Type": "application/octet-stream"})
        elif split.path == "/loop":
            self._answer(302, b"", {"Location": "/loop"})
        elif split.path == "/setcookie":
            self._answer(200, b"{}", {"Set-Cookie": "session=abc; Path=/"})
        elif split.path == "/gzip":
            packed = gzip.compress(json.dumps({"packed": True}).encode())
            self._answer(200, packed, {"Content-Encoding": "gzip"})
        else:
            self._answer(404, b'{"detail": "no such path"}', {"Content-Type": "application/json"})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[str] = []
        self.auth: list[str | None] = []


class EchoServer:
    """A running server: ``url`` (ends with ``/``) and the request targets ``seen``."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}/"

    @property
    def seen(self) -> list[str]:
        """The request targets received, in order."""
        with self._server.lock:
            return list(self._server.seen)

    @property
    def auth(self) -> list[str | None]:
        """The ``Authorization`` header of each request received (``None``: none), in order."""
        with self._server.lock:
            return list(self._server.auth)


@contextmanager
def echo_server(host: str = "127.0.0.1") -> Iterator[EchoServer]:
    """Serve on ``host`` (a free port) until the block ends."""
    server = _Server(host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield EchoServer(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
