"""A real redis-server for the Redis tests (not collected by pytest).

``ES_TEST_REDIS_URL`` (set by ``.ci/run``) names a running server; otherwise the tests start
their own ``redis-server`` (from PATH) on a free port in a temp dir, without persistence.
Without either, the tests skip, except under ``CI=true`` where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read at import (collection) time: the autouse fixture of conftest.py clears ES_* variables.
REDIS_URL_ENV = "ES_TEST_REDIS_URL"
_GIVEN_URL = os.environ.get(REDIS_URL_ENV) or None


def unavailable(reason: str, *, module: bool = False) -> None:
    """Skip (on a developer machine) or fail (in CI) for lack of Redis."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but Redis is unavailable: {reason}", pytrace=False)
    pytest.skip(f"Redis unavailable: {reason}", allow_module_level=module)


def require_client(*, module: bool = False) -> None:
    """Skip/fail unless redis-py and cryptography are installed."""
    for name in ("redis", "cryptography"):
        try:
            __import__(name)
        except ImportError:
            unavailable(
                f"the {name} package is not installed "
                "(pip install 'earthscope-sdk-async[redis-encrypted]')",
                module=module,
            )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server process on 127.0.0.1 in ``directory``; restartable on the same port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--dir", str(self.directory), "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _ping(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.01)

    def shutdown(self, *, save: bool) -> None:
        """Stop the server; with ``save``, write dump.rdb first (a persistent restart)."""
        if self.proc is None:
            return
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(b"SHUTDOWN SAVE\r\n" if save else b"SHUTDOWN NOSAVE\r\n")
                sock.recv(64)
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def redis_binary() -> str:
    """The redis-server executable; skips/fails when there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable(f"{REDIS_URL_ENV} is unset and redis-server is not on PATH")
    assert binary is not None
    return binary


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis server for the whole session (given by CI, or started here)."""
    require_client()
    if _GIVEN_URL is not None:
        yield _GIVEN_URL
        return
    with tempfile.TemporaryDirectory(prefix="es-redis-") as directory:
        server = RedisServer(redis_binary(), Path(directory))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server this test may stop and restart."""
    require_client()
    server = RedisServer(redis_binary(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_key() -> str:
    """A key no other test uses."""
    return f"es-test:{uuid.uuid4().hex}"
