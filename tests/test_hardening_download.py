"""Issue 14, cases 2 and 6: downloads never write outside ``dest`` and always end.

A ``.part`` planted as a link (symbolic or hard) to a file outside ``dest`` is never written
through, and the final file is never a link; a trickling body or trickling headers stall
(retried, then a typed failure) instead of running forever; a gzip body sent although
identity was asked for is saved as sent (never expanded); a body longer than announced
fails without anything past the announced end being written.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import cast

import anyio
import pytest

from earthscope_sdk_async import ConfigError, MemoryTokenStore, TransportError
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._retry import RetryPolicy
from earthscope_sdk_async.testing import FakeEarthScope

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
BODY = bytes(range(256)) * 64  # 16 KiB
POSIX = pytest.mark.skipif(os.name == "nt", reason="POSIX links")
PATIENCE = 120  # the tests' own bound, far beyond every stall used here


def client(fake: FakeEarthScope) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(
        fake.settings(), store=MemoryTokenStore(fake.issue_tokens()), retry=FAST
    )


@POSIX
async def test_case2_symlinked_part_is_never_written_through(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    url = fake_earthscope.add_file("a.bin", BODY)
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"precious")
    (dest / "a.bin.part").symlink_to(Path("..") / "outside" / "victim.txt")
    async with client(fake_earthscope) as es:
        report = await es.download([url], dest)
    assert victim.read_bytes() == b"precious"
    final = dest / "a.bin"
    assert not final.is_symlink() and final.read_bytes() == BODY
    assert report[0].status == "downloaded"


@POSIX
async def test_case2_hard_linked_part_is_never_appended_to(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    url = fake_earthscope.add_file("a.bin", BODY)
    dest = tmp_path / "dest"
    dest.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(BODY[:100])  # looks like a resumable prefix
    os.link(victim, dest / "a.bin.part")
    async with client(fake_earthscope) as es:
        report = await es.download([url], dest)
    assert victim.read_bytes() == BODY[:100]
    assert report[0].status == "downloaded"
    final = dest / "a.bin"
    assert final.read_bytes() == BODY and final.stat().st_nlink == 1


@pytest.mark.usefixtures("http_backend")
@pytest.mark.parametrize("action", ["drip", "drip_headers"])
async def test_case6_trickling_download_stalls_then_fails_typed(
    fake_earthscope: FakeEarthScope, tmp_path: Path, action: str
) -> None:
    url = fake_earthscope.add_file("slow.bin", BODY)
    fake_earthscope.add_fault("files", action=action, interval=1.0, times=10)  # type: ignore[arg-type]
    async with client(fake_earthscope) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=1, retries=2)
    [result] = report
    assert result.status == "failed"
    assert isinstance(result.error, TransportError) and "stalled" in str(result.error)
    assert not (tmp_path / "slow.bin").exists()


@pytest.mark.usefixtures("http_backend")
async def test_case6_a_stall_is_retried(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    url = fake_earthscope.add_file("slow.bin", BODY)
    fake_earthscope.add_fault("files", action="drip", interval=1.0)
    async with client(fake_earthscope) as es:
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path, stall_timeout=1, retries=2)
    assert report[0].status == "downloaded"
    assert (tmp_path / "slow.bin").read_bytes() == BODY


async def test_stall_timeout_is_validated(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    async with client(fake_earthscope) as es:
        with pytest.raises(ConfigError, match="stall_timeout"):
            await es.download([], tmp_path, stall_timeout=0)


async def test_case6_gzip_despite_identity_is_saved_as_sent(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    big = b"\0" * 4_000_000  # compresses ~1000:1
    url = fake_earthscope.add_file("zeros.bin", big)
    fake_earthscope.add_fault("files", action="gzip")
    async with client(fake_earthscope) as es:
        report = await es.download([url], tmp_path)
    saved = (tmp_path / "zeros.bin").read_bytes()
    assert report[0].status == "downloaded"
    assert len(saved) < len(big) // 100  # never expanded
    assert gzip.decompress(saved) == big  # the server's bytes, exactly


async def test_case6_gzip_with_a_checksum_fails_typed(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    import hashlib

    url = fake_earthscope.add_file("zeros.bin", b"\0" * 100_000)
    digest = hashlib.sha256(b"\0" * 100_000).hexdigest()
    fake_earthscope.add_fault("files", action="gzip", times=10)
    async with client(fake_earthscope) as es:
        report = await es.download([url], tmp_path, checksum={url: digest})
    assert report[0].status == "failed" and "checksum mismatch" in str(report[0].error)
    assert not (tmp_path / "zeros.bin").exists()


async def test_case6_body_longer_than_announced_fails_without_writing_it(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """A resumed (206) body longer than its Content-Range announces: nothing past it."""
    url = fake_earthscope.add_file("a.bin", BODY)
    part = tmp_path / "a.bin.part"
    fake_earthscope.add_fault("files", action="reset_mid_body")
    async with client(fake_earthscope) as es:
        first = await es.download([url], tmp_path, retries=1)  # leaves a resumable .part
        assert first[0].status == "failed" and 0 < part.stat().st_size < len(BODY)
        fake_earthscope.add_fault("files", action="overlong", extra=10_000_000, times=10)
        with anyio.fail_after(PATIENCE):
            report = await es.download([url], tmp_path)
    ranged = [r for r in fake_earthscope.requests if r.method == "GET" and "range" in r.headers]
    assert ranged  # the second run resumed: the answer was a 206 announcing the rest
    assert report[0].status == "failed"
    assert "longer than" in str(report[0].error)
    assert not (tmp_path / "a.bin").exists()
    assert not part.exists() or part.stat().st_size <= len(BODY)


@pytest.mark.parametrize("value", ["²", "١٢", "+5", " 5", "5.0", "0x10"])
def test_a_content_length_of_other_than_ascii_digits_counts_as_unknown(value: str) -> None:
    import httpx

    from earthscope_sdk_async._clock import SystemClock
    from earthscope_sdk_async._download._checksum import Checksums
    from earthscope_sdk_async._download._file import FileDownload, FileJob, _Head
    from earthscope_sdk_async._retry import SharedPause

    clock = SystemClock()
    job = FileJob(
        cast(httpx.AsyncClient, None),  # (no request is made)
        RetryPolicy(),
        1,
        SharedPause(clock),
        clock,
        lambda _count: None,
        Checksums(None, "sha256"),
    )
    download = FileDownload(job, "https://example.com/f.bin", Path("f.bin"))
    headers = httpx.Headers([(b"Content-Length", value.encode("utf-8"))])
    # (h11 and aiohttp refuse such a header first; a transport that passed it through
    # must not crash the download with a bare ValueError from int())
    assert download.expected_length(200, _Head(headers.raw)) is None
