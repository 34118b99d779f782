"""RedisTokenStore on a real redis-server: format, encryption, errors, the lock (C36).

Every async test runs on asyncio and trio. The server comes from ES_TEST_REDIS_URL (CI) or is
started here (tests/_redis_server.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from _redis_server import RedisServer, own_redis, redis_key, redis_url, require_client  # noqa: F401

from earthscope_sdk_async import ConfigError, Settings, TokenManager, Tokens, TokenStoreError
from earthscope_sdk_async._stores import RedisTokenStore, TokenStore
from earthscope_sdk_async.testing import FakeEarthScope

require_client(module=True)

TOKENS = Tokens(
    access_token="access-1",
    refresh_token="refresh-1",
    scope="openid offline_access",
    expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
)
FERNET_KEY = "x3Q0x2rJm7yJ9mXb3oQb0s0h8g6i2b1aL5kz7n8fW3Y="
OTHER_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="

MakeStore = Callable[..., RedisTokenStore]


@pytest.fixture
def make_store(redis_url: str, redis_key: str) -> Iterator[MakeStore]:  # noqa: F811
    """Stores on the test's key (by default), all closed at teardown."""
    stores: list[RedisTokenStore] = []

    def make(url: str = redis_url, **options: Any) -> RedisTokenStore:
        options.setdefault("key", redis_key)
        store = RedisTokenStore(url, **options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[Any]:  # noqa: F811
    """A plain (sync) redis-py client to look at what the store wrote."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def dead_port() -> int:
    """A port on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


# -- format ----------------------------------------------------------------------------------


async def test_is_a_token_store_and_round_trips(make_store: MakeStore, raw: Any) -> None:
    store = make_store()
    assert isinstance(store, TokenStore)
    assert await store.load() is None
    await store.save(TOKENS)
    assert raw.get(store.key) == TOKENS.to_json().encode()  # the tokens.json format, as is
    assert await store.load() == TOKENS
    await store.delete()
    assert raw.exists(store.key) == 0
    await store.delete()  # deleting nothing is fine
    assert await store.load() is None


async def test_c36_load_always_reads_redis(make_store: MakeStore) -> None:
    """Another machine's save is visible at the next load: nothing is cached."""
    mine, theirs = make_store(), make_store()
    await mine.save(TOKENS)
    assert await mine.load() == TOKENS
    newer = TOKENS.replace(access_token="access-2", refresh_token="refresh-2")
    await theirs.save(newer)
    assert await mine.load() == newer


def test_repr_and_where_hide_the_password() -> None:
    store = RedisTokenStore("redis://worker:hunter2@cache.example:6380/4", key="k")
    assert store.where == "redis://cache.example:6380/4"
    assert "hunter2" not in repr(store)
    assert repr(store) == "RedisTokenStore('redis://cache.example:6380/4', key='k')"
    assert store.lock_key == "k:lock"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"url": "http://u:hunter2@host"}, "url must look like"),
        ({"key": ""}, "key must be"),
        ({"lease": 0}, "lease"),
        ({"socket_timeout": float("inf")}, "socket_timeout"),
        ({"lock_timeout": -1}, "lock_timeout"),
        ({"encryption_key": "hunter2-not-a-fernet-key"}, "not a Fernet key"),
        ({"encryption_key": []}, "non-empty list"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], needle: str) -> None:
    url = options.pop("url", "redis://127.0.0.1:1/0")
    with pytest.raises(ConfigError, match=needle) as info:
        RedisTokenStore(url, **options)
    assert "hunter2" not in str(info.value)


# -- corrupted values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"refresh_token": "r"}', "not a token set"),
        (b"{\x80\x81}", "not UTF-8"),
        (b"gAAAAABfakefernettoken", "it is encrypted"),
    ],
)
async def test_corrupted_value_names_the_key(
    make_store: MakeStore, raw: Any, value: bytes, problem: str
) -> None:
    store = make_store()
    raw.set(store.key, value)
    with pytest.raises(TokenStoreError, match=problem) as info:
        await store.load()
    assert store.key in str(info.value)
    assert info.value.retryable is False


async def test_a_key_of_the_wrong_type_is_a_store_error(make_store: MakeStore, raw: Any) -> None:
    store = make_store()
    raw.rpush(store.key, "x")
    with pytest.raises(TokenStoreError, match="WRONGTYPE") as info:
        await store.load()
    assert store.key in str(info.value)


# -- encryption ------------------------------------------------------------------------------


async def test_encrypted_value_is_unreadable_without_the_key(
    make_store: MakeStore, raw: Any
) -> None:
    store = make_store(encryption_key=FERNET_KEY)
    assert "encrypted" in repr(store)
    await store.save(TOKENS)
    stored = raw.get(store.key)
    assert b"refresh-1" not in stored and b"access-1" not in stored
    assert await store.load() == TOKENS
    with pytest.raises(TokenStoreError, match="it is encrypted"):
        await make_store().load()
    with pytest.raises(TokenStoreError, match="cannot be decrypted"):
        await make_store(encryption_key=OTHER_KEY).load()


