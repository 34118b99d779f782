"""A fleet of worker processes sharing tokens through RedisTokenStore (C35, C36, C37).

Each worker process (``tests/_redis_worker.py``) stands in for one machine: its own
TokenManager on its own RedisTokenStore, many concurrent tasks, against the FakeEarthScope of
this process (refresh-token rotation and reuse detection on) with 1-second access tokens.

Verdicts do not depend on how fast the machine is: the fleet runs until the server has issued
enough tokens (a condition, not a duration), and the assertions are about behaviour: no token
renewed before the one it replaces was due, no refresh token reused, no rejected token sent
again, no token believed to live longer than the server gave it, and a request fails only when
its token expired in flight twice (a machine starved for longer than the leeway: how often that
happens is a figure in ``benchmarks/bench_stress.py``, not a pass/fail test).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
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
from _workers import mark as _mark
from _workers import spawn as _start
from _workers import stop as _stop
from _workers import wait_any_line as _wait_any_line
from _workers import wait_for as _wait_for
from _workers import wait_line as _wait_line
from _workers import wait_ready as _wait_ready

from earthscope_sdk_async import Settings, Tokens
from earthscope_sdk_async._stores import RedisTokenStore
from earthscope_sdk_async._tokens import decode_jwt_claims, fingerprint
from earthscope_sdk_async.testing import FakeEarthScope

require_client(module=True)

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    # A hang guard only (each wait below has its own): spawning 8 workers alone can take
    # 10 s on a loaded 2-core machine.
    pytest.mark.timeout(600),
]

WORKER = Path(__file__).with_name("_redis_worker.py")
LIFETIME = 1.0  # access token lifetime, seconds
LEEWAY = 0.3  # refresh this long before expiry
PROCESSES = 8
TASKS = 50
ISSUED = 3  # the fleet runs until the server has issued this many tokens (>= 2 renewals each)
CLOCKS = 0.002  # seconds: converting the server's monotonic times to wall time


# -- helpers ---------------------------------------------------------------------------------


def _settings_dict(settings: Settings) -> dict[str, Any]:
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values["allowed_hosts"] = list(settings.allowed_hosts)
    return values


def _spawn(procs: list[Any], settings: Settings, **config: Any) -> Any:
    config["settings"] = _settings_dict(settings)
    proc = _start([sys.executable, str(WORKER), json.dumps(config)])
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


def _jti(token: str) -> str:
    claims = decode_jwt_claims(token)
    assert claims is not None
    return str(claims["jti"])


def _server_expiries(fake: FakeEarthScope) -> dict[str, float]:
    """Each access token the fake issued (by ``jti``) -> when it really expires, wall time."""
    offset = time.time() - time.monotonic()
    records = fake._authority._access.items()  # the fake's own books: the ground truth
    return {jti: record.expires_at + offset for jti, record in records}


def _run_fleet(
    procs: list[Any], fake: FakeEarthScope, settings: Settings, issued: Any, **config: Any
) -> list[dict[str, Any]]:
    """Run the fleet until ``issued()`` (tokens the server issued) reaches ``ISSUED``."""
    backends = ["asyncio", "trio"] * (PROCESSES // 2)
    for backend in backends:
        _spawn(procs, settings, mode="fleet", backend=backend, tasks=TASKS, **config)
    _wait_ready(procs)
    fake.clear_log()
    _go(procs)
    _wait_for(lambda: issued() >= ISSUED, f"{ISSUED} tokens issued to the fleet")
    _stop(procs)
    return [_finish(proc) for proc in procs]


def _assert_clean(results: list[dict[str, Any]]) -> None:
    for result in results:
        assert result["other_errors"] == []
        assert result["store_errors"] == 0
        assert result["unauthorized"] == 0  # never a revoked or unknown token sent
        assert result["retry_reused"] == 0  # a 401 retry always carries another token
        # A request fails only when both its attempts were refused as expired: tokens handed
        # out with >= LEEWAY to live that a starved machine delivered later than that.
        assert result["failed_requests"] == result["failed_expired"]
        assert result["calls"] > 0 and result["requests"] > 0


def _assert_tokens_renewed_when_due(
    results: list[dict[str, Any]], expiries: dict[str, float], seed: str | None = None
) -> None:
    """Per token the fleet used: no worker believed it lived longer than the server gave it
    (C21), and its successor was issued only once it was due (one renewal per expiry)."""
    believed: dict[str, float] = {}
    for result in results:
        for jti, expiry in result["believed_expiry"].items():
            if jti != seed:  # the test's own seed, not a token the SDK received
                assert expiry <= expiries[jti] + CLOCKS, "token life overestimated"
            believed[jti] = max(expiry, believed.get(jti, expiry))
    order = sorted(expiries, key=expiries.__getitem__)  # equal lifetimes: issue order
    renewals = 0
    for previous, following in itertools.pairwise(order):
        if previous in believed:
            following_issued = expiries[following] - LIFETIME
            assert following_issued >= believed[previous] - LEEWAY - CLOCKS, "renewed early"
            renewals += 1
    assert renewals >= 1


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
    """8 processes x 50 tasks sharing one user's rotating refresh token: one refresh per
    expiry for the whole fleet, no reuse detection, no failed request but in-flight expiry."""
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        settings = fake.settings(refresh_leeway=LEEWAY)
        seed = fake.issue_tokens()
        _seed(redis_url, redis_key, seed)
        results = _run_fleet(
            workers,
            fake,
            settings,
            lambda: fake.refresh_count,
            redis_url=redis_url,
            key=redis_key,
            duration=None,
            api_every=0.8,
        )
        _assert_clean(results)
        _assert_tokens_renewed_when_due(results, _server_expiries(fake), _jti(seed.access_token))
        assert fake.refresh_count >= ISSUED
        assert fake.reuse_detections == 0
        assert fake.client_credentials_count == 0
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
    token expiry for the whole fleet (the Auth0 M2M quota is spent once, not 8 times)."""
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        settings = fake.machine_settings(refresh_leeway=LEEWAY)
        results = _run_fleet(
            workers,
            fake,
            settings,
            lambda: fake.client_credentials_count,
            redis_url=redis_url,
            key=redis_key,
            duration=None,
            api_every=0.8,
        )
        _assert_clean(results)
        _assert_tokens_renewed_when_due(results, _server_expiries(fake))
        assert fake.client_credentials_count >= ISSUED
        assert fake.refresh_count == 0
        seen = set().union(*(r["fingerprints"] for r in results))
        assert len(seen) <= fake.client_credentials_count


