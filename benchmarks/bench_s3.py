"""bench_s3: s3:// downloads from a real S3 server (moto, its own process) vs boto3 and aioboto3.

Part 1, throughput: ``OBJECTS`` objects of ``SIZE`` bytes, each tool at the same concurrency
(``CONCURRENCY``), in interleaved rounds (the order rotates every round), each round into a
fresh directory:

- ``client.download(["s3://..."], dest, aws_role=..., concurrency=32)`` (ours: credentials
  from the fake EarthScope, minted by moto's STS; every request SigV4-signed);
- boto3: one client shared by a 32-thread pool, ``get_object`` streamed to a file;
- aioboto3: one client, ``asyncio.gather`` under a 32-slot semaphore, ``get_object`` to a file.

Moto checks every signature (auth is on), for all three. Part 2, memory: a child process
lists and mirrors a ``MIRROR``-object prefix with ``client.download``; the peak RSS growth
(``ru_maxrss`` after minus RSS before) must stay under 100 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
from _common import Result, median

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _moto import MotoS3  # noqa: E402

from earthscope_sdk_async import AsyncEarthScopeClient, MemoryTokenStore  # noqa: E402
from earthscope_sdk_async.testing import FakeEarthScope  # noqa: E402

OBJECTS = 500
SIZE = 256 * 1024
CONCURRENCY = 32
ROUNDS = 3
MIRROR = 2_000
BUCKET = "bench"
ROLE = "s3-miniseed-v2"
TARGET_RATIO = 1.0
TARGET_RSS_MB = 100.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """``moto_server`` on 127.0.0.1 in its own process; yields its endpoint."""
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fill(moto: MotoS3) -> list[str]:
    moto.bucket(BUCKET)
    payload = os.urandom(SIZE)
    keys = [f"objects/{i:04d}.bin" for i in range(OBJECTS)]
    mirror = [f"mirror/{i // 200:02d}/{i:05d}.dat" for i in range(MIRROR)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: moto.put(BUCKET, k, payload), keys))
        list(pool.map(lambda k: moto.put(BUCKET, k, k.encode() * 40), mirror))
    return keys


def _check(dest: Path) -> None:
    files = [p for p in dest.rglob("*") if p.is_file()]
    if len(files) != OBJECTS or any(p.stat().st_size != SIZE for p in files):
        raise RuntimeError(f"{dest}: expected {OBJECTS} files of {SIZE} bytes")


async def _ours(client: AsyncEarthScopeClient, keys: list[str], dest: Path) -> None:
    report = await client.download(
        [f"s3://{BUCKET}/{k}" for k in keys], dest, concurrency=CONCURRENCY, aws_role=ROLE
    )
    report.raise_for_failures()


def _boto3(s3: Any, keys: list[str], dest: Path) -> None:
    dest.mkdir(parents=True)

    def one(key: str) -> None:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
        with open(dest / key.rsplit("/", 1)[-1], "wb") as out:
            for chunk in body.iter_chunks(65536):
                out.write(chunk)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, keys))


async def _aioboto3(s3: Any, keys: list[str], dest: Path) -> None:
    dest.mkdir(parents=True)  # noqa: ASYNC240 - once, before the timed transfers
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(key: str) -> None:
        async with slots:
            response = await s3.get_object(Bucket=BUCKET, Key=key)
            with open(dest / key.rsplit("/", 1)[-1], "wb") as out:  # noqa: ASYNC230
                async for chunk in response["Body"].iter_chunks(65536):
                    out.write(chunk)

    await asyncio.gather(*(one(k) for k in keys))


def _client(fake: FakeEarthScope, endpoint: str) -> AsyncEarthScopeClient:
    settings = fake.settings(s3_endpoint_url=endpoint, s3_region="us-east-2")
    return AsyncEarthScopeClient(settings, store=MemoryTokenStore(fake.issue_tokens()))


async def _rounds(fake: FakeEarthScope, moto: MotoS3, keys: list[str], work: Path) -> dict:
    import aioboto3
    import boto3
    from botocore.config import Config

    keys_ = moto.mint(ROLE, {}, 3600)
    config = Config(max_pool_connections=CONCURRENCY)
    common = {"endpoint_url": moto.endpoint, "region_name": moto.region, **keys_}
    s3_sync = boto3.client("s3", config=config, **common)
    times: dict[str, list[float]] = {"ours": [], "boto3": [], "aioboto3": []}
    session = aioboto3.Session()
    async with (
        _client(fake, moto.endpoint) as client,
        session.client("s3", config=config, **common) as s3_async,
    ):
        runners = {
            "ours": lambda d: _ours(client, keys, d),
            "boto3": lambda d: anyio.to_thread.run_sync(_boto3, s3_sync, keys, d),
            "aioboto3": lambda d: _aioboto3(s3_async, keys, d),
        }
        for name, run in runners.items():  # warm-up: connections, imports, credentials
            await run(work / f"warm-{name}")
            shutil.rmtree(work / f"warm-{name}")
        order = list(runners)
        for round_ in range(ROUNDS):
            for name in order[round_ % 3 :] + order[: round_ % 3]:
                dest = work / f"{name}-{round_}"
                started = time.perf_counter()
                await runners[name](dest)
                times[name].append(time.perf_counter() - started)
                _check(dest)
                shutil.rmtree(dest)
    return times


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _mirror_child(endpoint: str, admin: str, dest: str) -> None:
    moto = MotoS3(endpoint, json.loads(admin))
    with FakeEarthScope() as fake:
        fake.aws.minter = moto.mint

        async def main() -> dict[str, float]:
            async with _client(fake, endpoint) as client:
                await client.get_access_token()
                before = _rss_kib()
                started = time.perf_counter()
                report = await client.download(
                    [f"s3://{BUCKET}/mirror/"], dest, concurrency=CONCURRENCY, aws_role=ROLE
                )
                seconds = time.perf_counter() - started
                report.raise_for_failures()
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                return {
                    "files": len(report),
                    "seconds": seconds,
                    "rss_before_kib": before,
                    "rss_growth_kib": peak - before,
                }

        print(json.dumps(anyio.run(main, backend="asyncio")), flush=True)


def _mirror_in_child(moto: MotoS3, work: Path) -> dict[str, float]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--mirror-child",
        moto.endpoint,
        json.dumps(moto.admin_keys),
        str(work / "mirror"),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rows(times: dict[str, list[float]], mirror: dict[str, float]) -> list[Result]:
    mib = OBJECTS * SIZE / 1024**2
    med = {k: median(v) for k, v in times.items()}
    spread = {k: f"rounds {', '.join(f'{x:.2f}' for x in v)} s" for k, v in times.items()}
    best_other = min(med["boto3"], med["aioboto3"])
    what = f"{OBJECTS} x {SIZE // 1024} KiB, concurrency {CONCURRENCY}"
    return [
        Result(f"client.download s3:// ({what})", med["ours"], "s", note=spread["ours"]),
        Result(
            f"boto3 + {CONCURRENCY}-thread pool ({what})", med["boto3"], "s", note=spread["boto3"]
        ),
        Result(f"aioboto3 + gather ({what})", med["aioboto3"], "s", note=spread["aioboto3"]),
        Result("client.download throughput", mib / med["ours"], "MiB/s"),
        Result(
            "time ratio client.download / best of boto3, aioboto3",
            med["ours"] / best_other,
            "",
            f"<= {TARGET_RATIO}",
            lambda v: v <= TARGET_RATIO,
            f"median of {ROUNDS} interleaved rounds each",
        ),
        Result(
            f"list + mirror {int(mirror['files'])} objects: peak RSS growth",
            mirror["rss_growth_kib"] / 1024,
            "MB",
            f"< {TARGET_RSS_MB:.0f} MB",
            lambda v: v < TARGET_RSS_MB,
            f"child process, ru_maxrss minus RSS before ({mirror['rss_before_kib'] / 1024:.0f} "
            f"MiB); took {mirror['seconds']:.1f} s",
        ),
    ]


def run() -> list[Result]:
    """Run the benchmark; returns its result rows."""
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp, moto_process() as endpoint:
        work = Path(tmp)
        moto = MotoS3(endpoint)
        keys = _fill(moto)
        with FakeEarthScope() as fake:
            fake.aws.minter = moto.mint
            times = anyio.run(_rounds, fake, moto, keys, work, backend="asyncio")
        mirror = _mirror_in_child(moto, work)
    return _rows(times, mirror)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--mirror-child":
        _mirror_child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        for row in run():
            print(row)
