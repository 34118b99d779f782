"""TokenStore protocol and MemoryTokenStore (C34, C54)."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from earthscope_sdk_async import Tokens, TokenStoreError
from earthscope_sdk_async._stores import (
    EnvTokenStore,
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
)

ACCESS = "SENTINEL-ACCESS-TOKEN-7f3a"
REFRESH = "SENTINEL-REFRESH-TOKEN-91bc"


def _tokens(access: str = ACCESS) -> Tokens:
    return Tokens(access_token=access, refresh_token=REFRESH, id_token="SENTINEL-ID")


def test_every_store_is_a_token_store(tmp_path: Path) -> None:
    stores = [
        MemoryTokenStore(),
        FileTokenStore(tmp_path / "tokens.json"),
        KeyringTokenStore(),
        EnvTokenStore(environ={}),
    ]
    for store in stores:
        assert isinstance(store, TokenStore)


def test_an_object_missing_lock_is_not_a_token_store() -> None:
    class NoLock:
        async def load(self) -> None: ...
        async def save(self, tokens: Tokens) -> None: ...
        async def delete(self) -> None: ...

    assert not isinstance(NoLock(), TokenStore)


async def test_memory_round_trip() -> None:
    store = MemoryTokenStore()
    assert await store.load() is None
    tokens = _tokens()
    await store.save(tokens)
    assert await store.load() == tokens
    await store.delete()
    assert await store.load() is None
    await store.delete()  # idempotent
    assert await store.load() is None


async def test_memory_initial_tokens_and_repr_hides_secrets() -> None:
    tokens = _tokens()
    store = MemoryTokenStore(tokens)
    assert await store.load() is tokens
    assert ACCESS not in repr(store)
    assert REFRESH not in repr(store)


async def test_memory_lock_is_a_noop_that_nests() -> None:
    store = MemoryTokenStore()
    async with store.lock(), store.lock():
        await store.save(_tokens())
    assert await store.load() == _tokens()


async def test_memory_on_save_sync_runs_in_a_worker_thread() -> None:
    seen: list[tuple[Tokens, bool]] = []

    def hook(tokens: Tokens) -> None:
        seen.append((tokens, threading.current_thread() is threading.main_thread()))

    store = MemoryTokenStore(on_save=hook)
    await store.save(_tokens())
    assert seen == [(_tokens(), False)]


async def test_memory_on_save_async_is_awaited() -> None:
    seen: list[Tokens] = []

    async def hook(tokens: Tokens) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(tokens)

    store = MemoryTokenStore(on_save=hook)
    await store.save(_tokens())
    assert seen == [_tokens()]


async def test_memory_on_save_failure_is_wrapped_and_save_stays_done() -> None:
    def hook(tokens: Tokens) -> None:
        raise RuntimeError(f"secret manager refused {tokens.refresh_token}")

    store = MemoryTokenStore(on_save=hook)
    with pytest.raises(TokenStoreError, match="on_save hook") as info:
        await store.save(_tokens())
    assert isinstance(info.value.__cause__, RuntimeError)
    assert REFRESH not in str(info.value)
    assert REFRESH not in repr(info.value)
    assert await store.load() == _tokens()


def test_memory_store_is_shared_by_threads_and_event_loops() -> None:
    store = MemoryTokenStore()
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        async def run() -> None:
            for _ in range(50):
                await store.save(_tokens(f"access-{index}"))
                loaded = await store.load()
                assert loaded is not None

        try:
            anyio.run(run, backend="trio" if index % 2 else "asyncio")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = anyio.run(store.load)
    assert final is not None
    assert final.access_token in {f"access-{i}" for i in range(4)}
