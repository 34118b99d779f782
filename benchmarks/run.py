"""Run every benchmark and rewrite benchmarks/RESULTS.md.

Usage: ``python benchmarks/run.py`` (or ``nox -s bench``). Options: ``--only NAME`` (repeatable)
runs some benchmarks and prints them without rewriting RESULTS.md; ``--strict`` exits 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import bench_auth_overhead
import bench_cli_startup
import bench_data
import bench_download
import bench_dropoff
import bench_redis_fleet
import bench_s3
import bench_sync_facade
import bench_token_fast_path
import bench_transfer
from _common import Result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BENCHMARKS: dict[str, Callable[[], list[Result]]] = {
    "bench_token_fast_path": bench_token_fast_path.run,
    "bench_auth_overhead": bench_auth_overhead.run,
    "bench_sync_facade": bench_sync_facade.run,
    "bench_cli_startup": bench_cli_startup.results,
    "bench_redis_fleet": bench_redis_fleet.results,
    "bench_download": bench_download.run,
    "bench_transfer": bench_transfer.run,
    "bench_data": bench_data.run,
    "bench_s3": bench_s3.run,
    "bench_dropoff": bench_dropoff.run,
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> list[str]:
    """Lines describing where the numbers were measured."""
    return [
        f"- Platform: {platform.platform()}",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- httpx {_version('httpx')}, anyio {_version('anyio')}, trio {_version('trio')}, "
        f"earthscope-sdk-async {_version('earthscope-sdk-async')}",
        f"- Load average before the run (1, 5, 15 min): {_load()}",
    ]


def _load() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def _value(result: Result) -> str:
    text = f"{result.value:.3f}" if result.value < 10 else f"{result.value:,.0f}"
    return f"{text} {result.unit}".strip()


def table(results: list[Result]) -> list[str]:
    """A markdown table of results."""
    lines = ["| measure | value | target | result | notes |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.measure} | {_value(r)} | {r.target or '-'} | {r.verdict} | {r.note} |")
    return lines


HOW_TO = """\
## How to reproduce

```sh
nox -s bench                 # installs the package (.[testing]) in a fresh venv, then runs
python benchmarks/run.py     # same, in the current environment
python benchmarks/run.py --only bench_token_fast_path   # print only, RESULTS.md untouched
```

Close other CPU-heavy programs first: `bench_auth_overhead` runs the fake server in a second
process, so on a machine with few cores client and server compete for them and the absolute
req/s move with background load; the ratio (variants alternated, median of rounds) is the
number to compare.
"""


def render(sections: dict[str, list[Result]], seconds: float, where: list[str]) -> str:
    """The whole RESULTS.md."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmark results", "", f"Date: {now} (took {seconds:.0f} s)", "", "Machine:", ""]
    lines += where
    for name, results in sections.items():
        doc = (sys.modules[BENCHMARKS[name].__module__].__doc__ or "").strip()
        lines += ["", f"## {name}", "", doc, "", *table(results)]
    lines += ["", HOW_TO]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), default=[])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    where = machine()  # before running: the load average is the background load
    started = time.perf_counter()
    sections: dict[str, list[Result]] = {}
    for name, bench in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", flush=True)
        sections[name] = bench()
        print("\n".join(table(sections[name])), flush=True)
    if not args.only:
        RESULTS.write_text(render(sections, time.perf_counter() - started, where), encoding="utf-8")
        print(f"wrote {RESULTS}")
    failed = any(r.verdict == "FAIL" for results in sections.values() for r in results)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
