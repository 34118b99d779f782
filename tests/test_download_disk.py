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
    assert set(threads) == {threading.get_ident()} and not disk.threaded


async def test_slow_writes_move_to_one_thread_and_come_back() -> None:
    pace = Pace(SLOW * 8)
    disk = Disk(pace)
    here = threading.get_ident()
    where: list[int] = []
    try:
        for _ in range(5):
            await disk.write(lambda: where.append(threading.get_ident()))
        assert disk.threaded and where[0] == here and where[-1] != here
        async with anyio.create_task_group() as group:  # concurrent writes: one thread
            for _ in range(20):
                group.start_soon(disk.write, lambda: where.append(threading.get_ident()))
        assert len(set(where[-20:])) == 1 and where[-1] != here
        pace.seconds = SLOW / 10  # the disk got fast again: back to the loop
        for _ in range(40):
            await disk.write(lambda: where.append(threading.get_ident()))
        assert not disk.threaded and where[-1] == here
    finally:
        disk.close()


async def test_a_failed_write_raises_in_its_task_and_the_thread_goes_on() -> None:
    disk = Disk(Pace(SLOW * 8))
    try:
        for _ in range(5):
            await disk.write(lambda: None)
        assert disk.threaded

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
        assert disk.threaded
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