async def test_key_rotation_reads_old_writes_new(make_store: MakeStore) -> None:
    await make_store(encryption_key=FERNET_KEY).save(TOKENS)
    rotated = make_store(encryption_key=[OTHER_KEY, FERNET_KEY])
    assert await rotated.load() == TOKENS  # the old key still decrypts
    await rotated.save(TOKENS)
    assert await make_store(encryption_key=OTHER_KEY).load() == TOKENS  # written with the new
    with pytest.raises(TokenStoreError, match="cannot be decrypted"):
        await make_store(encryption_key=FERNET_KEY).load()


async def test_plain_value_read_with_a_key_is_an_error(make_store: MakeStore) -> None:
    await make_store().save(TOKENS)
    with pytest.raises(TokenStoreError, match="saved unencrypted"):
        await make_store(encryption_key=FERNET_KEY).load()


# -- Redis unavailable -----------------------------------------------------------------------


async def test_connection_refused_is_a_retryable_error_naming_the_host(
    make_store: MakeStore, dead_port: int
) -> None:
    # A socket timeout far longer than the test may take: failing fast must not wait for it.
    store = make_store(f"redis://:hunter2@127.0.0.1:{dead_port}/0", socket_timeout=60.0, lease=0.6)
    started = time.monotonic()
    for operation in (store.load, lambda: store.save(TOKENS), store.delete):
        with pytest.raises(TokenStoreError) as info:
            await operation()
        assert info.value.retryable is True
        assert f"127.0.0.1:{dead_port}" in str(info.value)
        assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)
    with pytest.raises(TokenStoreError, match="unavailable") as info:
        async with store.lock():
            pytest.fail("the lock cannot be held without Redis")
    assert info.value.retryable is True
    assert time.monotonic() - started < 60.0


async def test_a_hung_server_times_out(make_store: MakeStore, silent_port: int) -> None:
    store = make_store(f"redis://127.0.0.1:{silent_port}/0", socket_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TokenStoreError, match="unavailable") as info:
        await store.load()
    assert info.value.retryable is True
    assert 0.25 < time.monotonic() - started < 30.0  # timed out (a hang guard above that)
    with pytest.raises(TokenStoreError, match="moments ago"):  # fails fast right after
        await store.load()


# -- the lock --------------------------------------------------------------------------------


async def test_c36_lock_excludes_other_stores_and_times_out(
    make_store: MakeStore, raw: Any
) -> None:
    holder, other = make_store(), make_store(lock_timeout=0.2)
    async with holder.lock():
        assert raw.exists(holder.lock_key) == 1
        with pytest.raises(TokenStoreError, match=r"timed out after 0\.2 s") as info:
            async with other.lock():
                pytest.fail("two holders at once")
        assert holder.lock_key in str(info.value)
    assert raw.exists(holder.lock_key) == 0
    async with other.lock():  # free again
        pass


async def test_c36_lease_is_extended_while_held(make_store: MakeStore, raw: Any) -> None:
    """A refresh longer than the lease keeps the lock: the lease is extended in the background."""
    # A lease long enough that a starved test process still extends it in time (every 0.67 s)
    holder, other = make_store(lease=2.0), make_store(lock_timeout=0.05)
    async with holder.lock():
        await anyio.sleep(3.0)  # 1.5 leases: the lock survives only if extended
        assert 0 < raw.pttl(holder.lock_key) <= 2000
        with pytest.raises(TokenStoreError, match="timed out"):
            async with other.lock():
                pass
    assert raw.exists(holder.lock_key) == 0


async def test_c36_lock_of_a_dead_holder_expires(make_store: MakeStore, raw: Any) -> None:
    """A lock nobody extends (its holder died) is taken once its lease runs out."""
    store = make_store(lock_timeout=60.0)  # taken at all: the dead holder's lease ran out
    raw.set(store.lock_key, "a-dead-worker", px=400)
    started = time.monotonic()
    async with store.lock():
        waited = time.monotonic() - started
        assert raw.get(store.lock_key) != b"a-dead-worker"
    assert waited > 0.3


async def test_c37_cancelled_waiter_leaves_promptly_and_holds_nothing(
    make_store: MakeStore, raw: Any
) -> None:
    holder, waiter = make_store(), make_store(lock_timeout=300)
    async with holder.lock():
        started = time.monotonic()
        with anyio.move_on_after(0.3) as scope:
            async with waiter.lock():
                pytest.fail("acquired a held lock")
        assert scope.cancelled_caught
        assert time.monotonic() - started < 60.0  # not the 300 s lock timeout
    assert raw.exists(holder.lock_key) == 0  # the waiter did not take it afterwards


