"""bench_transfer: the SDK against bare httpx, aiohttp, httpx-aiohttp and curl, cold.

Every run is a fresh process (``transfer_client.py``) with a cold pool; variants take turns
within each round (the order rotates from round to round), so background load hits them
all alike. Reported: the median over rounds, the spread (min-max), and the SDK's ratio to
the yardstick, taken round by round (median of the per-round ratios). Wall times are
measured inside the client process from the first request to the last byte on disk; curl's
is its whole process (start-up included, a few ms). Two servers, each in its own process:

- ``independent``: ``transfer_server.py`` (aiohttp.web, RS256 signature check per request);
- ``fake``: the SDK's own fake (``python -m earthscope_sdk_async.testing serve``).

Workloads: ``W256`` 500 x 256 KiB, 50 ms latency per file, C=32; ``W16`` 2,000 x 16 KiB,
20 ms, C=128; ``API`` 3,000 GETs of a small JSON document, C=64 (req/s); ``BIG`` one 2 GiB
file (MiB/s, and the client's RSS growth). Files are written under a temp dir and deleted
after each run. Targets (issue 15): files <= 1.2x aiohttp's wall time on asyncio and <= 1.1x
bare httpx on trio; API >= 0.8x aiohttp's req/s; 2 GiB >= aiohttp's MiB/s (goal 0.8x curl),
RSS growth < 64 MiB.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import Result

__all__ = ["run"]

HERE = Path(__file__).resolve().parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
M2M_CLIENT = ("fake-m2m-client", "fake-m2m-secret")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Workload:
    """One row of issue 15's table."""

    name: str
    kind: str  # files, api, big
    count: int
    size: int
    latency: float
    concurrency: int
    variants: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.kind == "api":
            return f"{self.count:,} API GETs, C={self.concurrency}"
        if self.kind == "big":
            return f"one {self.size // 2**30} GiB file"
        size = f"{self.size // 1024} KiB"
        return f"{self.count:,} x {size}, {self.latency * 1000:.0f} ms, C={self.concurrency}"


FILES_VARIANTS = (
    "sdk",
    "sdk-httpcore",
    "aiohttp",
    "httpx-aiohttp",
    "httpx",
    "curl",
    "sdk-trio",
    "httpx-trio",
)
WORKLOADS = (
    Workload("W256", "files", 500, 256 * 1024, 0.05, 32, FILES_VARIANTS),
    Workload("W16", "files", 2000, 16 * 1024, 0.02, 128, FILES_VARIANTS),
    Workload(
        "API",
        "api",
        3000,
        0,
        0.0,
        64,
        ("sdk", "sdk-httpcore", "aiohttp", "httpx-aiohttp", "httpx", "sdk-trio", "httpx-trio"),
    ),
    Workload("BIG", "big", 1, 2 * 1024**3, 0.0, 1, ("sdk", "aiohttp", "httpx", "curl")),
)


# -- servers ------------------------------------------------------------------------------------


@contextmanager
def _process(command: list[str]) -> Iterator[str]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"{command[1]} did not start (printed {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def independent_server(work: Workload, tmp: Path) -> Iterator[tuple[str, list[str], str, str]]:
    """(base URL, file URLs or the API URL, warm-up URL, token file)."""
    token = tmp / "token"
    command = [sys.executable, str(HERE / "transfer_server.py"), "--latency", str(work.latency)]
    with _process([*command, "--token-file", str(token)]) as base:
        if work.kind == "api":
            urls = [f"{base}api/item"]
        else:
            urls = [f"{base}files/{work.size}/f{i:05d}.bin" for i in range(work.count)]
        yield base, urls, f"{base}api/item", str(token)


