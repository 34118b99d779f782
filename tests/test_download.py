"""AsyncEarthScopeClient.download / EarthScopeClient.download against the fake server:
concurrency, retries (shared 429 pause), resume, skip, atomic rename, path safety, progress."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from _helpers import FAST, make_client

from earthscope_sdk_async import ApiError, ConfigError, MemoryTokenStore
from earthscope_sdk_async._client._sync_client import EarthScopeClient
from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async._download import (
    DownloadProgress,
    DownloadReport,
    DownloadResult,
)
from earthscope_sdk_async._errors import DownloadError, TransportError
from earthscope_sdk_async.testing import FakeEarthScope

pytestmark = pytest.mark.usefixtures("http_backend")  # httpcore, and aiohttp on asyncio


def listing(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def file_requests(fake: FakeEarthScope, name: str) -> list[object]:
    return [r for r in fake.requests if r.endpoint == "files" and r.path.endswith("/" + name)]


async def test_many_files_concurrently(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    fake.latency = 0.005
    names = [f"d{i % 3}/f{i:03d}.bin" for i in range(300)]
    for i, name in enumerate(names):
        fake.add_file(name, size=(i * 7919) % 40_000)
    items = [(fake.file_url(n), n) for n in names]
    async with make_client(fake) as client:
        report = await client.download(items, tmp_path, concurrency=32)
    assert report.ok and len(report.downloaded) == 300 and len(report) == 300
    assert [r.path for r in report] == [tmp_path / n for n in names]  # input order
    assert listing(tmp_path) == set(names)  # no .part or sidecar left
    for name in names:
        assert (tmp_path / name).read_bytes() == fake.file_bytes(name)
    assert report.total_bytes == sum(len(fake.file_bytes(n)) for n in names)


async def test_plain_url_saved_under_decoded_last_segment(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake_earthscope.add_file("dir/my file.txt", b"hello")
    url = fake_earthscope.url + "files/dir/my%20file.txt"
    async with make_client(fake_earthscope) as client:
        report = await client.download([url + "?sig=abc"], tmp_path)
    assert report.ok, report[0].error
    assert (tmp_path / "my file.txt").read_bytes() == b"hello"


async def test_500s_and_resets_are_retried(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    names = [f"f{i}.bin" for i in range(20)]
    urls = [fake.add_file(n, size=300_000) for n in names]
    fake.add_fault("files", status=500, times=5)
    fake.add_fault("files", action="reset_mid_body", times=5)
    async with make_client(fake) as client:
        report = await client.download(urls, tmp_path, concurrency=8)
    assert report.ok, report.failed
    assert fake.pending_faults == 0
    assert fake.count("files") >= 30
    for name in names:
        assert (tmp_path / name).read_bytes() == fake.file_bytes(name)
    assert listing(tmp_path) == set(names)


async def test_429_pauses_the_whole_batch(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    fake.latency = 0.005
    names = [f"f{i:02d}.bin" for i in range(40)]
    urls = [fake.add_file(n, size=1000) for n in names]
    fake.add_fault(
        "files",
        status=429,
        headers={"Retry-After": "2"},
        match=lambda r: r.path.endswith("f00.bin"),
    )
    async with make_client(fake, clock=ScaledClock(0.1)) as client:  # 2 s -> 0.2 s
        report = await client.download(urls, tmp_path, concurrency=8)
    assert report.ok
    first = file_requests(fake, "f00.bin")
    assert len(first) == 2
    t0 = first[0].started  # type: ignore[attr-defined]
    assert first[1].started - t0 >= 0.18  # type: ignore[attr-defined]
    starts = [r.started for r in fake.requests if r.endpoint == "files"]
    assert not [s for s in starts if t0 + 0.06 < s < t0 + 0.18]  # everyone paused
    assert len([s for s in starts if s >= t0 + 0.18]) >= 20  # and most ran afterwards


async def test_truncated_body_fails_after_retries(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("t.bin", size=100_000)
    ok = fake.add_file("ok.bin", b"fine")
    fake.add_fault("files", action="truncate", times=100, match=lambda r: "t.bin" in r.path)
    async with make_client(fake) as client:
        report = await client.download([url, ok], tmp_path, retries=3)
    assert [r.status for r in report] == ["failed", "downloaded"]
    assert isinstance(report[0].error, TransportError)
    assert "3 attempts" in str(report[0].error)
    assert len(file_requests(fake, "t.bin")) == 3
    assert not (tmp_path / "t.bin").exists()
    assert (tmp_path / "ok.bin").read_bytes() == b"fine"
    with pytest.raises(DownloadError) as info:
        report.raise_for_failures()
    assert "1 of 2 downloads failed" in str(info.value)
    assert info.value.failures[0][0] == url


async def test_resume_from_part_file(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    url = fake.add_file("r.bin", size=200_000)
    (tmp_path / "r.bin.part").write_bytes(fake.file_bytes("r.bin", 0, 80_000))
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == 120_000
    gets = [r for r in file_requests(fake, "r.bin") if r.method == "GET"]  # type: ignore[attr-defined]
    assert len(gets) == 1
    assert gets[0].headers["range"] == "bytes=80000-"  # type: ignore[attr-defined]
    assert gets[0].headers["if-range"].startswith('"')  # type: ignore[attr-defined]
    assert (tmp_path / "r.bin").read_bytes() == fake.file_bytes("r.bin")
    assert listing(tmp_path) == {"r.bin"}


async def test_complete_part_file_416_is_finished(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("c.bin", size=5000)
    (tmp_path / "c.bin.part").write_bytes(fake.file_bytes("c.bin"))
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == 0
    assert (tmp_path / "c.bin").read_bytes() == fake.file_bytes("c.bin")
    assert listing(tmp_path) == {"c.bin"}


async def test_server_without_ranges_restarts(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("n.bin", size=200_000, accept_ranges=False)
    (tmp_path / "n.bin.part").write_bytes(b"x" * 80_000)
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == 200_000
    assert (tmp_path / "n.bin").read_bytes() == fake.file_bytes("n.bin")
    assert all("range" not in r.headers for r in file_requests(fake, "n.bin"))  # type: ignore[attr-defined]


async def test_changed_file_restarts_from_zero(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """The server ignores a Range whose If-Range no longer matches: 200, start over."""
    fake = fake_earthscope
    url = fake.add_file("v.bin", size=50_000)
    fake.add_fault("files", action="reset_mid_body", times=1)
    fake.add_fault(
        "files", action="pass", match=lambda r: fake.add_file("v.bin", size=60_000) == ""
    )
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok
    assert (tmp_path / "v.bin").read_bytes() == fake.file_bytes("v.bin")
    assert len(fake.file_bytes("v.bin")) == 60_000


async def test_skip_existing_and_overwrite(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    url = fake.add_file("s.bin", b"new content")
    (tmp_path / "s.bin").write_bytes(b"old")
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
        assert [r.status for r in report] == ["skipped"] and report[0].bytes == 3
        assert fake.count("files") == 0
        assert (tmp_path / "s.bin").read_bytes() == b"old"
        report = await client.download([url], tmp_path, overwrite=True)
    assert [r.status for r in report] == ["downloaded"]
    assert (tmp_path / "s.bin").read_bytes() == b"new content"
    assert fake.count("files") == 1


async def test_cancellation_leaves_only_part_files(
    fake_earthscope: FakeEarthScope, tmp_path: Path, http_backend: str
) -> None:
    fake = fake_earthscope
    names = [f"big{i}.bin" for i in range(16)]
    urls = [fake.add_file(n, size=1_500_000) for n in names]
    with anyio.CancelScope() as scope:

        def cancel(progress: DownloadProgress) -> None:
            if progress.bytes_done > 0:
                scope.cancel()

        async with make_client(fake) as client:
            await client.download(urls, tmp_path, concurrency=8, progress=cancel)
        pytest.fail("the download should have been cancelled")
    files = listing(tmp_path)
    parts = {f for f in files if f.endswith(".part")}
    if http_backend == "httpcore":
        assert parts  # cancelled mid-body
    # aiohttp hands over a body it has already buffered without suspending, so the files in
    # flight may all complete before the cancel lands; the batch still stops there
    assert len(files - parts) < len(names)
    for name in files - parts:
        assert (tmp_path / name).read_bytes() == fake.file_bytes(name)  # never truncated


async def test_path_traversal_rejected(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    url = fake.add_file("x", b"evil")
    dest = tmp_path / "dest"
    items: list[object] = [
        (url, "../x"),
        (url, "/tmp/abs-x"),
        (url, "a/../../x"),
        (url, ""),
        (url, "C:\\x"),
        fake.url + "files/..%2Fx",
        fake.url + "files/",
        42,
        (url, "ok/x"),
    ]
    async with make_client(fake) as client:
        report = await client.download(items, dest)  # type: ignore[arg-type]
    assert [r.status for r in report] == ["failed"] * 8 + ["downloaded"]
    assert all(isinstance(r.error, DownloadError) for r in report.failed)
    assert "'..'" in str(report[0].error) and "absolute" in str(report[1].error)
    assert listing(tmp_path) == {"dest/ok/x"}
    assert fake.count("files") == 1


@pytest.mark.parametrize(("kind", "concurrency"), [("async", 2), ("sync", 3)])
async def test_the_input_is_consumed_lazily(
    fake_earthscope: FakeEarthScope, tmp_path: Path, kind: str, concurrency: int
) -> None:
    fake = fake_earthscope
    fake.latency = 0.002
    urls = [fake.add_file(f"{kind}{i:02d}.bin", size=100) for i in range(30)]
    lag: list[int] = []

    def plain() -> Iterator[str]:
        for i, url in enumerate(urls):
            lag.append(i - fake.count("files"))
            yield url

    async def from_async() -> AsyncIterator[str]:
        for url in plain():
            yield url

    source = plain() if kind == "sync" else from_async()
    async with make_client(fake) as client:
        report = await client.download(source, tmp_path, concurrency=concurrency)
    assert report.ok and len(report) == 30
    assert [r.url for r in report] == urls
    # one item per worker, + the one being read: never all 30
    assert max(lag) <= concurrency + 1


class SourceBroke(Exception):
    pass


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_failing_source_stops_the_batch_and_reraises(
    fake_earthscope: FakeEarthScope, tmp_path: Path, kind: str
) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"s{i}.bin", size=50_000) for i in range(3)]
    later = fake.add_file("later.bin", size=10)

    def plain() -> Iterator[str]:
        yield from urls
        raise SourceBroke("the listing failed")
        yield later  # never reached

    async def from_async() -> AsyncIterator[str]:
        for url in plain():
            yield url

    source = plain() if kind == "sync" else from_async()
    async with make_client(fake) as client:
        with pytest.raises(SourceBroke, match="the listing failed"):  # itself, not a group
            await client.download(source, tmp_path / "dest", concurrency=2)
    for path in (
        tmp_path / "dest"
    ).iterdir():  # what was saved is complete; nothing after the error
        assert path.name.endswith(".part") or path.read_bytes() == fake.file_bytes(path.name)
    assert not file_requests(fake, "later.bin")


async def test_skipping_many_existing_files_lets_other_tasks_run(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    names = [f"e{i:04d}.bin" for i in range(600)]
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in names:
        (dest / name).write_bytes(b"already here")
    ticks = 0
    seen: list[int] = []  # the other task's ticks when the batch read its first and last item

    def source() -> Iterator[str]:
        seen.append(ticks)
        for name in names:
            yield fake.url + "files/" + name
        seen.append(ticks)

    async def other_task() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with make_client(fake) as client, anyio.create_task_group() as group:
        group.start_soon(other_task)
        report = await client.download(source(), dest, concurrency=4)
        group.cancel_scope.cancel()
    assert len(report.skipped) == 600 and fake.count("files") == 0
    assert seen[1] - seen[0] >= 100  # the event loop was never held for the whole batch


async def test_progress_final_call(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"p{i}.bin", size=10_000 + i) for i in range(25)]
    calls: list[DownloadProgress] = []
    async with make_client(fake) as client:
        report = await client.download(iter(urls), tmp_path, progress=calls.append)
    final = calls[-1]
    total = sum(10_000 + i for i in range(25))
    assert (final.bytes_done, final.bytes_total) == (total, total) == (report.total_bytes, total)
    assert (final.files_done, final.files_total) == (25, 25)
    assert final.rate_bytes_per_s > 0
    assert all(c.files_total is None for c in calls[:-1])  # an iterator has no length
    assert len(calls) < 25  # throttled


async def test_404_fails_without_retry(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    async with make_client(fake_earthscope) as client:
        report = await client.download([fake_earthscope.url + "files/missing.bin"], tmp_path)
    assert [r.status for r in report] == ["failed"]
    error = report[0].error
    assert isinstance(error, ApiError) and error.status_code == 404
    assert fake_earthscope.count("files") == 1
    assert listing(tmp_path) == set()


async def test_invalid_options(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    async with make_client(fake_earthscope) as client:
        for bad in ({"concurrency": 0}, {"retries": 0}, {"per_file_timeout": -1.0}):
            with pytest.raises(ConfigError):
                await client.download([], tmp_path, **bad)  # type: ignore[arg-type]
        report = await client.download([], tmp_path / "new")
    assert len(report) == 0 and report.ok and (tmp_path / "new").is_dir()


async def test_per_file_timeout(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    url = fake.add_file("slow.bin", b"z")
    fake.add_fault("files", action="pass", delay=5.0)
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, per_file_timeout=0.2)
    assert isinstance(report[0].error, TransportError)
    assert "per_file_timeout" in str(report[0].error)
    assert not (tmp_path / "slow.bin").exists()


def test_report_summaries() -> None:
    err = DownloadError("boom")
    report = DownloadReport(
        [
            DownloadResult("u1", Path("a"), "downloaded", 5),
            DownloadResult("u2", Path("b"), "skipped", 7),
            DownloadResult("u3", None, "failed", error=err),
        ]
    )
    assert (len(report.downloaded), len(report.skipped), len(report.failed)) == (1, 1, 1)
    assert report.total_bytes == 5 and not report.ok
    assert "failed=1" in repr(report)
    DownloadReport([DownloadResult("u1", Path("a"), "downloaded", 5)]).raise_for_failures()


def test_sync_client_download(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"s{i}.bin", size=2000 + i) for i in range(10)]
    store = MemoryTokenStore(fake.issue_tokens())
    with EarthScopeClient(fake.settings(), store=store, retry=FAST) as client:
        report = client.download(urls, os.fspath(tmp_path), concurrency=4)
    assert isinstance(report, DownloadReport) and report.ok
    for i in range(10):
        assert (tmp_path / f"s{i}.bin").read_bytes() == fake.file_bytes(f"s{i}.bin")