async def test_c37_cancelled_holder_releases(make_store: MakeStore, raw: Any) -> None:
    store = make_store()
    with anyio.CancelScope() as scope:
        async with store.lock():
            assert raw.exists(store.lock_key) == 1
            scope.cancel()
            await anyio.sleep(5)
    assert scope.cancelled_caught
    assert raw.exists(store.lock_key) == 0


async def test_c36_lock_released_once_redis_is_back(own_redis: RedisServer) -> None:  # noqa: F811
    """Redis went away while the lock was held (and came back with it, from its dump): the
    release is retried in the background, so the lock is not stuck for a whole lease."""
    import redis

    server = own_redis
    store = RedisTokenStore(server.url, key="k", lease=300.0, socket_timeout=0.5)
    raw_client = redis.Redis.from_url(server.url)
    try:
        async with store.lock():
            server.shutdown(save=True)  # the lock key is saved with its 300 s lease
        server.start()
        assert raw_client.exists("k:lock") == 1
        with anyio.fail_after(60.0):  # far less than the lease
            while raw_client.exists("k:lock"):
                await anyio.sleep(0.02)
    finally:
        raw_client.close()
        store.close()


async def test_c34_save_is_retried_until_redis_is_back(own_redis: RedisServer) -> None:  # noqa: F811
    """A rotated token is not lost to a short outage: save() retries (within 2/3 lease)."""
    server = own_redis
    store = RedisTokenStore(server.url, key="k", lease=120.0, socket_timeout=0.5)
    try:
        await store.save(TOKENS)
        server.shutdown(save=False)
        newer = TOKENS.replace(access_token="access-2", refresh_token="refresh-2")
        async with anyio.create_task_group() as group:
            group.start_soon(store.save, newer)
            await anyio.to_thread.run_sync(time.sleep, 0.5)  # the outage lasts a while
            server.start()
        assert await store.load() == newer
    finally:
        store.close()


async def test_save_gives_up_after_two_thirds_of_the_lease(
    make_store: MakeStore, dead_port: int
) -> None:
    store = make_store(f"redis://127.0.0.1:{dead_port}/0", lease=0.6)
    started = time.monotonic()
    with pytest.raises(TokenStoreError, match="unavailable while saving"):
        await store.save(TOKENS)
    assert 0.35 < time.monotonic() - started < 30.0  # gave up (a hang guard above that)


def test_one_store_serves_several_event_loops_and_threads(make_store: MakeStore) -> None:
    """Not bound to an event loop: asyncio, then trio, then 6 threads on both at once."""
    store = make_store()
    counter = {"value": 0}
    errors: list[BaseException] = []

    async def bump() -> None:
        for _ in range(5):
            async with store.lock():  # read-modify-write is safe only under the lock
                current = await store.load()
                n = 0 if current is None else int(current.access_token.split("-")[1])
                await store.save(TOKENS.replace(access_token=f"access-{n + 1}"))
                counter["value"] += 1

    anyio.run(bump, backend="asyncio")
    anyio.run(bump, backend="trio")

    def worker(backend: str) -> None:
        try:
            anyio.run(bump, backend=backend)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(b,)) for b in ["asyncio", "trio"] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    final = anyio.run(store.load)
    assert final is not None and final.access_token == "access-40" == f"access-{counter['value']}"


async def test_close_then_reuse(make_store: MakeStore) -> None:
    store = make_store()
    await store.save(TOKENS)
    await store.aclose()
    assert await store.load() == TOKENS  # reconnects


# -- with the token manager ------------------------------------------------------------------


async def test_c35_c36_two_machines_one_refresh(
    make_store: MakeStore, fake_earthscope: FakeEarthScope
) -> None:
    """Two managers on two stores (two machines) find the same expired token: one refreshes,
    the other adopts it from Redis."""
    fake = fake_earthscope
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    first = make_store(encryption_key=FERNET_KEY)
    await first.save(fake.issue_tokens().replace(expires_at=past))
    settings: Settings = fake.settings()
    second = make_store(encryption_key=FERNET_KEY)
    managers = [TokenManager(settings, store=first), TokenManager(settings, store=second)]
    for manager in managers:
        await manager.load()
    tokens: list[str] = []

    async def get(manager: TokenManager) -> None:
        tokens.append(await manager.get_access_token())

    async with anyio.create_task_group() as group:
        for manager in managers:
            for _ in range(10):
                group.start_soon(get, manager)
    assert (fake.refresh_count, fake.reuse_detections) == (1, 0)
    assert len(set(tokens)) == 1
    stored = await first.load()
    assert stored is not None and stored.access_token == tokens[0]
