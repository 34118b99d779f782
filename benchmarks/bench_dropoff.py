"""bench_dropoff: a 1 GiB dropoff upload to a local S3 server, against boto3's upload_file.

moto runs in server mode in its own process on 127.0.0.1 (authentication off: it stores the
parts and checks nothing, so the server costs both variants the same); the fake EarthScope
runs in another process and hands out the ``s3-dropoff`` credentials (random keys). A file
of ``SIZE`` random bytes is uploaded in ``PART`` parts with ``CONCURRENCY`` parts in flight:

- ``sdk``: ``client.dropoff.put_object(path, part_size=PART, part_concurrency=CONCURRENCY)``
  (CRC64NVME per part and for the whole object, SHA-256 of the object, a resume state file
  written atomically after every part);
- ``boto3``: ``s3.upload_file`` with ``TransferConfig(multipart_chunksize=PART,
  max_concurrency=CONCURRENCY)`` and ``ChecksumAlgorithm="CRC64NVME"`` (the SDK's checksum,
  so that moto, which keeps a full-object copy to check a CRC64NVME, does the same work for
  both; with boto3's default CRC32 moto works less for boto3).

Each upload runs in a child process, so that its memory is its own: after a 12 MiB warm-up
upload (imports, pools and buffers in place) the peak RSS is reset (``/proc/self/clear_refs``)
and the peak RSS growth of the big upload is ``VmHWM`` afterwards minus ``VmRSS`` at the
reset (Linux); the process's absolute peak is shown too, and its CPU time. The variants alternate
over ``ROUNDS`` rounds; medians are reported. The object is deleted after each upload.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import Result, median

__all__ = ["results", "run"]

SIZE = int(os.environ.get("BENCH_DROPOFF_MIB", "1024")) * 1024 * 1024
PART = 10 * 1024 * 1024
CONCURRENCY = 8
ROUNDS = int(os.environ.get("BENCH_DROPOFF_ROUNDS", "3"))
BUCKET = "bench-dropoff"
REGION = "us-east-2"
TARGET_RATIO = 0.9
TARGET_RSS_MIB = 128.0
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _process(command: list[str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_http(url: str) -> None:
    import httpx

    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


def _s3(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> float:
    """Reset the peak RSS (VmHWM) to the current RSS; return the current RSS in MiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def _child(variant: str, endpoint: str, fake: str, path: str, small: str) -> dict[str, float]:
    """Upload ``small`` (warm-up), then ``path``; return seconds and peak RSS growth."""
    if variant == "boto3":
        from boto3.s3.transfer import TransferConfig

        s3 = _s3(endpoint)
        config = TransferConfig(
            multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=CONCURRENCY
        )
        extra = {"ChecksumAlgorithm": "CRC64NVME"}  # the SDK's checksum: equal work for moto
        s3.upload_file(small, BUCKET, "warm", Config=config, ExtraArgs=extra)
        before = _reset_peak()
        started = time.perf_counter()
        s3.upload_file(path, BUCKET, "big", Config=config, ExtraArgs=extra)
        seconds = time.perf_counter() - started
    else:
        import anyio

        from earthscope_sdk_async import (
            AsyncEarthScopeClient,
            DropoffOptions,
            MemoryTokenStore,
            Settings,
        )

        settings = Settings(
            domain=fake,
            api_url=fake,
            client_id="fake-m2m-client",
            client_secret="fake-m2m-secret",  # the fake's default machine client
        )
        options = DropoffOptions(
            bucket=BUCKET,
            endpoint_url=endpoint,
            region=REGION,
            part_size=PART,
            part_concurrency=CONCURRENCY,
            state_dir=Path(path).parent / "state",
        )

        async def upload() -> tuple[float, float]:
            client = AsyncEarthScopeClient(settings, store=MemoryTokenStore(), dropoff=options)
            async with client:
                await client.dropoff.put_object(small, key="warm", category="assembled")
                rss = _reset_peak()
                started = time.perf_counter()
                await client.dropoff.put_object(path, key="big", category="assembled")
                return time.perf_counter() - started, rss

        seconds, before = anyio.run(upload)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = _status_mib("VmHWM")
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "seconds": seconds,
        "rss_growth_mib": peak - before,
        "peak_mib": peak,
    }


