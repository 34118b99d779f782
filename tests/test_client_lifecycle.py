"""AsyncEarthScopeClient lifecycle: no I/O in the constructor, ClientClosedError after
aclose, and independence from the event loop (new clients per loop, one client reused)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
import trio

from earthscope_sdk_async import ClientClosedError, MemoryTokenStore
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._client._legacy_store import LegacyFallbackStore
from earthscope_sdk_async.testing import FakeEarthScope

T = TypeVar("T")


def test_constructor_does_no_io(fake_earthscope: FakeEarthScope) -> None:
    home = Path.home()
    client = AsyncEarthScopeClient(fake_earthscope.settings())
    assert isinstance(client.store, LegacyFallbackStore)
    assert client.store.primary.path == home / ".earthscope" / "default" / "tokens.json"
    assert list(home.iterdir()) == []  # no directory, token file or lock file
    assert fake_earthscope.requests == []
    assert "Bearer" not in repr(client)


async def test_use_after_aclose_raises(fake_earthscope: FakeEarthScope) -> None:
    client = AsyncEarthScopeClient(
        fake_earthscope.settings(), store=MemoryTokenStore(fake_earthscope.issue_tokens())
    )
    async with client:
        await client.user.get_profile()
    await client.aclose()  # idempotent
    with pytest.raises(ClientClosedError):
        await client.user.get_profile()
    with pytest.raises(ClientClosedError):
        await client.user.get_aws_credentials(role="s3-miniseed-v2")
    with pytest.raises(ClientClosedError):
        _ = client.http
    with pytest.raises(ClientClosedError):
        async with client:
            pass
    assert fake_earthscope.count("profile") == 1


async def test_own_http_client_is_not_closed(fake_earthscope: FakeEarthScope) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        client = AsyncEarthScopeClient(
            fake_earthscope.settings(),
            store=MemoryTokenStore(fake_earthscope.issue_tokens()),
            http_client=http,
        )
        async with client:
            assert client.http is http
        assert not http.is_closed


def run_in_each_loop(func: Callable[[], Awaitable[T]]) -> list[T]:
    """Run ``func`` under asyncio.run, asyncio.run again, then trio.run."""
    return [asyncio.run(func()), asyncio.run(func()), trio.run(func)]  # type: ignore[arg-type]


def test_a_new_client_in_each_event_loop(fake_earthscope: FakeEarthScope) -> None:
    store = MemoryTokenStore(fake_earthscope.issue_tokens())

    async def use() -> str:
        async with AsyncEarthScopeClient(fake_earthscope.settings(), store=store) as client:
            return str((await client.user.get_profile())["user_id"])

    assert run_in_each_loop(use) == ["auth0|fake-user"] * 3
    assert fake_earthscope.count("profile") == 3


def test_one_client_used_from_several_event_loops(fake_earthscope: FakeEarthScope) -> None:
    client = AsyncEarthScopeClient(
        fake_earthscope.settings(), store=MemoryTokenStore(fake_earthscope.issue_tokens())
    )
    pools = []

    async def use() -> None:
        await client.user.get_profile()
        await client.user.lookup_anon(ids=["x"])  # reuses this loop's pool
        pools.append(client.http)

    run_in_each_loop(use)
    # one pool per loop, each closed by its own loop when it ended
    assert len({id(p) for p in pools}) == 3
    assert all(p.is_closed for p in pools)

    async def close() -> None:
        await client.aclose()

    trio.run(close)
    assert fake_earthscope.count("profile") == 3


async def test_aclose_closes_the_pool_of_this_loop(fake_earthscope: FakeEarthScope) -> None:
    client = AsyncEarthScopeClient(
        fake_earthscope.settings(), store=MemoryTokenStore(fake_earthscope.issue_tokens())
    )
    await client.user.get_profile()
    pool = client.http
    await client.aclose()
    assert pool.is_closed
