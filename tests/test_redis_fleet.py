"""A fleet of worker processes sharing tokens through RedisTokenStore (C35, C36, C37).

Each worker process (``tests/_redis_worker.py``) stands in for one machine: its own
TokenManager on its own RedisTokenStore, many concurrent tasks, against the FakeEarthScope of
this process (refresh-token rotation and reuse detection on) with 1-second access tokens.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from _redis_server import RedisServer, own_redis, redis_key, redis_url, require_client  # noqa: F401
from _workers import finish as _finish
from _workers import go as _go
from _workers import wait_for as _wait_for
from _workers import wait_ready as _wait_ready

from earthscope_sdk_async import Settings, Tokens
from earthscope_sdk_async._stores import RedisTokenStore
from earthscope_sdk_async._tokens import fingerprint
from earthscope_sdk_async.testing import FakeEarthScope

require_client(module=True)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WORKER = Path(__file__).with_name("_redis_worker.py")
LIFETIME = 1.0  # access token lifetime, seconds
LEEWAY = 0.3  # refresh this long before expiry
PERIOD = LIFETIME - LEEWAY  # one refresh per period, for the whole fleet
PROCESSES = 8
TASKS = 50


# -- helpers ---------------------------------------------------------------------------------


def _settings_dict(settings: Settings) -> dict[str, Any]:
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values["allowed_hosts"] = list(settings.allowed_hosts)
    return values


def _spawn(procs: list[Any], settings: Settings, **config: Any) -> Any:
    config["settings"] = _settings_dict(settings)
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    procs.append(proc)
    return proc


def _seed(url: str, key: str, tokens: Tokens) -> None:
    store = RedisTokenStore(url, key=key)
    try:
        anyio.run(store.save, tokens)
    finally:
        store.close()


def _stored(url: str, key: str) -> Tokens | None:
    store = RedisTokenStore(url, key=key)
    try:
        return anyio.run(store.load)
    finally:
        store.close()


def _token_gaps(fake: FakeEarthScope) -> list[float]:
    starts = sorted(r.started for r in fake.requests if r.endpoint == "token")
    return [b - a for a, b in itertools.pairwise(starts)]


def _run_fleet(procs: list[Any], fake: FakeEarthScope, settings: Settings, **config: Any) -> Any:
    backends = ["asyncio", "trio"] * (PROCESSES // 2)
    for backend in backends:
        _spawn(procs, settings, mode="fleet", backend=backend, tasks=TASKS, **config)
    _wait_ready(procs)
    fake.clear_log()
    started = time.monotonic()
    _go(procs)
    results = [_finish(proc) for proc in procs]
    return results, time.monotonic() - started


def _assert_clean(results: list[dict[str, Any]]) -> None:
    for result in results:
        assert result["other_errors"] == []
        assert result["store_errors"] == 0
        assert result["failed_requests"] == 0
        assert result["unauthorized"] == 0  # never a revoked or unknown token sent
        # A token is handed out with >= 0.3 s to live; only a machine starved for longer than
        # that (a loaded 2-core CI box running 8 such processes) sends it late, and the 401
        # retry then succeeds: failed_requests stays 0. Starvation is not an error, but most
        # requests must still go out with a live token.
        assert result["expired_401"] < max(3, result["requests"] // 2)
        assert result["calls"] > 0 and result["requests"] > 0


@pytest.fixture
def workers() -> Iterator[list[Any]]:
    """Popen objects to reap: whatever happens, no worker outlives its test."""
    procs: list[Any] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


# -- the fleet -------------------------------------------------------------------------------


def test_c35_c36_fleet_of_8x50_device_flow_one_refresh_per_expiry(
    redis_url: str,  # noqa: F811
    redis_key: str,  # noqa: F811
    workers: list[Any],
) -> None:
    """8 processes x 50 tasks sharing one user's rotating refresh token: exactly one refresh
    per token period for the whole fleet, no reuse detection, no failed request."""
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        settings = fake.settings(refresh_leeway=LEEWAY)
        _seed(redis_url, redis_key, fake.issue_tokens())
        results, elapsed = _run_fleet(
            workers, fake, settings, redis_url=redis_url, key=redis_key, duration=2.2, api_every=0.8
        )
        _assert_clean(results)
        periods = elapsed / PERIOD
        assert 2 <= fake.refresh_count <= periods + 1, (fake.refresh_count, elapsed)
        assert fake.reuse_detections == 0
        assert fake.client_credentials_count == 0
        assert min(_token_gaps(fake)) > PERIOD / 2  # never two refreshes for one expiry
        seen = set().union(*(r["fingerprints"] for r in results))
        assert len(seen) <= fake.refresh_count + 1  # everyone used the fleet's tokens
        stored = _stored(redis_url, redis_key)
        assert stored is not None and fingerprint(stored.access_token) in seen


def test_c35_c36_fleet_of_8x50_machine_to_machine_one_token_per_expiry(
    redis_url: str,  # noqa: F811
    redis_key: str,  # noqa: F811
    workers: list[Any],
) -> None:
    """8 processes x 50 tasks of one machine client: one client-credentials exchange per
    token period for the whole fleet (the Auth0 M2M quota is spent once, not 8 times)."""
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        settings = fake.machine_settings(refresh_leeway=LEEWAY)
        results, elapsed = _run_fleet(
            workers, fake, settings, redis_url=redis_url, key=redis_key, duration=2.2, api_every=0.8
        )
        _assert_clean(results)
        periods = elapsed / PERIOD
        assert 2 <= fake.client_credentials_count <= periods + 1, elapsed
        assert fake.refresh_count == 0
        assert min(_token_gaps(fake)) > PERIOD / 2


# -- a worker dies holding the lock ----------------------------------------------------------


def test_c36_sigkill_of_the_lock_holder_mid_refresh(
    redis_url: str,  # noqa: F811
    redis_key: str,  # noqa: F811
    workers: list[Any],
    fake_earthscope: FakeEarthScope,
) -> None:
    """The holder is killed while its refresh request hangs: its lease (kept alive while it
    lived) expires, another worker takes over and refreshes from the stored refresh token;
    every worker ends with the same working token and nothing is revoked."""
    import redis

    fake, lease = fake_earthscope, 1.0
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    seeded = fake.issue_tokens().replace(expires_at=past)
    _seed(redis_url, redis_key, seeded)
    fake.add_fault("token", action="pass", delay=30, times=1)  # hold the holder's request
    settings = fake.settings()
    common = {"redis_url": redis_url, "key": redis_key, "lease": lease, "lock_timeout": 15.0}
    holder = _spawn(workers, settings, mode="refresh-once", backend="trio", **common)
    _wait_ready([holder])
    _go([holder])
    _wait_for(lambda: fake.count("token") == 1, "the holder's token request")
    held_since = time.monotonic()
    others = [
        _spawn(workers, settings, mode="get-token", backend=b, **common)
        for b in ("asyncio", "trio")
    ]
    _wait_ready(others)
    _go(others)
    raw = redis.Redis.from_url(redis_url)
    try:
        _wait_for(lambda: time.monotonic() - held_since > 2 * lease, "two leases")
        assert raw.pttl(f"{redis_key}:lock") > 0  # still held: the lease is being extended
        assert fake.count("token") == 1  # the others wait
        os.kill(holder.pid, signal.SIGKILL)
        killed = time.monotonic()
        assert holder.wait(10) == -signal.SIGKILL
        first, second = (_finish(proc) for proc in others)
        assert time.monotonic() - killed < lease + 2.0  # taken over after the lease
    finally:
        raw.close()
    assert (fake.refresh_count, fake.reuse_detections) == (1, 0)
    stored = _stored(redis_url, redis_key)
    assert stored is not None and stored.refresh_token != seeded.refresh_token
    assert first["fingerprint"] == second["fingerprint"] == fingerprint(stored.access_token)
    response = httpx.get(
        fake.api_url + "beta/user/profile",
        headers={"Authorization": f"Bearer {stored.access_token}"},
    )
    assert response.status_code == 200  # a working, unrevoked token


# -- Redis restarts --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["device-persistent", "machine-data-lost"])
def test_c37_redis_restart_mid_run_typed_errors_then_recovery(
    own_redis: RedisServer,  # noqa: F811
    workers: list[Any],
    kind: str,
) -> None:
    """Redis goes away for longer than a token period, then comes back (with its data, or
    empty for a machine client): workers get retryable TokenStoreErrors, never hang, and
    recover; no refresh token is ever reused."""
    server = own_redis
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        if kind.startswith("device"):
            settings = fake.settings(refresh_leeway=LEEWAY)
            _seed(server.url, "fleet", fake.issue_tokens())
        else:
            settings = fake.machine_settings(refresh_leeway=LEEWAY)
        config = {"redis_url": server.url, "key": "fleet", "socket_timeout": 0.5}
        config |= {"lock_timeout": 2.0, "duration": 3.2, "api_every": 0.5, "tasks": 20}
        procs = [
            _spawn(workers, settings, mode="fleet", backend=b, **config)
            for b in ("asyncio", "trio", "asyncio")
        ]
        _wait_ready(procs)
        _go(procs)
        issued = lambda: fake.refresh_count + fake.client_credentials_count  # noqa: E731
        _wait_for(lambda: issued() >= 2, "the fleet to run")
        server.shutdown(save=kind.endswith("persistent"))
        down = time.monotonic()
        _wait_for(lambda: time.monotonic() - down > 1.5 * LIFETIME, "an outage")
        server.start()
        back = time.time()
        results = [_finish(proc) for proc in procs]
    outage = 1.5 * LIFETIME
    for result in results:
        assert result["other_errors"] == []
        assert result["failed_requests"] == 0 and result["unauthorized"] == 0
        assert result["expired_401"] <= max(2, result["requests"] // 50)
        # Each worker saw the outage: as a TokenStoreError, or waiting while a save retried.
        assert result["store_errors"] > 0 or result["max_call"] > outage / 2
        assert result["non_retryable_store_errors"] == 0, result["store_error_samples"]
        assert result["last_ok"] > back  # recovered
        assert result["max_call"] < outage + 2.0 + 1.5  # bounded: outage + lock_timeout + slack
    assert sum(result["store_errors"] for result in results) > 0
    assert fake.reuse_detections == 0