@contextmanager
def fake_server(work: Workload, tmp: Path) -> Iterator[tuple[str, list[str], str, str]]:
    """The SDK's fake serving the workload's files; a client-credentials token."""
    command = [sys.executable, "-m", "earthscope_sdk_async.testing", "serve", "--port", "0"]
    command += ["--latency", str(work.latency), "--access-token-lifetime", "14400"]
    names = [] if work.kind == "api" else [f"f{i:05d}.bin" for i in range(work.count)]
    for name in names:
        command += ["--file", f"{name}:{work.size}"]
    with _process(command) as base:
        token = tmp / "token"
        token.write_text(_fake_token(base))
        urls = [f"{base}beta/user/profile"] if work.kind == "api" else []
        urls += [f"{base}files/{name}" for name in names]
        yield base, urls, f"{base}beta/user/profile", str(token)


def _fake_token(base: str) -> str:
    import anyio

    from earthscope_sdk_async import AsyncEarthScopeClient, MemoryTokenStore, Settings

    client_id, secret = M2M_CLIENT
    settings = Settings(domain=base, api_url=base, client_id=client_id, client_secret=secret)

    async def fetch() -> str:
        async with AsyncEarthScopeClient(settings, store=MemoryTokenStore()) as client:
            return await client.get_access_token()

    return anyio.run(fetch)


SERVERS = {"independent": independent_server, "fake": fake_server}


# -- one run ------------------------------------------------------------------------------------


