"""A worker process ("machine") for tests/test_redis_fleet.py and the fleet benchmark.

Usage::

    python tests/_redis_worker.py CONFIG_JSON

CONFIG_JSON holds ``mode``, ``redis_url`` (``null``: no shared store, a MemoryTokenStore per
process, for the benchmark's baseline), ``key``, ``settings`` (Settings fields), ``backend``
(``asyncio``/``trio``) and, per mode, ``tasks``, ``duration``, ``api_every``, ``lease``,
``lock_timeout``, ``socket_timeout``, ``seed`` (tokens JSON for a memory store).

Modes:

* ``fleet``: ``tasks`` concurrent tasks call ``get_access_token()`` in a loop for ``duration``
  seconds, and every ``api_every`` seconds send a request to ``beta/user/profile`` through
  ``EarthScopeAuth``; store errors are counted and retried after a short pause.
* ``get-token``: one ``get_access_token()``.
* ``refresh-once``: one forced refresh.

The worker builds its manager, loads the store, prints ``ready`` and waits for one line on
stdin (the "go" signal), runs, closes the store and prints one JSON line. Tokens are only
ever reported by fingerprint.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

import anyio
import httpx

from earthscope_sdk_async import EarthScopeAuth, Settings, TokenManager, Tokens, TokenStoreError
from earthscope_sdk_async._stores import MemoryTokenStore, RedisTokenStore, TokenStore
from earthscope_sdk_async._tokens import fingerprint

PACE = 0.05  # seconds between two get_access_token() calls of one task
ERROR_PAUSE = 0.05  # seconds a task waits after a store error


class Stats:
    """What one worker saw."""

    def __init__(self) -> None:
        self.calls = 0
        self.requests = 0
        self.failed_requests = 0
        self.unauthorized = 0  # 401s for a revoked or unknown token: never expected
        self.expired_401 = 0  # 401s for a token that expired in flight (a slow, loaded machine)
        self.store_errors = 0
        self.non_retryable_store_errors = 0
        self.store_error_samples: set[str] = set()
        self.other_errors: list[str] = []
        self.max_call = 0.0
        self.last_ok = 0.0
        self.fingerprints: set[str] = set()

    def store_error(self, exc: TokenStoreError) -> None:
        self.store_errors += 1
        self.non_retryable_store_errors += not exc.retryable
        self.store_error_samples.add(f"retryable={exc.retryable}: {exc}"[:300])

    def as_dict(self) -> dict[str, Any]:
        values = dict(vars(self))
        values["fingerprints"] = sorted(self.fingerprints)
        values["store_error_samples"] = sorted(self.store_error_samples)[:10]
        return values


def _store(config: dict[str, Any]) -> TokenStore:
    if config.get("redis_url") is None:
        seed = config.get("seed")
        return MemoryTokenStore(Tokens.from_json(seed) if seed else None)
    return RedisTokenStore(
        config["redis_url"],
        key=config["key"],
        lease=config.get("lease", 10.0),
        lock_timeout=config.get("lock_timeout", 30.0),
        socket_timeout=config.get("socket_timeout", 5.0),
    )


async def _call(manager: TokenManager, stats: Stats) -> str | None:
    started = time.monotonic()
    try:
        token = await manager.get_access_token()
    except TokenStoreError as exc:
        stats.store_error(exc)
        return None
    except Exception as exc:
        stats.other_errors.append(f"{type(exc).__name__}: {exc}"[:200])
        return None
    finally:
        stats.max_call = max(stats.max_call, time.monotonic() - started)
    stats.calls += 1
    stats.last_ok = time.time()
    stats.fingerprints.add(fingerprint(token))
    return token


async def _request(http: httpx.AsyncClient, url: str, stats: Stats) -> None:
    stats.requests += 1
    try:
        response = await http.get(url)
    except TokenStoreError as exc:  # the token could not be renewed (Redis down)
        stats.store_error(exc)
        return
    except Exception as exc:
        stats.failed_requests += 1
        stats.other_errors.append(f"request: {type(exc).__name__}: {exc}"[:200])
        return
    if response.status_code != 200:
        stats.failed_requests += 1


async def _task(
    manager: TokenManager, http: httpx.AsyncClient, config: dict[str, Any], stats: Stats
) -> None:
    url = manager.settings.api_url + "beta/user/profile"
    end = anyio.current_time() + config["duration"]
    api_every = config.get("api_every")
    next_api = anyio.current_time() + random.uniform(0, api_every or 0)
    await anyio.sleep(random.uniform(0, PACE))
    while anyio.current_time() < end:
        if await _call(manager, stats) is None:
            await anyio.sleep(ERROR_PAUSE)
            continue
        if api_every and anyio.current_time() >= next_api:
            next_api += api_every
            await _request(http, url, stats)
        await anyio.sleep(PACE)


async def _fleet(manager: TokenManager, config: dict[str, Any]) -> dict[str, Any]:
    stats = Stats()

    async def count_401(response: httpx.Response) -> None:
        if response.status_code == 401:
            expired = "expired" in response.headers.get("www-authenticate", "")
            stats.expired_401 += expired
            stats.unauthorized += not expired

    auth = EarthScopeAuth(manager)
    hooks = {"response": [count_401]}
    async with (
        httpx.AsyncClient(auth=auth, event_hooks=hooks) as http,
        anyio.create_task_group() as group,
    ):
        for _ in range(config["tasks"]):
            group.start_soon(_task, manager, http, config, stats)
    return stats.as_dict()


async def _run(manager: TokenManager, config: dict[str, Any]) -> dict[str, Any]:
    try:
        mode = config["mode"]
        if mode == "fleet":
            return await _fleet(manager, config)
        if mode == "get-token":
            return {"fingerprint": fingerprint(await manager.get_access_token())}
        if mode == "refresh-once":
            return {"fingerprint": fingerprint((await manager.refresh(force=True)).access_token)}
        raise SystemExit(f"unknown mode {mode!r}")
    finally:
        if isinstance(manager.store, RedisTokenStore):
            await manager.store.aclose()


async def _setup(config: dict[str, Any]) -> TokenManager:
    manager = TokenManager(Settings(**config["settings"]), store=_store(config))
    await manager.load()
    return manager


def main(argv: list[str]) -> int:
    config = json.loads(argv[0])
    backend = config.get("backend", "asyncio")
    manager = anyio.run(_setup, config, backend=backend)
    print("ready", flush=True)
    if not sys.stdin.readline():  # EOF: the parent gave up before "go"
        return 3
    result = anyio.run(_run, manager, config, backend=backend)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
