"""FileTokenStore.lock(): cross-thread and cross-process exclusion (C35, C36)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pytest

from earthscope_sdk_async import Tokens, TokenStoreError
from earthscope_sdk_async._stores import FileTokenStore, _filelock

HOLDER = """
import sys, anyio, anyio.to_thread
from earthscope_sdk_async._stores import FileTokenStore

async def main():
    async with FileTokenStore(sys.argv[1]).lock():
        print("locked", flush=True)
        await anyio.to_thread.run_sync(sys.stdin.readline)

anyio.run(main)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of tmp_path/tokens.json until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "tokens.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "locked\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _try_lock(path: Path, timeout: float, backend: str = "asyncio") -> bool:
    """True when a fresh store took and released the lock within ``timeout``."""

    async def attempt() -> bool:
        async with FileTokenStore(path, lock_timeout=timeout).lock():
            return True

    try:
        return anyio.run(attempt, backend=backend)
    except TokenStoreError:
        return False


async def test_lock_file_is_0600_and_kept(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "dir" / "tokens.json")
    async with store.lock():
        assert store.lock_path.exists()
    assert store.lock_path == tmp_path / "dir" / "tokens.json.lock"
    assert store.lock_path.exists()  # never deleted (C36)
    if os.name != "nt":
        assert stat.S_IMODE(store.lock_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.lock_path.parent.stat().st_mode) == 0o700


async def test_lock_is_not_reentrant_and_times_out_with_a_clear_error(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json", lock_timeout=0.1)
    async with store.lock():
        with pytest.raises(TokenStoreError, match=r"timed out after 0\.1 s") as info:
            async with store.lock():
                pytest.fail("a second holder got in")
    assert info.value.path == str(store.lock_path)
    assert str(store.lock_path) in str(info.value)
    assert "another process may be stuck refreshing" in str(info.value)
    async with store.lock():  # both released
        pass


async def test_waiting_does_not_block_the_event_loop(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json", lock_timeout=0.3)
    order: list[str] = []

    async def ticker() -> None:
        for _ in range(20):
            await anyio.sleep(0)
        order.append("ticker done")

    async def waiter() -> None:
        with pytest.raises(TokenStoreError):
            async with store.lock():
                pytest.fail("a second holder got in")
        order.append("timed out")

    async with store.lock(), anyio.create_task_group() as group:
        group.start_soon(waiter)
        group.start_soon(ticker)
    assert order == ["ticker done", "timed out"]


async def test_tasks_of_one_loop_take_turns(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json", lock_timeout=10)
    order: list[str] = []
    first_in = anyio.Event()

    async def first() -> None:
        async with store.lock():
            order.append("first in")
            first_in.set()
            for _ in range(10):
                await anyio.sleep(0)
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with store.lock():
            order.append("second in")

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        group.start_soon(second)
    assert order == ["first in", "first out", "second in"]


def test_threads_with_their_own_event_loops_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        async def run() -> None:
            async with FileTokenStore(path).lock():
                holding.set()
                await anyio.to_thread.run_sync(done.wait)

        try:
            anyio.run(run, backend="trio")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            holding.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        assert not _try_lock(path, 0.2)  # held by the other thread
    finally:
        done.set()
        thread.join()
    assert errors == []
    assert _try_lock(path, 5)


def test_c36_no_lost_updates_between_threads(tmp_path: Path) -> None:
    """Read-modify-write under the lock from 4 threads (2 per backend) loses nothing."""
    path = tmp_path / "tokens.json"
    anyio.run(FileTokenStore(path).save, Tokens(access_token="0"))
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def work(backend: str) -> None:
        async def run() -> None:
            nonlocal inside, most_inside
            store = FileTokenStore(path)
            for _ in range(8):
                async with store.lock():
                    with guard:
                        inside += 1
                        most_inside = max(most_inside, inside)
                    current = await store.load()
                    assert current is not None
                    await anyio.sleep(0)
                    await store.save(Tokens(access_token=str(int(current.access_token) + 1)))
                    with guard:
                        inside -= 1

        anyio.run(run, backend=backend)

    threads = [threading.Thread(target=work, args=(b,)) for b in ["asyncio", "trio"] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = anyio.run(FileTokenStore(path).load)
    assert final is not None
    assert final.access_token == "32"
    assert most_inside == 1


def test_c36_another_process_holding_the_lock_excludes_us(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    path = tmp_path / "tokens.json"

    async def attempt() -> None:
        async with FileTokenStore(path, lock_timeout=0.2).lock():
            pytest.fail("got the lock another process holds")

    with pytest.raises(TokenStoreError, match=r"timed out after 0\.2 s") as info:
        anyio.run(attempt)
    assert info.value.path == str(path) + ".lock"
    assert not _try_lock(path, 0.1, backend="trio")
    assert holder.stdin is not None
    holder.stdin.close()  # let it go
    assert holder.wait(10) == 0
    assert _try_lock(path, 5)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signal")
def test_c36_lock_freed_when_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    path = tmp_path / "tokens.json"
    assert not _try_lock(path, 0.1)
    os.kill(holder.pid, signal.SIGKILL)
    assert holder.wait(10) == -signal.SIGKILL
    assert Path(str(path) + ".lock").exists()  # the file stays; the OS lock is gone
    assert _try_lock(path, 5)


async def test_cancelled_waiter_does_not_leak_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holder_store = FileTokenStore(path)
    waiter_store = FileTokenStore(path, lock_timeout=30)
    async with holder_store.lock():
        with anyio.move_on_after(0.2) as scope:
            async with waiter_store.lock():
                pytest.fail("got a held lock")
        assert scope.cancelled_caught
    assert await anyio.to_thread.run_sync(_try_lock, path, 1.0)


async def test_cancelled_right_after_acquiring_does_not_leak_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker thread wins the lock just as the caller is cancelled."""
    path = tmp_path / "tokens.json"
    real_attempt = _filelock._attempt
    scopes: list[anyio.CancelScope] = []

    def attempt_then_cancel(lock: object, seconds: float) -> bool:
        acquired = real_attempt(lock, seconds)  # type: ignore[arg-type]
        assert acquired
        anyio.from_thread.run_sync(scopes[0].cancel)
        return acquired

    monkeypatch.setattr(_filelock, "_attempt", attempt_then_cancel)
    with anyio.CancelScope() as scope:
        scopes.append(scope)
        async with FileTokenStore(path).lock():
            await anyio.lowlevel.checkpoint()
            pytest.fail("the body ran past a checkpoint despite the cancellation")
    assert scope.cancelled_caught
    monkeypatch.setattr(_filelock, "_attempt", real_attempt)
    assert await anyio.to_thread.run_sync(_try_lock, path, 1.0)
