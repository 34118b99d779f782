"""TokenManager: single flight across tasks and threads (C31, C35), adoption, rotation,
cancellation (C37), login/logout (C45), stores failing."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import httpx
import pytest

from earthscope_sdk_async import LoginRequiredError, Tokens, TokenStoreError
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import FileTokenStore, MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def expired(tokens: Tokens) -> Tokens:
    return tokens.replace(expires_at=PAST)


def expiring_in(fake: FakeEarthScope, seconds: float) -> Tokens:
    """A long-lived (opaque: lifetime unknown) access token with ``seconds`` left to live."""
    seed = fake.issue_tokens()
    return Tokens(
        access_token="opaque-" + seed.access_token[-12:],
        refresh_token=seed.refresh_token,
        expires_at=datetime.now(timezone.utc) + timedelta(seconds=seconds),
    )


async def test_short_lived_tokens_are_not_refreshed_on_every_call() -> None:
    """A 60 s token with the default 60 s leeway would otherwise be stale on arrival: the
    leeway is capped at half the token's lifetime (C40)."""
    async with FakeEarthScope(access_token_lifetime=60) as fake:
        manager = TokenManager(fake.machine_settings())
        for _ in range(5):
            await manager.get_access_token()
        assert fake.client_credentials_count == 1
        seed = fake.issue_tokens(lifetime=60)
        people = TokenManager(fake.settings(), store=MemoryTokenStore(seed))
        for _ in range(5):
            assert await people.get_access_token() == seed.access_token
        assert fake.refresh_count == 0


