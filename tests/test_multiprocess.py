"""Token lifecycle across processes sharing one token file (C34, C35, C36, C55, C56).

Worker processes (``tests/_mp_worker.py``) each run their own TokenManager on a
FileTokenStore pointing at the same file, against the FakeEarthScope of this process
(refresh-token rotation and reuse detection on).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
from _workers import finish as _finish
from _workers import go as _go
from _workers import spawn as _start
from _workers import wait_for as _wait_for
from _workers import wait_ready as _wait_ready

from earthscope_sdk_async import Settings, TokenManager, Tokens, TokenStoreError
from earthscope_sdk_async._stores import FileTokenStore
from earthscope_sdk_async._tokens import fingerprint
from earthscope_sdk_async.testing import FakeEarthScope

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and modes")

WORKER = Path(__file__).with_name("_mp_worker.py")


# -- helpers ---------------------------------------------------------------------------------


def _settings_json(settings: Settings) -> str:
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values["allowed_hosts"] = list(settings.allowed_hosts)
    return json.dumps(values)


def _seed(path: Path, tokens: Tokens) -> None:
    anyio.run(FileTokenStore(path).save, tokens)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _spawn(mode: str, path: Path, fake: FakeEarthScope, backend: str, count: int = 1) -> Any:
    args = [mode, str(path), _settings_json(fake.settings()), backend, str(count)]
    return _start([sys.executable, str(WORKER), *args])


@pytest.fixture
def workers() -> Iterator[list[Any]]:
    """Popen objects to reap: whatever happens, no worker outlives its test."""
    procs: list[Any] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


class _FileObserver(threading.Thread):
    """Reads the token file over and over; records every observation that is not a valid
    0600 token file (a reader must never see a torn or wide-open file)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.observations = 0
        self.seen: set[str] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            self._observe()
            time.sleep(0.001)  # pacing only: leave the GIL to the fake server's thread

    def _observe(self) -> None:
        try:
            with open(self.path, "rb") as file:
                mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
                data = file.read()
            tokens = Tokens.from_json(data)
        except Exception as exc:
            self.failures.append(f"unreadable token file: {type(exc).__name__}: {exc}")
            return
        if mode != 0o600:
            self.failures.append(f"token file mode {mode:o}, expected 600")
        self.seen.add(fingerprint(tokens.access_token))
        self.observations += 1


# -- tests -------------------------------------------------------------------------------


def test_c35_c36_four_processes_100_forced_refreshes_no_reuse(
    tmp_path: Path, fake_earthscope: FakeEarthScope, workers: list[Any]
) -> None:
    """4 processes x 25 forced refreshes on one file: every refresh starts from the newest
    refresh token (no reuse detection), and the file is always whole and 0600 (C55, C56)."""
    fake = fake_earthscope
    path = tmp_path / "es" / "tokens.json"
    _seed(path, fake.issue_tokens())
    backends = ["asyncio", "trio", "asyncio", "trio"]
    workers.extend(_spawn("refresh-loop", path, fake, b, 25) for b in backends)
    _wait_ready(workers)
    observer = _FileObserver(path)
    observer.start()
    try:
        _go(workers)
        results = [_finish(proc) for proc in workers]
    finally:
        observer.stop.set()
        observer.join(10)
    assert [r["refreshes"] for r in results] == [25, 25, 25, 25]
    assert fake.refresh_count == 100
    assert fake.count("token", grant_type="refresh_token") == 100
    assert fake.reuse_detections == 0
    assert observer.failures == []
    assert observer.observations >= 20
    assert len(observer.seen) >= 2  # the observer did watch the file change
    # The file holds the newest refresh token: one more refresh from it is not a reuse.
    manager = TokenManager(fake.settings(), store=FileTokenStore(path))
    anyio.run(manager.refresh)
    assert (fake.refresh_count, fake.reuse_detections) == (101, 0)
    assert _mode(path) == 0o600


@pytest.mark.parametrize("parent_backend", ["asyncio", "trio"])
def test_c36_sigkill_mid_refresh_leaves_no_stuck_lock(
    tmp_path: Path, fake_earthscope: FakeEarthScope, workers: list[Any], parent_backend: str
) -> None:
    """A process killed while it holds the lock and waits for the token endpoint: the OS
    frees the lock, the lock file stays, the token file is intact, and others refresh."""
    fake = fake_earthscope
    path = tmp_path / "tokens.json"
    seeded = fake.issue_tokens()
    _seed(path, seeded)
    store = FileTokenStore(path, lock_timeout=0.2)
    fake.add_fault("token", action="drop", delay=300, times=1)  # hold the worker's request
    worker_backend = "trio" if parent_backend == "asyncio" else "asyncio"
    workers.append(_spawn("refresh-once", path, fake, worker_backend))
    _wait_ready(workers)
    _go(workers)
    _wait_for(lambda: fake.count("token", grant_type="refresh_token") == 1, "the token request")

    async def lock_is_held() -> bool:
        try:
            async with store.lock():
                return False
        except TokenStoreError:
            return True

    assert anyio.run(lock_is_held, backend=parent_backend)  # the worker holds it mid-refresh
    os.kill(workers[0].pid, signal.SIGKILL)
    assert workers[0].wait(10) == -signal.SIGKILL
    assert store.lock_path.exists()

    async def recover() -> Tokens:
        # Not stuck: a lock nobody frees would raise TokenStoreError after lock_timeout
        # (far longer than any starvation; the OS frees a killed holder's lock at once).
        async with FileTokenStore(path, lock_timeout=60.0).lock():
            pass
        manager = TokenManager(fake.settings(), store=FileTokenStore(path, lock_timeout=60.0))
        return await manager.refresh(force=True)

    new = anyio.run(recover, backend=parent_backend)
    assert (fake.refresh_count, fake.reuse_detections) == (1, 0)
    assert new.refresh_token != seeded.refresh_token  # rotated
    assert Tokens.from_json(path.read_bytes()) == new  # intact, and the newest
    assert _mode(path) == 0o600
    assert store.lock_path.exists()  # never deleted


def test_c36_second_process_adopts_the_token_another_saved(
    tmp_path: Path, fake_earthscope: FakeEarthScope, workers: list[Any]
) -> None:
    """Two processes find the same expired token: one refreshes, the other re-reads the
    file under the lock and adopts the saved token (exactly one refresh POST)."""
    fake = fake_earthscope
    path = tmp_path / "tokens.json"
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    _seed(path, fake.issue_tokens().replace(expires_at=past))
    workers.extend(_spawn("get-token", path, fake, b) for b in ("asyncio", "trio"))
    _wait_ready(workers)  # both loaded the expired token into memory
    _go(workers)
    first, second = (_finish(proc) for proc in workers)
    assert fake.count("token") == 1
    assert (fake.refresh_count, fake.reuse_detections) == (1, 0)
    saved = Tokens.from_json(path.read_bytes())
    assert first["fingerprint"] == second["fingerprint"] == fingerprint(saved.access_token)
