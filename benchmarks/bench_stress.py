"""How a Redis-backed fleet fares when the machine is starved of CPU: figures, not verdicts.

Usage: ``python benchmarks/bench_stress.py [--seconds 6] [--hogs 0 2] [--rounds 3] [--write]``
(or ``nox -s stress``). Needs redis-py and ``ES_TEST_REDIS_URL`` or ``redis-server`` on PATH.

Method: the fleet of ``tests/test_redis_fleet.py`` (8 processes x 50 tasks of one user, a
shared RedisTokenStore, 1-second access tokens, ``refresh_leeway = 0.3``; every task calls
``get_access_token()`` every 50 ms and sends an API request every 0.8 s) runs for a fixed time
while ``hogs`` extra processes spin on the CPU. Per round we count API requests, requests that
failed (both attempts refused as expired: a token handed out with >= 0.3 s to live that the
starved machine delivered later than that), expired-token 401s that the one retry recovered,
token refreshes per token period, reuse detections (must be 0 whatever the load), and the
slowest ``get_access_token()``. With ``--write`` the table replaces the "Stress" section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
from bench_redis_fleet import _settings_dict, redis_server

from earthscope_sdk_async import Tokens
from earthscope_sdk_async._stores import RedisTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

HERE = Path(__file__).resolve().parent
WORKER = HERE.parent / "tests" / "_redis_worker.py"
RESULTS = HERE / "RESULTS.md"
PROCESSES, TASKS = 8, 50
LIFETIME, LEEWAY = 1.0, 0.3
HOG = "while True: pass"


def _seed(url: str, key: str, tokens: Tokens) -> None:
    store = RedisTokenStore(url, key=key)
    try:
        anyio.run(store.save, tokens)
    finally:
        store.close()


def one_round(redis_url: str, seconds: float, hogs: int) -> dict[str, Any]:
    """Run the fleet for ``seconds`` with ``hogs`` CPU hogs; return the round's figures."""
    spinning = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(hogs)]
    try:
        with FakeEarthScope(access_token_lifetime=LIFETIME) as fake:
            settings = _settings_dict(fake.settings(refresh_leeway=LEEWAY))
            key = f"stress:{uuid.uuid4().hex}"
            _seed(redis_url, key, fake.issue_tokens())
            procs = []
            for number in range(PROCESSES):
                config = {"mode": "fleet", "redis_url": redis_url, "key": key}
                config |= {"settings": settings, "tasks": TASKS, "duration": seconds}
                config |= {"api_every": 0.8, "backend": ("asyncio", "trio")[number % 2]}
                procs.append(
                    subprocess.Popen(
                        [sys.executable, str(WORKER), json.dumps(config)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            for proc in procs:
                if proc.stdout.readline().strip() != "ready":
                    raise SystemExit(f"worker failed: {proc.communicate()[1]}")
            fake.clear_log()
            started = time.monotonic()
            for proc in procs:
                proc.stdin.write("go\n")
                proc.stdin.flush()
            outs = [proc.communicate(timeout=seconds + 120)[0] for proc in procs]
            elapsed = time.monotonic() - started
            results = [json.loads(out.strip().splitlines()[-1]) for out in outs]
            refreshes, reuse = fake.refresh_count, fake.reuse_detections
    finally:
        for hog in spinning:
            hog.kill()
            hog.wait(10)
    requests = sum(r["requests"] for r in results)
    return {
        "requests": requests,
        "requests_per_s": requests / elapsed,
        "failed": sum(r["failed_requests"] for r in results),
        "failed_expired": sum(r["failed_expired"] for r in results),
        "expired_401": sum(r["expired_401"] for r in results),
        "unauthorized": sum(r["unauthorized"] for r in results),
        "refreshes_per_period": refreshes / (elapsed / (LIFETIME - LEEWAY)),
        "reuse_detections": reuse,
        "slowest_call_s": max(r["max_call"] for r in results),
    }


ROWS = [
    ("API requests per second (fleet total)", "requests_per_s", "{:.0f}"),
    ("failed requests (per 1000)", "failed_per_1000", "{:.2f}"),
    ("  of which: both attempts expired in flight", "failed_expired", "{:.0f}"),
    ("expired-token 401s (per 1000 requests)", "expired_per_1000", "{:.1f}"),
    ("401s for a revoked or unknown token", "unauthorized", "{:.0f}"),
    ("token refreshes per token period (ideal: 1)", "refreshes_per_period", "{:.2f}"),
    ("reuse detections", "reuse_detections", "{:.0f}"),
    ("slowest get_access_token() (s)", "slowest_call_s", "{:.2f}"),
]


def _derive(figures: dict[str, Any]) -> dict[str, Any]:
    figures["failed_per_1000"] = 1000 * figures["failed"] / max(1, figures["requests"])
    figures["expired_per_1000"] = 1000 * figures["expired_401"] / max(1, figures["requests"])
    return figures


def table(by_hogs: dict[int, list[dict[str, Any]]]) -> list[str]:
    """Markdown: median (min-max) of each figure over the rounds, per number of hogs."""
    heads = [f"{hogs} CPU hogs" for hogs in by_hogs]
    lines = ["| figure | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for label, name, fmt in ROWS:
        cells = []
        for rounds in by_hogs.values():
            values = [r[name] for r in rounds]
            low, mid, high = min(values), statistics.median(values), max(values)
            cells.append(f"{fmt.format(mid)} ({fmt.format(low)}-{fmt.format(high)})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _write(lines: list[str], rounds: int, seconds: float) -> None:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        "## Stress: a Redis fleet on a starved machine (benchmarks/bench_stress.py)",
        "",
        f"{when}; {platform.platform()}, {os.cpu_count()} logical cores, load average before"
        f" the run {load} (a shared machine: other developers' jobs were running too).",
        f"Median (min-max) of {rounds} rounds of {seconds:g} s each.",
        "",
        *lines,
        "",
        "Figures, not pass/fail: the tests assert the behaviour (no reuse, no early renewal,",
        "a request fails only when its token expired in flight twice), these show how often",
        "in-flight expiry happens when the machine is starved for longer than the 0.3 s leeway.",
        "",
    ]
    text = RESULTS.read_text(encoding="utf-8")
    pattern = re.compile(r"## Stress: .*?(?=\n## |\Z)", re.S)
    block = "\n".join(section)
    text = pattern.sub(block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--hogs", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    by_hogs: dict[int, list[dict[str, Any]]] = {}
    with redis_server() as url:
        for _ in range(args.rounds):
            for hogs in args.hogs:  # alternated: background load drifts over time
                by_hogs.setdefault(hogs, []).append(_derive(one_round(url, args.seconds, hogs)))
    lines = table(by_hogs)
    print("\n".join(lines))
    if args.write:
        _write(lines, args.rounds, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
