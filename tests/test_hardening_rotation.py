"""Issue 14, case 3: a full disk during a refresh never loses the rotated refresh token.

The identity provider rotates on refresh and revokes the whole family when a rotated-out
refresh token comes back (reuse detection). When the save fails (ENOSPC), the manager keeps
the new tokens, never falls back to the file's stale ones, keeps the store's cross-process
lock so that no other process refreshes with the rotated-out token (they fail retryably),
and saves as soon as it can, at the latest on ``aclose()``.
"""

from __future__ import annotations

import errno
import os
from datetime import datetime, timezone
from pathlib import Path

import anyio
import pytest

from earthscope_sdk_async import Tokens, TokenStoreError
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import FileTokenStore
from earthscope_sdk_async._stores import _file as file_store
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


class Disk:
    """Makes every token-file write fail with ENOSPC until :meth:`recover`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.failures = 0

        def full(path: Path, data: bytes) -> None:
            self.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        monkeypatch.setattr(file_store, "atomic_write", full)

    def recover(self) -> None:
        self.monkeypatch.undo()


def start(fake: FakeEarthScope, path: Path) -> Tokens:
    tokens = fake.issue_tokens().replace(expires_at=PAST)
    path.write_text(tokens.to_json())
    return tokens


def manager(fake: FakeEarthScope, path: Path) -> TokenManager:
    return TokenManager(fake.settings(), store=FileTokenStore(path, lock_timeout=0.2))


async def test_case3_full_disk_keeps_rotation_and_blocks_reuse(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    old = start(fake_earthscope, path)
    disk = Disk(monkeypatch)
    first = manager(fake_earthscope, path)
    try:
        token = await first.get_access_token()  # rotates; the save fails
        assert disk.failures >= 1 and first.last_save_error is not None
        assert first.tokens is not None and first.tokens.refresh_token != old.refresh_token

        again = await first.refresh()  # from memory's refresh token, not the file's
        assert again.access_token != token

        other = manager(fake_earthscope, path)  # another process on the same file
        with pytest.raises(TokenStoreError) as info:
            await other.get_access_token()
        assert info.value.retryable
        assert Tokens.from_json(path.read_bytes()).refresh_token == old.refresh_token
        assert fake_earthscope.reuse_detections == 0

        disk.recover()
    finally:
        await first.aclose()  # one last save: it works now
    saved = Tokens.from_json(path.read_bytes())
    assert first.tokens is not None and saved.refresh_token == first.tokens.refresh_token
    other = manager(fake_earthscope, path)
    try:
        assert await other.get_access_token()  # adopts or refreshes with the saved token
    finally:
        await other.aclose()
    assert fake_earthscope.reuse_detections == 0


async def test_case3_save_is_retried_before_the_next_refresh(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    start(fake_earthscope, path)
    disk = Disk(monkeypatch)
    first = manager(fake_earthscope, path)
    try:
        await first.get_access_token()
        disk.recover()
        await first.refresh()  # saves the pending tokens first, then the new ones
        assert first.last_save_error is None
        held = first.tokens
        assert held is not None
        assert Tokens.from_json(path.read_bytes()).refresh_token == held.refresh_token
        assert not first.store.save_pending  # type: ignore[attr-defined]
        other = manager(fake_earthscope, path)  # the lock was released
        with anyio.fail_after(30):
            assert await other.get_access_token() == held.access_token
        await other.aclose()
    finally:
        await first.aclose()
    assert fake_earthscope.reuse_detections == 0


async def test_case3_close_with_a_disk_still_full_releases_and_says_so(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "tokens.json"
    start(fake_earthscope, path)
    Disk(monkeypatch)
    first = manager(fake_earthscope, path)
    await first.get_access_token()
    await first.aclose()
    assert "could not be saved" in caplog.text
    async with FileTokenStore(path, lock_timeout=0.2).lock():  # released on close
        pass
