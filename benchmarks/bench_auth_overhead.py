"""bench_auth_overhead: throughput through EarthScopeAuth vs a static bearer header.

The fake EarthScope runs as a separate process (``python -m earthscope_sdk_async.testing
serve``) so that client and server do not share a GIL. Each variant sends ``REQUESTS`` GETs
of ``beta/user/profile`` with ``concurrency`` workers pulling from a shared counter, on one
``httpx.AsyncClient`` (asyncio) with ``max_connections = concurrency``:

- ``auth``: ``httpx.AsyncClient(auth=EarthScopeAuth(manager))`` (token fresh in memory);
- ``bare``: ``httpx.AsyncClient(headers={"Authorization": "Bearer ..."})`` (same token).

Both clients are warmed up, then the variants alternate over ``ROUNDS`` rounds (the order
flipping each round); each variant's median req/s is reported.

Pool pinning: httpcore's connection pool does O(open connections x pending requests) work per
request, and left alone the number of open connections drifts between runs (bursts open
connections, 5 s keep-alive expiry closes them), which made req/s jump between ~300 and
~1000 from one round to the next. The warm-up therefore opens exactly ``concurrency``
connections (all requests held open at once) and keep-alive expiry is raised so they stay
open: both variants then run on an identical pool and rounds agree within a few percent.

At concurrency 64 that pool work dominates (~5 ms of client CPU per request), so the same
pair is also run at concurrency 8 (~0.5 ms per request), where the SDK's share is ~10x
larger; on a small shared VM its rounds still vary by +-25%, so that wall-clock ratio is for
context only. The last rows time the auth flow itself without I/O (precise to ~0.1 µs) and
derive the ratio it implies at concurrency 8.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import anyio
import httpx
from _common import Result, median

from earthscope_sdk_async import EarthScopeAuth, Settings, TokenManager, Tokens

__all__ = ["run"]

REQUESTS = 5_000
CONCURRENCY = 64
CONTEXT_CONCURRENCY = 8  # a lighter pool: the SDK's share of each request is larger
WARMUP = 500
ROUNDS = 3
FLOW_CALLS = 50_000
TARGET_RATIO = 0.95
PATH = "beta/user/profile"
M2M_CLIENT = ("fake-m2m-client", "fake-m2m-secret")  # the fake's default machine client


@contextmanager
def fake_server_process() -> Iterator[str]:
    """Run the fake in its own process; yields its base URL."""
    command = [sys.executable, "-m", "earthscope_sdk_async.testing", "serve", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the fake server did not start (printed {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _open_connections(client: httpx.AsyncClient) -> int | None:
    """Connections in the client's pool (httpcore internals; ``None`` if they moved)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    connections = getattr(pool, "connections", None)
    return None if connections is None else len(connections)


async def _pin_pool(client: httpx.AsyncClient, concurrency: int) -> None:
    """Open exactly ``concurrency`` connections: hold that many responses open at once."""
    all_in = anyio.Event()
    inside = 0

    async def hold() -> None:
        nonlocal inside
        async with client.stream("GET", PATH) as response:
            await response.aread()
            inside += 1
            if inside == concurrency:
                all_in.set()
            await all_in.wait()

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(hold)


async def _load(client: httpx.AsyncClient, requests: int, concurrency: int) -> tuple[float, float]:
    """Send ``requests`` GETs with ``concurrency`` workers; returns (req/s, client CPU µs/req)."""
    left = requests
    failures = 0

    async def worker() -> None:
        nonlocal left, failures
        while left > 0:
            left -= 1
            response = await client.get(PATH)
            failures += response.status_code != 200

    started, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        raise RuntimeError(f"{failures} of {requests} requests did not answer 200")
    return requests / elapsed, cpu / requests * 1e6


def _clients(
    url: str, manager: TokenManager, token: str, concurrency: int
) -> dict[str, httpx.AsyncClient]:
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=600
    )
    return {
        "bare": httpx.AsyncClient(
            base_url=url, limits=limits, headers={"Authorization": f"Bearer {token}"}
        ),
        "auth": httpx.AsyncClient(base_url=url, limits=limits, auth=EarthScopeAuth(manager)),
    }


async def _measure(url: str, concurrency: int) -> dict[str, list[tuple[float, float]]]:
    client_id, secret = M2M_CLIENT
    settings = Settings(domain=url, api_url=url, client_id=client_id, client_secret=secret)
    manager = TokenManager(settings)
    token = await manager.get_access_token()  # client credentials, once
    clients = _clients(url, manager, token, concurrency)
    rates: dict[str, list[tuple[float, float]]] = {"bare": [], "auth": []}
    async with clients["bare"], clients["auth"]:
        for client in clients.values():
            await _pin_pool(client, concurrency)
            await _load(client, WARMUP, concurrency)
        for round_ in range(ROUNDS):
            order = ["bare", "auth"] if round_ % 2 == 0 else ["auth", "bare"]
            for name in order:
                rates[name].append(await _load(clients[name], REQUESTS, concurrency))
        for name, client in clients.items():
            opened = _open_connections(client)
            if opened not in (None, concurrency):
                raise RuntimeError(f"{name}: {opened} connections open, not {concurrency}")
    return rates


