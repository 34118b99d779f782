"""A worker process ("machine") for tests/test_redis_fleet.py and the fleet benchmark.

Usage::

    python tests/_redis_worker.py CONFIG_JSON

CONFIG_JSON holds ``mode``, ``redis_url`` (``null``: no shared store, a MemoryTokenStore per
process, for the benchmark's baseline), ``key``, ``settings`` (Settings fields), ``backend``
(``asyncio``/``trio``) and, per mode, ``tasks``, ``duration``, ``api_every``, ``lease``,
``lock_timeout``, ``socket_timeout``, ``seed`` (tokens JSON for a memory store).

Modes:

* ``fleet``: ``tasks`` concurrent tasks call ``get_access_token()`` in a loop for ``duration``
  seconds (``null``: until the line ``stop`` arrives on stdin), and every ``api_every``
  seconds send a request to ``beta/user/profile`` through ``EarthScopeAuth``; store errors
  are counted and retried after a short pause. The worker prints ``store-error`` at its
  first store error and ``recovered`` at its first good call after one, so that a test can
  wait for those events instead of guessing how long they take.
* ``get-token``: one ``get_access_token()``.
* ``refresh-once``: one forced refresh.

The worker builds its manager, loads the store, prints ``ready`` and waits for one line on
stdin (the "go" signal), runs, closes the store and prints one JSON line (the last line:
event lines such as ``store-error`` may come before it). Tokens are only
ever reported by fingerprint.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import AsyncGenerator
from typing import Any

import anyio
import httpx

from earthscope_sdk_async import EarthScopeAuth, Settings, TokenManager, Tokens, TokenStoreError
from earthscope_sdk_async._stores import MemoryTokenStore, RedisTokenStore, TokenStore
from earthscope_sdk_async._tokens import decode_jwt_claims, fingerprint

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
        # the expiry this worker's manager believed, per token (JWT ``jti``, not a secret)
        self.believed_expiry: dict[str, float] = {}
        self.failed_expired = 0  # failed requests whose every attempt was refused as expired
        self.retry_reused = 0  # 401 retries sent with the very token that was refused
        self.in_outage = False  # saw a store error, no good call since
        self.marked = False  # the parent asked to hear of the next good call

    def saw(self, manager: TokenManager, token: str) -> None:
        """Record a token this worker used, and the expiry its manager believed."""
        tag = fingerprint(token)
        if tag not in self.fingerprints:
            self.fingerprints.add(tag)
            held = manager.tokens
            jti = (decode_jwt_claims(token) or {}).get("jti")
            if held is not None and held.access_token == token and held.expires_at and jti:
                self.believed_expiry[jti] = held.expires_at.timestamp()

    def store_error(self, exc: TokenStoreError) -> None:
        if not self.store_errors:
            print("store-error", flush=True)
        self.in_outage = True
        self.store_errors += 1
        self.non_retryable_store_errors += not exc.retryable
        self.store_error_samples.add(f"retryable={exc.retryable}: {exc}"[:300])

    def as_dict(self) -> dict[str, Any]:
        values = dict(vars(self))
        del values["in_outage"], values["marked"]
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
    if stats.in_outage:
        stats.in_outage = False
        print("recovered", flush=True)
    if stats.marked:
        stats.marked = False
        print("ok-after-mark", flush=True)
    stats.saw(manager, token)
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


class _Recording(EarthScopeAuth):
    """EarthScopeAuth that checks each 401 retry: it must carry another token than the one
    refused, and a request may fail only when every attempt was refused as expired."""

    def __init__(self, manager: TokenManager, stats: Stats) -> None:
        super().__init__(manager)
        self.stats = stats

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = super().async_auth_flow(request)
        sent = await flow.__anext__()
        refused: list[str] = []
        while True:
            token = sent.headers.get("authorization")
            if token is not None and token in refused:
                self.stats.retry_reused += 1
            if token is not None:  # e.g. a retry's token, renewed after a 401
                self.stats.saw(self.manager, token.removeprefix("Bearer "))
            response = yield sent
            if response.status_code == 401 and token is not None:
                refused.append(token)
            try:
                sent = await flow.asend(response)
            except StopAsyncIteration:
                break
        expired = "expired" in response.headers.get("www-authenticate", "")
        if response.status_code == 401 and expired:
            self.stats.failed_expired += 1


async def _task(
    manager: TokenManager,
    http: httpx.AsyncClient,
    config: dict[str, Any],
    stats: Stats,
    stop: anyio.Event,
) -> None:
    url = manager.settings.api_url + "beta/user/profile"
    duration = config.get("duration")
    end = math.inf if duration is None else anyio.current_time() + duration
    api_every = config.get("api_every")
    next_api = anyio.current_time() + random.uniform(0, api_every or 0)
    await anyio.sleep(random.uniform(0, PACE))
    while anyio.current_time() < end and not stop.is_set():
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

    auth = _Recording(manager, stats)
    hooks = {"response": [count_401]}
    stop = anyio.Event()
    async with (
        httpx.AsyncClient(auth=auth, event_hooks=hooks) as http,
        anyio.create_task_group() as group,
    ):
        if config.get("duration") is None:
            group.start_soon(_wait_for_stop, stop, stats)
        for _ in range(config["tasks"]):
            group.start_soon(_task, manager, http, config, stats, stop)
    return stats.as_dict()


async def _wait_for_stop(stop: anyio.Event, stats: Stats) -> None:
    """Read commands from the parent: ``mark`` (print ``ok-after-mark`` at the next good
    call), ``stop`` or end of input (stop)."""
    while True:
        line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if line.strip() != "mark":
            stop.set()
            return
        stats.marked = True


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
