"""The batch's small-file writes (``_download._disk.Disk``): from the event loop while the
file system is fast, in one writer thread once it is slow (timings injected: no test here
depends on the machine's speed)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
from _helpers import make_client

from earthscope_sdk_async._download import _disk
from earthscope_sdk_async._download._disk import SLOW, Disk
from earthscope_sdk_async.testing import FakeEarthScope


class Pace:
    """A clock whose every write lasts ``seconds`` (set by the test)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ticks: Iterator[float] = self._run()

    def _run(self) -> Iterator[float]:
        now = 0.0
        while True:
            yield now  # the start of a write
            now += self.seconds
            yield now  # its end

    def __call__(self) -> float:
        return next(self._ticks)


async def test_fast_writes_stay_in_the_event_loop() -> None:
    disk = Disk(Pace(SLOW / 10))
    threads: list[int] = []
    for _ in range(50):
        await disk.write(lambda: threads.append(threading.get_ident()))
    assert set(threads) == {threading.get_ident()} and not disk.files.slow


async def test_slow_writes_move_to_one_thread_and_come_back() -> None:
    pace = Pace(SLOW * 8)
    disk = Disk(pace)
    here = threading.get_ident()
    where: list[int] = []
    try:
        for _ in range(5):
            await disk.write(lambda: where.append(threading.get_ident()))
        assert disk.files.slow and where[0] == here and where[-1] != here
        async with anyio.create_task_group() as group:  # concurrent writes: one thread
            for _ in range(20):
                group.start_soon(disk.write, lambda: where.append(threading.get_ident()))
        assert len(set(where[-20:])) == 1 and where[-1] != here
        pace.seconds = SLOW / 10  # the disk got fast again: back to the loop
        for _ in range(40):
            await disk.write(lambda: where.append(threading.get_ident()))
        assert not disk.files.slow and where[-1] == here
    finally:
        disk.close()


async def test_a_failed_write_raises_in_its_task_and_the_thread_goes_on() -> None:
    disk = Disk(Pace(SLOW * 8))
    try:
        for _ in range(5):
            await disk.write(lambda: None)
        assert disk.files.slow

        def fail() -> None:
            raise OSError(28, "No space left on device")

        with pytest.raises(OSError, match="No space left"):
            await disk.write(fail)
        done: list[bool] = []
        await disk.write(lambda: done.append(True))
        assert done == [True]
    finally:
        disk.close()


async def test_a_cancelled_task_still_waits_for_its_write() -> None:
    disk = Disk(Pace(SLOW * 8))
    release = threading.Event()
    finished: list[bool] = []

    def slow_write() -> None:
        release.wait(30)
        finished.append(True)

    try:
        for _ in range(5):
            await disk.write(lambda: None)
        assert disk.files.slow
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(disk.write, slow_write)
                await anyio.wait_all_tasks_blocked()
                scope.cancel()  # lands while the thread holds the write
                release.set()
        assert finished == [True]  # the write was not abandoned half-way
    finally:
        disk.close()


async def test_close_ends_the_writer_thread() -> None:
    disk = Disk(Pace(SLOW * 8))
    for _ in range(5):
        await disk.write(lambda: None)
    writers = [t for t in threading.enumerate() if t.name == "earthscope-disk"]
    assert writers
    disk.close()
    for thread in writers:
        await anyio.to_thread.run_sync(thread.join, 30)
    assert not any(t.is_alive() for t in writers)


@pytest.mark.usefixtures("http_backend")  # httpcore, and aiohttp on asyncio
async def test_downloads_through_the_writer_thread_are_complete(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_disk, "SLOW", 0.0)  # every small file after the first: threaded
    writers: set[str] = set()
    write = Disk.write

    async def spy(self: Disk, work: Callable[[], None]) -> None:
        def traced() -> None:
            writers.add(threading.current_thread().name)
            work()

        await write(self, traced)

    monkeypatch.setattr(Disk, "write", spy)
    fake = fake_earthscope
    names = [f"t{i:03d}.bin" for i in range(120)]
    for i, name in enumerate(names):
        fake.add_file(name, size=(i * 7919) % 30_000)
    dest = tmp_path / "dest"
    async with make_client(fake) as client:
        report = await client.download([fake.file_url(n) for n in names], dest, concurrency=16)
    assert report.ok and len(report.downloaded) == 120
    assert sorted(p.name for p in dest.iterdir()) == names  # no .part left
    for name in names:
        assert (dest / name).read_bytes() == fake.file_bytes(name)
    assert "earthscope-disk" in writers


def spy_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that write body pieces (``BodySink._write``)."""
    from earthscope_sdk_async._download import _sink

    writers: list[str] = []
    write = _sink.BodySink._write

    def traced(self: _sink.BodySink, pieces: list[bytes]) -> None:
        if pieces:
            writers.append(threading.current_thread().name)
        write(self, pieces)

    monkeypatch.setattr(_sink.BodySink, "_write", traced)
    return writers


async def large_download(fake: FakeEarthScope, dest: Path, **options: object) -> None:
    url = fake.add_file("large.bin", size=5 * 1024 * 1024 + 123)
    async with make_client(fake) as client:
        report = await client.download([url], dest, **options)  # type: ignore[arg-type]
    assert report.ok, report[0].error
    assert (dest / "large.bin").read_bytes() == fake.file_bytes("large.bin")
    assert sorted(p.name for p in dest.iterdir()) == ["large.bin"]


@pytest.mark.usefixtures("http_backend")
async def test_large_bodies_are_written_from_the_loop_while_the_disk_is_fast(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_disk, "SLOW_MIB", float("inf"))  # every disk counts as fast
    writers = spy_writes(monkeypatch)
    await large_download(fake_earthscope, tmp_path / "dest")
    assert len(writers) > 1 and set(writers) == {threading.current_thread().name}


@pytest.mark.usefixtures("http_backend")
async def test_large_bodies_go_to_a_writer_thread_when_the_disk_is_slow(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_disk, "SLOW_MIB", 0.0)  # every disk counts as slow
    writers = spy_writes(monkeypatch)
    await large_download(fake_earthscope, tmp_path / "dest")
    assert writers[0] == threading.current_thread().name  # the first batch, timed
    assert "earthscope-writer" in writers[1:]  # then the body's writer thread
    assert threading.current_thread().name not in writers[1:]


@pytest.mark.usefixtures("http_backend")
async def test_hashed_large_bodies_are_never_written_from_the_loop(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    monkeypatch.setattr(_disk, "SLOW_MIB", float("inf"))
    writers = spy_writes(monkeypatch)
    fake = fake_earthscope
    url = fake.add_file("hashed.bin", size=3 * 1024 * 1024)
    digest = hashlib.sha256(fake.file_bytes("hashed.bin")).hexdigest()
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path / "dest", checksum={url: digest})
    assert report.ok and report[0].checksum == digest
    assert writers and threading.current_thread().name not in writers  # hashing: off the loop


async def test_bulk_pace_switches_both_ways() -> None:
    pace = Pace(0.0)
    disk = Disk(pace)
    write = disk.timed_bulk(lambda pieces: None)
    mib = [b"x" * 1024 * 1024]
    pace.seconds = _disk.SLOW_MIB * 8
    for _ in range(5):
        write(mib)
    assert disk.bulk.slow
    pace.seconds = _disk.SLOW_MIB / 10
    for _ in range(40):
        write(mib)
    assert not disk.bulk.slow