def _run_child(variant: str, endpoint: str, fake: str, path: Path, small: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "child", variant, endpoint, fake, str(path), str(small)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} upload failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _empty_bucket(endpoint: str) -> None:
    s3 = _s3(endpoint)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def measure() -> dict[str, list[dict[str, float]]]:
    """Run the rounds; per variant, one result per round."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    fake_cmd = [sys.executable, "-m", "earthscope_sdk_async.testing", "serve", "--port", "0"]
    runs: dict[str, list[dict[str, float]]] = {"sdk": [], "boto3": []}
    with (
        tempfile.TemporaryDirectory(prefix="bench-dropoff-") as tmp,
        _process(moto),
        _process(fake_cmd) as fake_proc,
    ):
        assert fake_proc.stdout is not None
        fake = fake_proc.stdout.readline().strip()
        _wait_http(endpoint + "/moto-api/")
        _s3(endpoint).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        path, small = Path(tmp) / "big.bin", Path(tmp) / "small.bin"
        with path.open("wb") as out:  # small writes: the children inherit no large peak
            for _ in range(SIZE // (4 * 1024 * 1024)):
                out.write(os.urandom(4 * 1024 * 1024))
        small.write_bytes(os.urandom(12 * 1024 * 1024))
        for round_ in range(ROUNDS):
            for variant in ("sdk", "boto3") if round_ % 2 == 0 else ("boto3", "sdk"):
                runs[variant].append(_run_child(variant, endpoint, fake, path, small))
                _empty_bucket(endpoint)
    return runs


def results(runs: dict[str, list[dict[str, float]]]) -> list[Result]:
    """The result rows of ``runs``."""
    mib = SIZE / 1024 / 1024
    rate = {v: [mib / r["seconds"] for r in rs] for v, rs in runs.items()}
    ratios = [s / b for s, b in zip(rate["sdk"], rate["boto3"], strict=True)]
    rss = max(r["rss_growth_mib"] for r in runs["sdk"])
    spread = lambda xs: f"range {min(xs):.0f}-{max(xs):.0f}"  # noqa: E731
    return [
        Result(
            "SDK put_object, 1 GiB, 10 MiB parts, 8 in flight",
            median(rate["sdk"]),
            "MiB/s",
            note=f"median of {ROUNDS}, {spread(rate['sdk'])}",
        ),
        Result(
            "boto3 upload_file, same parts and concurrency",
            median(rate["boto3"]),
            "MiB/s",
            note=f"median of {ROUNDS}, {spread(rate['boto3'])}",
        ),
        Result(
            "SDK / boto3 throughput",
            median(ratios),
            "x",
            f">= {TARGET_RATIO}",
            lambda v: v >= TARGET_RATIO,
            note="per-round ratios " + ", ".join(f"{r:.2f}" for r in ratios),
        ),
        Result(
            "SDK peak RSS growth during the upload",
            rss,
            "MiB",
            f"< {TARGET_RSS_MIB:.0f} MiB",
            lambda v: v < TARGET_RSS_MIB,
            note="worst of the rounds",
        ),
        Result(
            "boto3 peak RSS growth during the upload",
            max(r["rss_growth_mib"] for r in runs["boto3"]),
            "MiB",
            note="for context",
        ),
        Result("SDK CPU time", median([r["cpu_s"] for r in runs["sdk"]]), "s", note="median"),
        Result("boto3 CPU time", median([r["cpu_s"] for r in runs["boto3"]]), "s", note="median"),
        Result("SDK process peak RSS", max(r["peak_mib"] for r in runs["sdk"]), "MiB"),
        Result("boto3 process peak RSS", max(r["peak_mib"] for r in runs["boto3"]), "MiB"),
    ]


def run() -> list[Result]:
    """Measure and return the result rows."""
    return results(measure())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        print(json.dumps(_child(*sys.argv[2:7])))
    else:
        for row in run():
            print(row)
