"""EnvTokenStore: bootstrap from ES_OAUTH2__* and write-back hooks (C34, C54)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import anyio.lowlevel
import pytest

from earthscope_sdk_async import Tokens, TokenStoreError
from earthscope_sdk_async._stores import EnvTokenStore, TokenStore

ACCESS = "SENTINEL-ACCESS-TOKEN-7f3a"
REFRESH = "SENTINEL-REFRESH-TOKEN-91bc"
ROTATED = "SENTINEL-ROTATED-REFRESH-3c4d"


def _rotated() -> Tokens:
    return Tokens(access_token="new-access", refresh_token=ROTATED)


async def test_empty_environment_loads_none() -> None:
    store = EnvTokenStore(environ={})
    assert isinstance(store, TokenStore)
    assert await store.load() is None
    assert await EnvTokenStore(environ={"ES_OAUTH2__REFRESH_TOKEN": ""}).load() is None


async def test_refresh_only_gives_an_expired_placeholder() -> None:
    tokens = await EnvTokenStore(environ={"ES_OAUTH2__REFRESH_TOKEN": REFRESH}).load()
    assert tokens is not None
    assert tokens.refresh_token == REFRESH
    assert tokens.access_token == EnvTokenStore.PLACEHOLDER_ACCESS_TOKEN
    assert tokens.expires_at == datetime.fromtimestamp(0, timezone.utc)
    assert tokens.is_expired()


async def test_access_and_refresh_from_environment() -> None:
    environ = {"ES_OAUTH2__ACCESS_TOKEN": ACCESS, "ES_OAUTH2__REFRESH_TOKEN": REFRESH}
    tokens = await EnvTokenStore(environ=environ).load()
    assert tokens == Tokens(access_token=ACCESS, refresh_token=REFRESH)


async def test_access_only_from_environment() -> None:
    tokens = await EnvTokenStore(environ={"ES_OAUTH2__ACCESS_TOKEN": ACCESS}).load()
    assert tokens == Tokens(access_token=ACCESS)


async def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    store = EnvTokenStore()
    assert await store.load() is None
    monkeypatch.setenv("ES_OAUTH2__REFRESH_TOKEN", REFRESH)
    tokens = await store.load()
    assert tokens is not None
    assert tokens.refresh_token == REFRESH
    assert REFRESH not in repr(store)


async def test_saved_tokens_win_and_delete_falls_back_to_environment() -> None:
    environ = {"ES_OAUTH2__REFRESH_TOKEN": REFRESH}
    store = EnvTokenStore(environ=environ)
    await store.save(_rotated())
    assert await store.load() == _rotated()
    assert environ == {"ES_OAUTH2__REFRESH_TOKEN": REFRESH}  # never written
    async with store.lock():  # no-op
        await store.delete()
    loaded = await store.load()
    assert loaded is not None
    assert loaded.refresh_token == REFRESH
    await store.delete()  # idempotent


async def test_on_save_sync_runs_in_a_worker_thread() -> None:
    seen: list[tuple[str | None, bool]] = []

    def put_secret(tokens: Tokens) -> None:
        seen.append((tokens.refresh_token, threading.current_thread() is threading.main_thread()))

    await EnvTokenStore(environ={}, on_save=put_secret).save(_rotated())
    assert seen == [(ROTATED, False)]


async def test_on_save_async_is_awaited() -> None:
    seen: list[str | None] = []

    async def put_secret(tokens: Tokens) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(tokens.refresh_token)

    await EnvTokenStore(environ={}, on_save=put_secret).save(_rotated())
    assert seen == [ROTATED]


async def test_on_save_async_callable_object_is_awaited() -> None:
    seen: list[str | None] = []

    class Writer:
        async def __call__(self, tokens: Tokens) -> None:
            await anyio.lowlevel.checkpoint()
            seen.append(tokens.refresh_token)

    await EnvTokenStore(environ={}, on_save=Writer()).save(_rotated())
    assert seen == [ROTATED]


async def test_on_save_failure_is_wrapped_and_tokens_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def put_secret(tokens: Tokens) -> None:
        raise PermissionError(f"vault refused {tokens.refresh_token}")

    store = EnvTokenStore(environ={"ES_OAUTH2__REFRESH_TOKEN": REFRESH}, on_save=put_secret)
    with pytest.raises(TokenStoreError, match="put_secret failed with PermissionError") as info:
        await store.save(_rotated())
    assert isinstance(info.value.__cause__, PermissionError)
    for secret in (REFRESH, ROTATED):
        assert secret not in str(info.value)
        assert secret not in repr(info.value)
        assert secret not in caplog.text
    assert await store.load() == _rotated()
