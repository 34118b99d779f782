"""How long a download attempt may wait (``_download/_bounds``), on both HTTP backends.

On aiohttp (asyncio) a download's stall bound and the client's read timeout are one moving
deadline of the pool (``Watch``); aiohttp's own per-read timer is off. On httpcore the
stall bound is a cancel scope and the read timeout httpx's. Either way: a body that stops
arriving for ``timeout_read`` seconds, or answer headers that stop arriving, fail the
attempt with the same words; the bytes that arrived are kept and the retry resumes after
them; a trickle fails as stalled; and an answer that never stops is not cut short.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import anyio
import pytest

from earthscope_sdk_async import MemoryTokenStore, TransportError
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._download._sink import BodySink
from earthscope_sdk_async._retry import RetryPolicy
from earthscope_sdk_async.testing import FakeEarthScope

pytestmark = pytest.mark.usefixtures("http_backend")

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
BODY = bytes(range(256)) * 64  # 16 KiB
PATIENCE = 120  # the tests' own bound, far beyond every timeout used here
SILENCE = 60.0  # the server's pause: far beyond the read timeout below
READ = 2.0
STALL = 1.5  # the slow-write test's stall bound


def client(fake: FakeEarthScope, **settings: float) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(
        fake.settings(**settings), store=MemoryTokenStore(fake.issue_tokens()), retry=FAST
    )


@pytest.mark.parametrize("action", ["drip", "drip_headers"])
async def test_silence_is_a_read_timeout_and_the_retry_completes(
    fake_earthscope: FakeEarthScope, tmp_path: Path, action: str
) -> None:
    # one byte (of the body, or of the headers), then silence: the read timeout ends the
    # attempt although no stall bound is set, and the second attempt gets the file
    url = fake_earthscope.add_file("quiet.bin", BODY)
    fake_earthscope.add_fault("files", action=action, interval=SILENCE)  # type: ignore[arg-type]
    async with client(fake_earthscope, timeout_read=READ) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=None, retries=2)
    assert report[0].status == "downloaded"
    assert (tmp_path / "quiet.bin").read_bytes() == BODY
    assert fake_earthscope.count("files") == 2


async def test_read_timeout_mid_body_keeps_the_bytes_for_the_next_run(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    url = fake_earthscope.add_file("quiet.bin", BODY)
    fake_earthscope.add_fault("files", action="drip", interval=SILENCE)
    async with client(fake_earthscope, timeout_read=READ) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=None, retries=1)
        [result] = report
        assert result.status == "failed"
        assert isinstance(result.error, TransportError)
        assert "timed out waiting for the answer" in str(result.error)
        part = tmp_path / "quiet.bin.part"
        assert part.read_bytes() == BODY[:1]  # what arrived is kept
        with anyio.fail_after(PATIENCE):
            again = await es.download([url], tmp_path, retries=1)
    assert again[0].status == "downloaded"
    assert (tmp_path / "quiet.bin").read_bytes() == BODY
    assert not part.exists()
    resumed = [r for r in fake_earthscope.requests if r.endpoint == "files"][-1]
    assert resumed.headers.get("range") == "bytes=1-"


async def test_a_trickle_is_stalled_though_each_read_is_in_time(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    # a byte every 0.2 s never trips the read timeout, but is far below STALL_BYTES a second
    url = fake_earthscope.add_file("slow.bin", BODY)
    fake_earthscope.add_fault("files", action="drip", interval=0.2, times=5)
    async with client(fake_earthscope, timeout_read=30.0) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=1, retries=1)
    [result] = report
    assert result.status == "failed"
    assert isinstance(result.error, TransportError) and "stalled" in str(result.error)
    assert "timed out" not in str(result.error)


async def test_steady_answer_outlives_the_read_timeout(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    # an answer that keeps coming for longer than the read timeout is never cut: the read
    # timeout counts from the last byte, not from the start (each gap here is 1/60 of it)
    body = b"0123456789" * 8  # a byte every 0.05 s: ~4 s in all
    url = fake_earthscope.add_file("steady.bin", body)
    fake_earthscope.add_fault("files", action="drip", interval=0.05)
    async with client(fake_earthscope, timeout_read=3.0) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=None, retries=1)
    assert report[0].status == "downloaded", report[0].error
    assert (tmp_path / "steady.bin").read_bytes() == body


async def test_expiry_during_a_slow_write_lets_the_write_finish(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    http_backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the stall bound passes while a batch of the body is being written (hashing: by a
    # worker thread, shielded): the write completes, the attempt then fails as stalled,
    # and the retry resumes after every byte written
    body = os.urandom(3 * 1024 * 1024)
    url = fake_earthscope.add_file("big.bin", body)
    expired = threading.Event()
    blocked: list[int] = []
    write = BodySink._write

    def slow_write(self: BodySink, pieces: list[bytes]) -> None:
        if not blocked:
            blocked.append(sum(map(len, pieces)))
            # aiohttp: until the watch closes the response; httpcore: past the cancel
            # scope's deadline (delivered at the next read, after the shielded write)
            expired.wait(PATIENCE if http_backend == "aiohttp" else 3 * STALL)
        write(self, pieces)

    monkeypatch.setattr(BodySink, "_write", slow_write)
    if http_backend == "aiohttp":
        from earthscope_sdk_async._http._aiohttp_transport import _Body

        abort = _Body.abort

        def aborted(self: _Body) -> None:
            expired.set()
            abort(self)

        monkeypatch.setattr(_Body, "abort", aborted)
    digest = hashlib.sha256(body).hexdigest()
    async with client(fake_earthscope) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download(
                [url], tmp_path, stall_timeout=STALL, retries=2, checksum={url: digest}
            )
    assert report[0].status == "downloaded", report[0].error
    assert (tmp_path / "big.bin").read_bytes() == body
    assert fake_earthscope.count("files") == 2
    resumed = [r for r in fake_earthscope.requests if r.endpoint == "files"][-1]
    assert resumed.headers.get("range") == f"bytes={blocked[0]}-"