# -- a worker dies holding the lock ----------------------------------------------------------


def test_c36_sigkill_of_the_lock_holder_mid_refresh(
    redis_url: str,  # noqa: F811
    redis_key: str,  # noqa: F811
    workers: list[Any],
    fake_earthscope: FakeEarthScope,
) -> None:
    """The holder is killed while its refresh request hangs: its lease (kept alive while it
    lived) expires, another worker takes over and refreshes from the stored refresh token;
    every worker ends with the same working token and nothing is revoked.

    The others wait with a lock timeout far longer than the test: that they get a token at
    all proves the dead holder's lease ran out (nothing else could free the lock)."""
    import redis

    fake, lease = fake_earthscope, 3.0  # extended every second while the holder lives
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    seeded = fake.issue_tokens().replace(expires_at=past)
    _seed(redis_url, redis_key, seeded)
    fake.add_fault("token", action="pass", delay=300, times=1)  # hold the holder's request
    settings = fake.settings()
    common = {"redis_url": redis_url, "key": redis_key, "lease": lease, "lock_timeout": 300.0}
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
        # Held for longer than one lease: only because the holder kept extending it.
        _wait_for(lambda: time.monotonic() - held_since > 1.5 * lease, "more than a lease")
        assert raw.pttl(f"{redis_key}:lock") > 0
        assert fake.count("token") == 1  # the others wait
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(60) == -signal.SIGKILL
        first, second = (_finish(proc, timeout=120) for proc in others)
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
    """Redis goes away for longer than a token period (and until a worker has run into it),
    then comes back (with its data, or empty for a machine client): workers get retryable
    TokenStoreErrors, never hang, and every one recovers; no refresh token is ever reused."""
    server = own_redis
    with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
        if kind.startswith("device"):
            settings = fake.settings(refresh_leeway=LEEWAY)
            _seed(server.url, "fleet", fake.issue_tokens())
        else:
            settings = fake.machine_settings(refresh_leeway=LEEWAY)
        lock_timeout = 2.0
        config = {"redis_url": server.url, "key": "fleet", "socket_timeout": 0.5}
        config |= {"lock_timeout": lock_timeout, "duration": None, "api_every": 0.5, "tasks": 20}
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
        _wait_any_line(procs, "store-error")  # the outage was seen (a condition, not luck)
        _wait_for(lambda: time.monotonic() - down > 1.5 * LIFETIME, "a token period")
        outage = time.monotonic() - down
        server.start()
        _mark(procs)
        for proc in procs:  # every worker gets a token after the restart
            _wait_line(proc, "ok-after-mark")
        _stop(procs)
        results = [_finish(proc) for proc in procs]
    lease = 10.0  # the worker's RedisTokenStore default: a lock saved with Redis lives on
    for result in results:
        assert result["other_errors"] == []
        assert result["unauthorized"] == 0 and result["retry_reused"] == 0
        assert result["failed_requests"] == result["failed_expired"]
        assert result["non_retryable_store_errors"] == 0, result["store_error_samples"]
        # Never a hang: a call waits for the outage, a saved lock's lease and a lock
        # timeout at most (plus a margin far above any starvation).
        assert result["max_call"] < outage + lease + lock_timeout + 30.0
    assert sum(result["store_errors"] for result in results) > 0
    assert fake.reuse_detections == 0
