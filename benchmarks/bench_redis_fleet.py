"""Token-endpoint requests per hour for a fleet of 8 machines x 50 tasks, with and without
a shared RedisTokenStore.

Usage: ``python benchmarks/bench_redis_fleet.py [--seconds 5] [--json]``. Needs redis-py and
either ``ES_TEST_REDIS_URL`` (a running server) or ``redis-server`` on PATH (started here on a
free port, without persistence, and stopped afterwards).

Method: the fake EarthScope issues 1-second access tokens; every process ("machine") runs a
TokenManager with ``refresh_leeway = 0.3`` and 50 tasks calling ``get_access_token()`` every
50 ms, for a few seconds. A token is renewed once per *period* (lifetime - leeway = 0.7 s),
so we count token-endpoint POSTs per period and scale to an hour of real tokens (lifetime
3600 s, leeway 60 s: one period = 3540 s). Without a shared store each machine keeps its
tokens in memory (its own login, for the device flow: sharing one rotating refresh token
without a lock gets the family revoked: the last scenario shows it), so each machine renews
on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from earthscope_sdk_async import Settings
from earthscope_sdk_async.testing import FakeEarthScope

HERE = Path(__file__).resolve().parent
WORKER = HERE.parent / "tests" / "_redis_worker.py"
PROCESSES, TASKS = 8, 50
LIFETIME, LEEWAY = 1.0, 0.3
REAL_LIFETIME, REAL_LEEWAY = 3600.0, 60.0
METHOD = __doc__.split("Method: ", 1)[1].strip()


# -- a Redis to use --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """ES_TEST_REDIS_URL, or a throwaway redis-server."""
    given = os.environ.get("ES_TEST_REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("set ES_TEST_REDIS_URL or install redis-server (apt install redis-server)")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="es-bench-redis-") as directory:
        args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", directory]
        proc = subprocess.Popen(
            [*args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait(10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise SystemExit("redis-server did not start")


def _redis_commands(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


# -- one scenario ----------------------------------------------------------------------------


def _settings_dict(settings: Settings) -> dict[str, Any]:
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values["allowed_hosts"] = list(settings.allowed_hosts)
    return values


def _fleet(
    fake: FakeEarthScope,
    machine: bool,
    redis_url: str | None,
    seconds: float,
    *,
    same: bool = False,
) -> dict[str, Any]:
    make = fake.machine_settings if machine else fake.settings
    settings = _settings_dict(make(refresh_leeway=LEEWAY))
    key = f"bench:{uuid.uuid4().hex}"
    procs = []
    common_seed = fake.issue_tokens().to_json()
    for number in range(PROCESSES):
        config: dict[str, Any] = {"mode": "fleet", "redis_url": redis_url, "key": key}
        config |= {"settings": settings, "tasks": TASKS, "duration": seconds, "api_every": None}
        config["backend"] = "asyncio" if number % 2 == 0 else "trio"
        if not machine and (redis_url is None or number == 0):
            config["seed"] = common_seed if same else fake.issue_tokens().to_json()
        procs.append(_start(config))
    if not machine and redis_url is not None:
        _seed_redis(redis_url, key, procs[0][1])
    for proc, _ in procs:
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"worker failed: {proc.communicate()[1]}")
    before = fake.count("token"), _redis_commands(redis_url) if redis_url else 0
    started = time.monotonic()
    for proc, _ in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [
        json.loads(proc.communicate(timeout=seconds + 60)[0].splitlines()[-1]) for proc, _ in procs
    ]
    elapsed = time.monotonic() - started
    token_posts = fake.count("token") - before[0]
    periods = elapsed / (LIFETIME - LEEWAY)
    per_period = token_posts / periods
    return {
        "token_requests": token_posts,
        "seconds": round(elapsed, 2),
        "periods": round(periods, 2),
        "token_requests_per_period": round(per_period, 2),
        "token_requests_per_hour_measured": round(token_posts / elapsed * 3600),
        "token_requests_per_hour_real_tokens": round(
            per_period * 3600 / (REAL_LIFETIME - REAL_LEEWAY), 2
        ),
        "get_access_token_calls": sum(r["calls"] for r in results),
        "errors": sum(r["store_errors"] + len(r["other_errors"]) for r in results),
        "redis_commands": _redis_commands(redis_url) - before[1] if redis_url else 0,
        "reuse_detections": fake.reuse_detections,
    }


def _start(config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, config


def _seed_redis(url: str, key: str, config: dict[str, Any]) -> None:
    import anyio

    from earthscope_sdk_async import Tokens
    from earthscope_sdk_async._stores import RedisTokenStore

    store = RedisTokenStore(url, key=key)
    try:
        anyio.run(store.save, Tokens.from_json(config["seed"]))
    finally:
        store.close()


# -- entry points ----------------------------------------------------------------------------


def run(seconds: float = 5.0) -> dict[str, Any]:
    """Run the five scenarios; returns a dict with the method and one entry per scenario."""
    scenarios: dict[str, Any] = {}
    with redis_server() as url:
        for machine in (False, True):
            for shared in (False, True):
                name = (
                    f"{'machine' if machine else 'device'}-{'redis' if shared else 'per-process'}"
                )
                with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
                    scenarios[name] = _fleet(fake, machine, url if shared else None, seconds)
        with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
            scenarios["device-one-token-no-lock"] = _fleet(fake, False, None, seconds, same=True)
    return {
        "fleet": f"{PROCESSES} processes x {TASKS} tasks",
        "method": METHOD,
        "scenarios": scenarios,
    }


def results() -> list[Any]:
    """The numbers as rows for benchmarks/run.py (``_common.Result``)."""
    from _common import Result

    rows = []
    for name, values in run()["scenarios"].items():
        if name.endswith("no-lock"):
            rows.append(
                Result(f"{name}: reuse detections", values["reuse_detections"], "detections")
            )
            continue
        shared = name.endswith("redis")
        rows.append(
            Result(
                f"{name}: token requests per token period, 8x50 workers",
                values["token_requests_per_period"],
                "requests",
                target="<= 1.2" if shared else None,
                check=(lambda v: v <= 1.2) if shared else None,
                note=f"~{values['token_requests_per_hour_real_tokens']}/h with 1 h tokens",
            )
        )
    return rows


def main() -> None:
    """Print the scenarios as a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.seconds)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Fleet: {report['fleet']}\n\nMethod: {report['method']}\n")
    header = f"{'scenario':<24}{'POSTs':>7}{'/period':>9}{'/hour (1 s tokens)':>20}"
    print(header + f"{'/hour (1 h tokens)':>20}{'redis cmds':>12}{'errors':>8}{'reuse':>7}")
    for name, v in report["scenarios"].items():
        print(
            f"{name:<24}{v['token_requests']:>7}{v['token_requests_per_period']:>9}"
            f"{v['token_requests_per_hour_measured']:>20}{v['token_requests_per_hour_real_tokens']:>20}"
            f"{v['redis_commands']:>12}{v['errors']:>8}{v['reuse_detections']:>7}"
        )


if __name__ == "__main__":
    main()