def _curl(work: Workload, urls: list[str], token: str, dest: Path) -> dict[str, float]:
    curl = shutil.which("curl")
    if curl is None:
        raise RuntimeError("curl is not installed")
    dest.mkdir(parents=True)
    headers = dest.parent / "curl-headers"
    headers.write_text(f"Authorization: Bearer {Path(token).read_text().strip()}\n")
    config = dest.parent / "curl-config"
    config.write_text(
        "".join(f'url = "{url}"\noutput = "{dest / url.rsplit("/", 1)[-1]}"\n' for url in urls)
    )
    command = [curl, "-s", "--no-progress-meter", "-f", "-H", f"@{headers}", "-K", str(config)]
    if len(urls) > 1:
        command[1:1] = ["--parallel", "--parallel-max", str(work.concurrency)]
    started = time.perf_counter()
    done = subprocess.run(
        command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wall = time.perf_counter() - started
    saved = sum(p.stat().st_size for p in dest.iterdir())
    failures = 0 if done.returncode == 0 and saved == work.size * len(urls) else 1
    return {"wall": wall, "failures": failures, "bytes": saved}


def _one(
    variant: str, work: Workload, server: tuple[str, list[str], str, str], tmp: Path
) -> dict[str, float]:
    base, urls, warmup, token = server
    dest = tmp / f"run-{variant}"
    try:
        if variant == "curl":
            return _curl(work, urls, token, dest)
        listing = tmp / "urls"
        listing.write_text("\n".join(urls))
        spec = {
            "variant": variant,
            "kind": work.kind,
            "urls": str(listing),
            "token": token,
            "concurrency": work.concurrency,
            "dest": str(dest),
            "base": base,
            "count": work.count,
            "warmup": warmup,
        }
        done = subprocess.run(
            [sys.executable, str(HERE / "transfer_client.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{variant} on {work.name} failed:\n{done.stderr[-2000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(dest, ignore_errors=True)


Runs = dict[str, list[dict[str, float]]]


def measure(server_name: str, work: Workload, rounds: int = ROUNDS) -> Runs:
    """Every variant ``rounds`` times, interleaved, against a fresh server."""
    runs: Runs = {v: [] for v in work.variants}
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as name:
        tmp = Path(name)
        with SERVERS[server_name](work, tmp) as server:
            for r in range(rounds):
                order = list(work.variants)
                order = order[r % len(order) :] + order[: r % len(order)]
                for variant in order:
                    runs[variant].append(_one(variant, work, server, tmp))
                    print(
                        f"  {server_name} {work.name} round {r + 1} {variant}: {runs[variant][-1]}",
                        flush=True,
                    )
    return runs


# -- figures ------------------------------------------------------------------------------------


def _figure(work: Workload, run: dict[str, float]) -> float:
    """Seconds for files, req/s for the API, MiB/s for the big file."""
    if work.kind == "api":
        return work.count / run["wall"]
    if work.kind == "big":
        return work.size / MIB / run["wall"]
    return run["wall"]


def _unit(work: Workload) -> str:
    return {"api": "req/s", "big": "MiB/s"}.get(work.kind, "s")


def _ratio(work: Workload, runs: Runs, ours: str, theirs: str) -> float:
    """Median of the per-round ratios ``ours / theirs`` (wall time, or throughput)."""
    pairs = zip(runs[ours], runs[theirs], strict=True)
    return statistics.median(_figure(work, a) / _figure(work, b) for a, b in pairs)


def _target(work: Workload, variant: str) -> tuple[str, str, float, bool] | None:
    """(yardstick, target text, bound, lower is better) for a variant of the SDK."""
    if work.kind == "files" and variant == "sdk":
        return "aiohttp", "<= 1.20x aiohttp (wall)", 1.2, True
    if work.kind == "files" and variant == "sdk-trio":
        return "httpx-trio", "<= 1.10x bare httpx on trio (wall)", 1.1, True
    if work.kind == "api" and variant == "sdk":
        return "aiohttp", ">= 0.80x aiohttp (req/s)", 0.8, False
    if work.kind == "big" and variant == "sdk":
        return "aiohttp", ">= 1.00x aiohttp (MiB/s)", 1.0, False
    return None


def rows(server_name: str, work: Workload, runs: Runs) -> list[Result]:
    """One row per variant, plus the targets."""
    out: list[Result] = []
    for variant in work.variants:
        values = [_figure(work, run) for run in runs[variant]]
        failures = sum(int(run.get("failures", 0)) for run in runs[variant])
        note = f"min {min(values):.3g}, max {max(values):.3g}, n={len(values)}"
        if failures:
            note += f", {failures} failed items"
        cpu = [run["cpu"] for run in runs[variant] if "cpu" in run]
        if cpu:
            note += f", client CPU {statistics.median(cpu):.2f} s"
        if work.kind == "big" and "rss_growth_mib" in runs[variant][0]:
            rss = max(run["rss_growth_mib"] for run in runs[variant])
            note += f", RSS growth max {rss:.0f} MiB"
        measure = f"{server_name} · {work.label} · {variant}"
        out.append(Result(measure, statistics.median(values), _unit(work), note=note))
        target = _target(work, variant)
        if target is None:
            continue
        theirs, text, bound, lower = target
        ratio = _ratio(work, runs, variant, theirs)
        ratio_of = "wall" if work.kind == "files" else _unit(work)
        out.append(
            Result(
                f"{server_name} · {work.label} · {variant} / {theirs} ({ratio_of})",
                ratio,
                "x",
                text,
                (lambda v, b=bound: v <= b) if lower else (lambda v, b=bound: v >= b),
                "median of per-round ratios",
            )
        )
    if work.kind == "big":
        out += _big_extra(server_name, work, runs)
    return out


def _big_extra(server_name: str, work: Workload, runs: Runs) -> list[Result]:
    out = []
    rss = max(run["rss_growth_mib"] for run in runs["sdk"])
    out.append(
        Result(
            f"{server_name} · {work.label} · sdk RSS growth (max over rounds)",
            rss,
            "MiB",
            "< 64 MiB",
            lambda v: v < 64,
        )
    )
    if "curl" in runs:
        out.append(
            Result(
                f"{server_name} · {work.label} · sdk / curl (MiB/s)",
                _ratio(work, runs, "sdk", "curl"),
                "x",
                "goal >= 0.80x curl",
                lambda v: v >= 0.8,
                "median of per-round ratios",
            )
        )
    return out


def run(
    servers: tuple[str, ...] = ("independent", "fake"), only: str | None = None
) -> list[Result]:
    """Every workload on every server."""
    results: list[Result] = []
    for server_name in servers:
        for work in WORKLOADS:
            if only and work.name != only:
                continue
            print(f"bench_transfer: {server_name} {work.name}", flush=True)
            results += rows(server_name, work, measure(server_name, work))
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", action="append", choices=sorted(SERVERS))
    parser.add_argument("--only", choices=[w.name for w in WORKLOADS])
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    from run import table

    lines = table(run(tuple(args.server or SERVERS), args.only))
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")
