"""bench_download: bulk downloads against the fake EarthScope in a separate process.

The fake runs with ``serve --latency 0.05`` (50 ms before every file response) and serves
``FILES`` generated files of ``FILE_SIZE`` bytes plus one of ``BIG_SIZE`` bytes, on loopback.

- Batch: the ``FILES`` files with ``client.download(concurrency=32)`` (asyncio), against the
  original SDK README's approach, a sequential ``requests.get(url, headers={"authorization":
  "Bearer ..."})`` loop writing each ``r.content`` (run once: it takes ~30 s), and against a
  minimal hand-written ``httpx.AsyncClient`` + anyio task group (32 workers, no auth flow:
  a static bearer header, which the fake requires; each file streamed to disk with
  blocking writes). The SDK and hand-written variants are warmed
  up (their pools hold open connections), then alternate over ``ROUNDS`` rounds, each into
  a fresh directory (the SDK skips existing files); medians are reported.
- One ``BIG_SIZE`` file, downloaded by a child process (so that its peak RSS is its own):
  ``ru_maxrss`` after a warm-up download and after the big one gives the peak RSS growth;
  the throughput is compared with ``curl -s -o FILE -H @headers`` on the same URL (the
  token in a header file, not on the command line). Files go to a temp dir under /tmp and
  are deleted right after each download.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
from _common import Result, median

from earthscope_sdk_async import AsyncEarthScopeClient, MemoryTokenStore, Settings

__all__ = ["run"]

FILES = 500
FILE_SIZE = 256 * 1024
BIG_SIZE = 2 * 1024**3
BIG = "big.bin"
LATENCY = 0.05
CONCURRENCY = 32
ROUNDS = 3
WARMUP = 64
TARGET_SPEEDUP = 10.0
TARGET_RATIO = 1.10
TARGET_RSS_MIB = 64.0
TARGET_CURL = 0.80
M2M_CLIENT = ("fake-m2m-client", "fake-m2m-secret")  # the fake's default machine client


def _name(i: int) -> str:
    return f"f{i:04d}.bin"


@contextmanager
def fake_server_process() -> Iterator[str]:
    """The fake in its own process, with latency and the files; yields its base URL."""
    command = [sys.executable, "-m", "earthscope_sdk_async.testing", "serve", "--port", "0"]
    command += ["--latency", str(LATENCY), "--file", f"{BIG}:{BIG_SIZE}"]
    for i in range(FILES + WARMUP):
        command += ["--file", f"{_name(i)}:{FILE_SIZE}"]
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


def _client(url: str) -> AsyncEarthScopeClient:
    client_id, secret = M2M_CLIENT
    settings = Settings(domain=url, api_url=url, client_id=client_id, client_secret=secret)
    return AsyncEarthScopeClient(settings, store=MemoryTokenStore())


def _urls(url: str, start: int, count: int) -> list[str]:
    return [f"{url}files/{_name(i)}" for i in range(start, start + count)]


# -- the batch -------------------------------------------------------------------------------


async def _sdk(client: AsyncEarthScopeClient, urls: list[str], dest: Path) -> None:
    report = await client.download(urls, dest, concurrency=CONCURRENCY)
    report.raise_for_failures()


async def _hand_written(http: httpx.AsyncClient, urls: list[str], dest: Path) -> None:
    todo = list(reversed(urls))

    async def worker() -> None:
        while todo:
            url = todo.pop()
            async with http.stream("GET", url) as response:
                response.raise_for_status()
                with open(dest / url.rsplit("/", 1)[-1], "wb") as out:  # noqa: ASYNC230
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)

    await anyio.Path(dest).mkdir()
    async with anyio.create_task_group() as group:
        for _ in range(CONCURRENCY):
            group.start_soon(worker)


def _check(dest: Path, count: int) -> None:
    sizes = [p.stat().st_size for p in dest.iterdir()]
    if len(sizes) != count or set(sizes) != {FILE_SIZE}:
        raise RuntimeError(f"{dest}: expected {count} files of {FILE_SIZE} bytes")


Timings = dict[str, list[tuple[float, float]]]
"""Per variant, per round: (wall seconds, client CPU seconds incl. its threads)."""


async def _batch(url: str, work: Path) -> tuple[Timings, str]:
    times: Timings = {"sdk": [], "hand": []}
    async with _client(url) as client:
        token = await client.get_access_token()
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            await _rounds(client, http, url, work, times)
    return times, token


async def _rounds(
    client: AsyncEarthScopeClient,
    http: httpx.AsyncClient,
    url: str,
    work: Path,
    times: Timings,
) -> None:
    urls = _urls(url, WARMUP, FILES)
    await _sdk(client, _urls(url, 0, WARMUP), work / "warm-sdk")
    await _hand_written(http, _urls(url, 0, WARMUP), work / "warm-hand")
    for round_ in range(ROUNDS):
        for name in ("sdk", "hand") if round_ % 2 == 0 else ("hand", "sdk"):
            dest = work / f"{name}-{round_}"
            started, cpu = time.perf_counter(), time.process_time()
            if name == "sdk":
                await _sdk(client, urls, dest)
            else:
                await _hand_written(http, urls, dest)
            times[name].append((time.perf_counter() - started, time.process_time() - cpu))
            _check(dest, FILES)
            shutil.rmtree(dest)


def _sequential(url: str, token: str, dest: Path) -> tuple[float, str]:
    """The README's loop; ``requests`` if installed, else the same with ``httpx.get``."""
    try:
        import requests

        get, label = requests.get, "requests.get"
    except ImportError:  # pragma: no cover - depends on the environment
        get, label = httpx.get, "httpx.get (requests is not installed)"
    dest.mkdir()
    started = time.perf_counter()
    for file_url in _urls(url, WARMUP, FILES):
        response = get(file_url, headers={"authorization": f"Bearer {token}"})
        response.raise_for_status()
        (dest / file_url.rsplit("/", 1)[-1]).write_bytes(response.content)
    elapsed = time.perf_counter() - started
    _check(dest, FILES)
    shutil.rmtree(dest)
    return elapsed, label