async def test_c35_1000_concurrent_callers_one_refresh(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    results: list[str] = []

    async def call() -> None:
        results.append(await manager.get_access_token())

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(call)
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1
    assert len(set(results)) == 1
    stored = await store.load()
    assert stored is not None and stored.access_token == results[0]


async def test_c31_machine_token_single_flight(fake_earthscope: FakeEarthScope) -> None:
    manager = TokenManager(fake_earthscope.machine_settings())
    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(manager.get_access_token)
    assert fake_earthscope.count("token", grant_type="client_credentials") == 1
    assert manager.tokens is not None and manager.tokens.refresh_token is None


async def test_fresh_token_is_served_without_any_request(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(tokens))
    assert await manager.get_access_token() == tokens.access_token
    assert fake_earthscope.count("token") == 0


async def test_no_tokens_means_login_required(fake_earthscope: FakeEarthScope) -> None:
    manager = TokenManager(fake_earthscope.settings())
    with pytest.raises(LoginRequiredError, match="log in"):
        await manager.get_access_token()


async def test_settings_refresh_token_bootstraps(fake_earthscope: FakeEarthScope) -> None:
    seed = fake_earthscope.issue_tokens()
    store = MemoryTokenStore()
    manager = TokenManager(fake_earthscope.settings(refresh_token=seed.refresh_token), store=store)
    token = await manager.get_access_token()
    assert token != seed.access_token
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1
    assert await store.load() is not None


async def test_adopts_token_saved_by_another_process(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    await manager.load()
    newer = fake_earthscope.issue_tokens()
    await store.save(newer)  # "another process" refreshed meanwhile
    assert await manager.get_access_token() == newer.access_token
    assert fake_earthscope.count("token") == 0


async def test_forced_refresh_starts_from_newest_stored_refresh_token(
    fake_earthscope: FakeEarthScope,
) -> None:
    first = fake_earthscope.issue_tokens()
    store = MemoryTokenStore(first)
    manager = TokenManager(fake_earthscope.settings(), store=store)
    await manager.load()
    other = TokenManager(fake_earthscope.settings(), store=store)
    await other.refresh()  # rotates: first.refresh_token is now used
    await manager.refresh()  # must use the rotated token from the store, not its own copy
    assert fake_earthscope.refresh_count == 2
    assert fake_earthscope.reuse_detections == 0


async def test_c23_refresh_without_rotation_keeps_refresh_token() -> None:
    async with FakeEarthScope(rotation=False) as fake:
        seed = fake.issue_tokens()
        store = MemoryTokenStore(expired(seed))
        manager = TokenManager(fake.settings(), store=store)
        await manager.get_access_token()
        stored = await store.load()
        assert stored is not None and stored.refresh_token == seed.refresh_token


async def test_c38_revoked_refresh_token_means_login_required(
    fake_earthscope: FakeEarthScope,
) -> None:
    seed = fake_earthscope.issue_tokens()
    assert seed.refresh_token is not None
    fake_earthscope.revoke_family(seed.refresh_token)
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(expired(seed)))
    with pytest.raises(LoginRequiredError):
        await manager.get_access_token()
    assert fake_earthscope.count("token") == 1  # final: never retried


async def test_c37_cancelled_caller_still_saves_committed_rotation(
    fake_earthscope: FakeEarthScope,
) -> None:
    store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    fake_earthscope.add_fault("token", action="pass", delay=0.3)
    with anyio.move_on_after(0.05) as scope:
        await manager.get_access_token()
    assert scope.cancelled_caught
    stored = await store.load()
    assert stored is not None and not stored.is_expired(60)
    assert await manager.get_access_token() == stored.access_token
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


def test_16_threads_one_refresh(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    barrier = threading.Barrier(16)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(anyio.run(manager.get_access_token))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1 and len(results) == 16
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


async def test_login_device_flow_then_logout_revokes_once(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore()
    manager = TokenManager(fake_earthscope.settings(), store=store)
    shown: list[str] = []

    def prompt(code: object) -> None:
        shown.append(code.user_code)  # type: ignore[attr-defined]
        fake_earthscope.approve(code.user_code)  # type: ignore[attr-defined]

    with anyio.fail_after(20):
        tokens = await manager.login(prompt)
    assert shown and tokens.refresh_token
    assert await store.load() == tokens
    assert await manager.logout() is True
    assert fake_earthscope.count("revoke") == 1
    assert await store.load() is None
    with pytest.raises(LoginRequiredError):
        await manager.get_access_token()


async def test_c45_logout_deletes_locally_even_if_revocation_fails(
    fake_earthscope: FakeEarthScope,
) -> None:
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    manager = TokenManager(fake_earthscope.settings(), store=store)
    fake_earthscope.add_fault("revoke", status=400, json={"error": "invalid_request"})
    assert await manager.logout() is False
    assert await store.load() is None
    assert fake_earthscope.count("revoke") == 1


async def test_logout_without_revoke_sends_nothing(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    manager = TokenManager(fake_earthscope.settings(), store=store)
    await manager.logout(revoke=False)
    assert fake_earthscope.count("revoke") == 0
    assert await store.load() is None


async def test_machine_login(fake_earthscope: FakeEarthScope) -> None:
    manager = TokenManager(fake_earthscope.machine_settings())
    tokens = await manager.login()
    assert tokens.refresh_token is None
    assert await manager.get_access_token() == tokens.access_token


async def test_corrupted_token_file_raises_and_is_untouched(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    path = tmp_path / "es" / "tokens.json"
    path.parent.mkdir()
    path.write_text("{not json")
    manager = TokenManager(fake_earthscope.settings(), store=FileTokenStore(path))
    with pytest.raises(TokenStoreError) as info:
        await manager.get_access_token()
    assert str(path) in str(info.value)
    assert path.read_text() == "{not json"


async def test_failed_save_still_serves_the_new_token(
    fake_earthscope: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    await store.save(expired(fake_earthscope.issue_tokens()))
    before = path.read_bytes()

    def read_only(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    manager = TokenManager(fake_earthscope.settings(), store=store)
    token = await manager.get_access_token()
    assert token
    assert isinstance(manager.last_save_error, TokenStoreError)
    assert path.read_bytes() == before  # never truncated


async def test_invalidate_only_clears_that_token(fake_earthscope: FakeEarthScope) -> None:
    tokens = fake_earthscope.issue_tokens()
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(tokens))
    await manager.load()
    manager.invalidate("some-other-token")
    assert manager.cached_access_token() == tokens.access_token
    manager.invalidate(tokens.access_token)
    assert manager.cached_access_token() is None
    new = await manager.get_access_token()
    assert new != tokens.access_token
    # a 401 for the old token when a newer one is held: no second refresh
    assert await manager.handle_rejected(tokens.access_token) == new
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


async def test_one_manager_across_event_loops(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    first = await manager.get_access_token()
    manager.invalidate(first)
    # the same manager from a different event loop in another thread
    second = await anyio.to_thread.run_sync(
        lambda: anyio.run(manager.get_access_token, backend="trio")
    )
    assert second != first
    assert fake_earthscope.count("token", grant_type="refresh_token") == 2


def test_expiry_leeway_respected(fake_earthscope: FakeEarthScope) -> None:
    soon = expiring_in(fake_earthscope, 30)
    manager = TokenManager(
        fake_earthscope.settings(refresh_leeway=60), store=MemoryTokenStore(soon)
    )
    assert anyio.run(manager.get_access_token) != soon.access_token  # C40/C60: within leeway
    manager2 = TokenManager(
        fake_earthscope.settings(refresh_leeway=10), store=MemoryTokenStore(soon)
    )
    assert anyio.run(manager2.get_access_token) == soon.access_token


def test_http_client_can_be_supplied(fake_earthscope: FakeEarthScope) -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as http:
            store = MemoryTokenStore(expired(fake_earthscope.issue_tokens()))
            manager = TokenManager(fake_earthscope.settings(), store=store, http=http)
            await manager.get_access_token()

    anyio.run(main)
    assert fake_earthscope.count("token") == 1


async def test_refresh_ahead_serves_current_token_while_refreshing(
    fake_earthscope: FakeEarthScope,
) -> None:
    # fresh for 5 s beyond the 60 s leeway; refresh-ahead starts 15-30 s before that: due now
    soon = expiring_in(fake_earthscope, 65)
    settings = fake_earthscope.settings(refresh_ahead=30)
    manager = TokenManager(settings, store=MemoryTokenStore(soon))
    try:
        assert await manager.get_access_token() == soon.access_token  # served at once
        with anyio.fail_after(10):
            while fake_earthscope.refresh_count == 0:  # the background refresh happens
                await anyio.sleep(0.01)
            while manager.cached_access_token() == soon.access_token:
                await anyio.sleep(0.01)
        new = await manager.get_access_token()
        assert new != soon.access_token
        for _ in range(100):
            assert await manager.get_access_token() == new  # a fresh token: no more refreshes
        assert fake_earthscope.count("token", grant_type="refresh_token") == 1
    finally:
        manager.close()


async def test_refresh_ahead_off_by_default(fake_earthscope: FakeEarthScope) -> None:
    soon = expiring_in(fake_earthscope, 65)
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(soon))
    assert await manager.get_access_token() == soon.access_token
    assert manager._ahead is None  # no background thread started
    assert fake_earthscope.count("token") == 0


async def test_refresh_ahead_failure_keeps_serving(fake_earthscope: FakeEarthScope) -> None:
    soon = expiring_in(fake_earthscope, 65)
    assert soon.refresh_token is not None
    fake_earthscope.revoke_family(soon.refresh_token)
    manager = TokenManager(fake_earthscope.settings(refresh_ahead=30), store=MemoryTokenStore(soon))
    try:
        assert await manager.get_access_token() == soon.access_token
        with anyio.fail_after(10):
            while fake_earthscope.count("token") == 0:
                await anyio.sleep(0.01)
        # the background refresh failed (invalid_grant): the current token still serves,
        # and no second background attempt is made for it
        for _ in range(10):
            assert await manager.get_access_token() == soon.access_token
        assert fake_earthscope.count("token") == 1
    finally:
        manager.close()


async def test_c38_invalid_grant_is_not_retried_by_later_calls(
    fake_earthscope: FakeEarthScope,
) -> None:
    seed = fake_earthscope.issue_tokens()
    assert seed.refresh_token is not None
    fake_earthscope.revoke_family(seed.refresh_token)
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(expired(seed)))
    for _ in range(3):
        with pytest.raises(LoginRequiredError):
            await manager.get_access_token()
    assert fake_earthscope.count("token") == 1  # the dead refresh token was sent once


async def test_c34_failed_save_next_refresh_uses_the_rotated_token(
    fake_earthscope: FakeEarthScope,
) -> None:
    class ReadOnlyStore(MemoryTokenStore):
        async def save(self, tokens: Tokens) -> None:
            raise TokenStoreError("read-only")

    store = ReadOnlyStore(expired(fake_earthscope.issue_tokens()))
    manager = TokenManager(fake_earthscope.settings(), store=store)
    await manager.refresh()
    await manager.refresh()  # must start from the rotated token held in memory
    assert fake_earthscope.refresh_count == 2
    assert fake_earthscope.reuse_detections == 0


async def test_c45_logout_deletes_an_unreadable_token_file(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{garbage")
    manager = TokenManager(fake_earthscope.settings(), store=FileTokenStore(path))
    assert await manager.logout() is True  # nothing to revoke
    assert not path.exists()