def measure(url: str, concurrency: int = CONCURRENCY) -> dict[str, list[tuple[float, float]]]:
    """Measure against a running fake at ``url``; per variant, per round: (req/s, CPU µs/req)."""
    return anyio.run(_measure, url, concurrency, backend="asyncio")


async def _flow_cost(auth: httpx.Auth, calls: int) -> float:
    """µs per request to run ``auth``'s flow to completion (no I/O: a canned 200)."""
    request = httpx.Request("GET", "http://127.0.0.1/" + PATH)
    response = httpx.Response(200, request=request)
    started = time.perf_counter()
    for _ in range(calls):
        flow = auth.async_auth_flow(request)
        await flow.__anext__()
        try:  # noqa: SIM105 - cheaper than contextlib.suppress in a timed loop
            await flow.asend(response)
        except StopAsyncIteration:
            pass
    return (time.perf_counter() - started) / calls * 1e6


async def _flow_costs() -> tuple[float, float]:
    manager = TokenManager(Settings(domain="http://127.0.0.1/", api_url="http://127.0.0.1/"))
    await manager.save(_fresh_tokens())
    auth, noop = EarthScopeAuth(manager), httpx.Auth()
    await _flow_cost(auth, 10_000)  # warm-up
    ours = median([await _flow_cost(auth, FLOW_CALLS) for _ in range(5)])
    base = median([await _flow_cost(noop, FLOW_CALLS) for _ in range(5)])
    return ours, base


def _fresh_tokens() -> Tokens:
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    return Tokens(access_token="bench-access", refresh_token="bench-refresh", expires_at=expires)


def _rows(
    rates: dict[str, list[tuple[float, float]]], concurrency: int, *, target: bool
) -> list[Result]:
    rps = {name: [r for r, _ in values] for name, values in rates.items()}
    cpu = {name: median([c for _, c in values]) for name, values in rates.items()}
    rounds = {name: ", ".join(f"{v:.0f}" for v in values) for name, values in rps.items()}
    bare, auth = median(rps["bare"]), median(rps["auth"])
    where = f"concurrency {concurrency}"
    ratio_note = f"median of {ROUNDS} alternating rounds of {REQUESTS:,} GETs"
    return [
        Result(
            f"bare client, static Bearer header ({where})",
            bare,
            "req/s",
            note=f"rounds: {rounds['bare']}; client CPU {cpu['bare']:.0f} µs/req",
        ),
        Result(
            f"client with EarthScopeAuth ({where})",
            auth,
            "req/s",
            note=f"rounds: {rounds['auth']}; client CPU {cpu['auth']:.0f} µs/req",
        ),
        Result(
            f"ratio auth / bare ({where})",
            auth / bare,
            "",
            f">= {TARGET_RATIO}" if target else None,
            (lambda v: v >= TARGET_RATIO) if target else None,
            ratio_note if target else f"{ratio_note}; for context",
        ),
        Result(
            f"client CPU ratio bare / auth ({where})",
            cpu["bare"] / cpu["auth"],
            "",
            note="CPU µs per request, medians; less sensitive to other processes than req/s",
        ),
    ]


def _flow_rows(ours: float, base: float, cpu_per_request: float) -> list[Result]:
    extra = ours - base
    return [
        Result("EarthScopeAuth flow, per request (no I/O)", ours, "µs", note="fresh token"),
        Result("httpx.Auth() no-op flow, per request (no I/O)", base, "µs"),
        Result(
            f"expected ratio at concurrency {CONTEXT_CONCURRENCY} from the flow cost",
            cpu_per_request / (cpu_per_request + extra),
            "",
            note=f"{extra:.1f} µs extra on a bare request's {cpu_per_request:.0f} µs of CPU",
        ),
    ]


def run() -> list[Result]:
    """Run the benchmark; returns its result rows."""
    with fake_server_process() as url:
        main = measure(url, CONCURRENCY)
        light = measure(url, CONTEXT_CONCURRENCY)
    ours, base = anyio.run(_flow_costs, backend="asyncio")
    light_cpu = median([c for _, c in light["bare"]])
    return [
        *_rows(main, CONCURRENCY, target=True),
        *_rows(light, CONTEXT_CONCURRENCY, target=False),
        *_flow_rows(ours, base, light_cpu),
    ]
