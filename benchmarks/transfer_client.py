"""One bench_transfer run: one client variant, one workload, in this (fresh) process.

Usage: ``python transfer_client.py SPEC_JSON``; prints one JSON line: ``wall`` (seconds, from
just before the first request to the last byte saved: the pool starts cold), ``cpu``
(process CPU seconds over the same span, threads included), ``failures``, ``bytes``,
``requests`` and, for the big file, ``rss_growth_mib`` (peak RSS after the download minus
RSS before it, after a warm-up request that loaded every module).

SPEC: ``variant`` (see ``VARIANTS``), ``kind`` (``files``, ``api`` or ``big``), ``urls`` (a
file with one URL per line; for ``api`` one URL, requested ``count`` times), ``token`` (a
file), ``concurrency``, ``dest`` (a directory to create), ``base`` (the server's base URL).

The non-SDK variants are what a careful user would write: a task per worker, one shared
pool sized to the concurrency, each body streamed to its file with plain blocking writes.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

Spec = dict[str, Any]


def _rss_mib() -> float:
    with open("/proc/self/statm") as stat:
        return int(stat.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _names(urls: list[str]) -> list[str]:
    return [url.rsplit("/", 1)[-1] for url in urls]


# -- the SDK ----------------------------------------------------------------------------------


def _sdk_client(spec: Spec, backend: str) -> Any:
    from earthscope_sdk_async import AsyncEarthScopeClient, MemoryTokenStore, Settings, Tokens

    token = Path(spec["token"]).read_text().strip()
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    settings = Settings(api_url=spec["base"], domain=spec["base"], http_backend=backend)
    store = MemoryTokenStore(Tokens(access_token=token, expires_at=expires))
    return AsyncEarthScopeClient(settings, store=store)


async def _sdk(spec: Spec, urls: list[str], backend: str) -> dict[str, Any]:
    from earthscope_sdk_async._http._pool import chosen_backend

    if chosen_backend(backend) == "aiohttp":
        # libraries are imported before the clock starts, in every variant (the SDK imports
        # its aiohttp backend when it opens its first pool)
        import earthscope_sdk_async._http._aiohttp_transport  # noqa: F401
    async with _sdk_client(spec, backend) as client:
        if spec["kind"] == "api":
            return await _api_loop(spec, urls[0], lambda url: _sdk_get(client, url))
        if spec["kind"] == "big":
            await client.requester.request("GET", spec["warmup"])
            return await _big(spec, lambda: _sdk_files(client, urls, spec))
        return await _timed(lambda: _sdk_files(client, urls, spec))


async def _sdk_get(client: Any, url: str) -> int:
    response = await client.requester.request("GET", url)
    return len(response.content)


async def _sdk_files(client: Any, urls: list[str], spec: Spec) -> dict[str, Any]:
    report = await client.download(urls, spec["dest"], concurrency=spec["concurrency"])
    return {"failures": len(report.failed), "bytes": report.total_bytes}


# -- httpx (httpcore, or httpx-aiohttp's transport) ----------------------------------------------


def _httpx_client(spec: Spec, transport: str) -> Any:
    import httpx

    token = Path(spec["token"]).read_text().strip()
    limits = httpx.Limits(
        max_connections=spec["concurrency"], max_keepalive_connections=spec["concurrency"]
    )
    kwargs: dict[str, Any] = {"limits": limits}
    if transport == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        kwargs = {"transport": AiohttpTransport(limits=limits)}
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs)


async def _httpx(spec: Spec, urls: list[str], transport: str) -> dict[str, Any]:
    async with _httpx_client(spec, transport) as http:

        async def get(url: str) -> int:
            response = await http.get(url)
            response.raise_for_status()
            return len(response.content)

        async def save(url: str, path: Path) -> int:
            got = 0
            async with http.stream("GET", url) as response:
                response.raise_for_status()
                with open(path, "wb") as out:  # noqa: ASYNC230 - what users write
                    async for chunk in response.aiter_raw():
                        out.write(chunk)
                        got += len(chunk)
            return got

        if spec["kind"] == "api":
            return await _api_loop(spec, urls[0], get)
        if spec["kind"] == "big":
            await get(spec["warmup"])
            return await _big(spec, lambda: _save_all(spec, urls, save))
        return await _timed(lambda: _save_all(spec, urls, save))


# -- aiohttp ------------------------------------------------------------------------------------


async def _aiohttp(spec: Spec, urls: list[str]) -> dict[str, Any]:
    import aiohttp

    token = Path(spec["token"]).read_text().strip()  # noqa: ASYNC240 - before the clock starts
    connector = aiohttp.TCPConnector(limit=spec["concurrency"])
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def get(url: str) -> int:
            async with session.get(url) as response:
                response.raise_for_status()
                return len(await response.read())

        async def save(url: str, path: Path) -> int:
            got = 0
            async with session.get(url) as response:
                response.raise_for_status()
                with open(path, "wb") as out:  # noqa: ASYNC230 - what users write
                    async for chunk in response.content.iter_any():
                        out.write(chunk)
                        got += len(chunk)
            return got

        if spec["kind"] == "api":
            return await _api_loop(spec, urls[0], get)
        if spec["kind"] == "big":
            await get(spec["warmup"])
            return await _big(spec, lambda: _save_all(spec, urls, save))
        return await _timed(lambda: _save_all(spec, urls, save))


# -- shared loops -------------------------------------------------------------------------------


async def _save_all(spec: Spec, urls: list[str], save: Any) -> dict[str, Any]:
    import anyio

    dest = Path(spec["dest"])
    dest.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before the clock starts
    todo = list(zip(reversed(urls), reversed(_names(urls)), strict=True))
    totals = {"failures": 0, "bytes": 0}

    async def worker() -> None:
        while todo:
            url, name = todo.pop()
            try:
                got = await save(url, dest / name)
                totals["bytes"] += got
            except Exception:  # counted, reported
                totals["failures"] += 1

    async with anyio.create_task_group() as group:
        for _ in range(spec["concurrency"]):
            group.start_soon(worker)
    return totals


async def _api_loop(spec: Spec, url: str, get: Any) -> dict[str, Any]:
    import anyio

    left = [spec["count"]]
    totals = {"failures": 0, "bytes": 0}

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            try:
                got = await get(url)
                totals["bytes"] += got
            except Exception:
                totals["failures"] += 1

    async def all_of_them() -> dict[str, Any]:
        async with anyio.create_task_group() as group:
            for _ in range(spec["concurrency"]):
                group.start_soon(worker)
        return totals

    return await _timed(all_of_them)


async def _timed(work: Any) -> dict[str, Any]:
    cpu, started = time.process_time(), time.perf_counter()
    out = dict(await work())
    out["wall"] = time.perf_counter() - started
    out["cpu"] = time.process_time() - cpu
    return out


async def _big(spec: Spec, work: Any) -> dict[str, Any]:
    before = _rss_mib()
    out = await _timed(work)
    out["rss_growth_mib"] = _peak_mib() - before
    return out


VARIANTS = {
    "sdk": ("asyncio", lambda s, u: _sdk(s, u, "auto")),
    "sdk-httpcore": ("asyncio", lambda s, u: _sdk(s, u, "httpcore")),
    "sdk-trio": ("trio", lambda s, u: _sdk(s, u, "auto")),
    "httpx": ("asyncio", lambda s, u: _httpx(s, u, "httpcore")),
    "httpx-trio": ("trio", lambda s, u: _httpx(s, u, "httpcore")),
    "httpx-aiohttp": ("asyncio", lambda s, u: _httpx(s, u, "httpx-aiohttp")),
    "aiohttp": ("asyncio", _aiohttp),
}


def main() -> None:
    import anyio

    spec: Spec = json.loads(sys.argv[1])
    urls = Path(spec["urls"]).read_text().split()
    backend, run = VARIANTS[spec["variant"]]
    out = anyio.run(run, spec, urls, backend=backend)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