# -- the big file ----------------------------------------------------------------------------


async def _child_download(url: str, dest: Path) -> dict[str, float]:
    async with _client(url) as client:
        await client.download(_urls(url, 0, 1), dest / "warm")  # imports, pool, threads
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = await client.download([f"{url}files/{BIG}"], dest)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report.raise_for_failures()
    size = (dest / BIG).stat().st_size
    (dest / BIG).unlink()
    if size != BIG_SIZE:
        raise RuntimeError(f"the big file has {size} bytes, not {BIG_SIZE}")
    return {"seconds": elapsed, "rss_growth_kib": after - before, "rss_before_kib": before}


def _big_with_sdk(url: str, work: Path) -> dict[str, float]:
    dest = work / "big-sdk"
    command = [sys.executable, __file__, "--child", url, str(dest)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _big_with_curl(url: str, token: str, work: Path) -> float:
    curl = shutil.which("curl")
    if curl is None:
        raise RuntimeError("curl is not installed (apt-get install curl)")
    headers = work / "headers.txt"
    headers.write_text(f"Authorization: Bearer {token}\n")
    headers.chmod(0o600)
    target = work / "big-curl.bin"
    started = time.perf_counter()
    command = [curl, "-s", "-f", "-o", str(target), "-H", f"@{headers}", f"{url}files/{BIG}"]
    subprocess.run(command, check=True)
    elapsed = time.perf_counter() - started
    size = target.stat().st_size
    target.unlink()
    if size != BIG_SIZE:
        raise RuntimeError(f"curl saved {size} bytes, not {BIG_SIZE}")
    return elapsed


# -- rows ------------------------------------------------------------------------------------


def _batch_rows(times: Timings, sequential: float, label: str) -> list[Result]:
    sdk, hand = (median([wall for wall, _ in times[k]]) for k in ("sdk", "hand"))
    rounds = {
        k: ", ".join(f"{wall:.2f}" for wall, _ in values)
        + "; client CPU "
        + ", ".join(f"{cpu:.2f}" for _, cpu in values)
        + " s"
        for k, values in times.items()
    }
    what = f"{FILES} files x {FILE_SIZE // 1024} KiB, {LATENCY * 1000:.0f} ms latency"
    return [
        Result(f"sequential {label} loop ({what})", sequential, "s", note="one run"),
        Result(
            f"client.download(concurrency={CONCURRENCY}) ({what})",
            sdk,
            "s",
            note=f"rounds: {rounds['sdk']}",
        ),
        Result(
            "speed-up of client.download over the sequential loop",
            sequential / sdk,
            "x",
            f">= {TARGET_SPEEDUP:.0f}x",
            lambda v: v >= TARGET_SPEEDUP,
        ),
        Result(
            f"hand-written httpx.AsyncClient + anyio, {CONCURRENCY} workers, no auth",
            hand,
            "s",
            note=f"rounds: {rounds['hand']}",
        ),
        Result(
            "time ratio client.download / hand-written",
            sdk / hand,
            "",
            f"<= {TARGET_RATIO}",
            lambda v: v <= TARGET_RATIO,
            f"median of {ROUNDS} alternating rounds",
        ),
    ]


def _big_rows(sdk: dict[str, float], curl: float) -> list[Result]:
    mib = BIG_SIZE / 1024**2
    ours, theirs = mib / sdk["seconds"], mib / curl
    return [
        Result(
            f"peak RSS growth downloading {BIG_SIZE // 1024**3} GiB",
            sdk["rss_growth_kib"] / 1024,
            "MiB",
            f"< {TARGET_RSS_MIB:.0f} MiB",
            lambda v: v < TARGET_RSS_MIB,
            f"ru_maxrss (peak) of a child process: {sdk['rss_before_kib'] / 1024:.0f} MiB "
            "after a warm-up download",
        ),
        Result("client.download throughput, one big file", ours, "MiB/s"),
        Result("curl throughput, same URL", theirs, "MiB/s"),
        Result(
            "throughput ratio client.download / curl",
            ours / theirs,
            "",
            f">= {TARGET_CURL}",
            lambda v: v >= TARGET_CURL,
            "one run each; both limited by the fake server (a Python process)",
        ),
    ]


def run() -> list[Result]:
    """Run the benchmark; returns its result rows."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="bench-download-") as tmp:
        work = Path(tmp)
        with fake_server_process() as url:
            times, token = anyio.run(_batch, url, work, backend="asyncio")
            sequential, label = _sequential(url, token, work / "sequential")
            curl = _big_with_curl(url, token, work)
            sdk = _big_with_sdk(url, work)
    return _batch_rows(times, sequential, label) + _big_rows(sdk, curl)


def _child(url: str, dest: str) -> None:
    result = anyio.run(_child_download, url, Path(dest), backend="asyncio")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        for row in run():
            print(row)
