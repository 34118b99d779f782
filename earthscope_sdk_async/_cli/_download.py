"""``earthscope-async download``: many files at once, a progress display, a summary."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._client import AsyncEarthScopeClient, DownloadReport
from .._download import safe_url
from ._errors import DOWNLOAD_FAILED, ERROR, OK, USAGE, CliError, describe, exit_code_for
from ._output import Output, format_bytes, format_duration
from ._progress import progress_display
from ._run import with_client

__all__ = ["do_download", "read_urls", "report_data", "run"]

SHOWN_FAILURES = 20


def _lines(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def read_urls(urls: Sequence[str], from_file: str | None) -> list[str]:
    """The URLs of the command line, then those of ``--from-file`` (``-``: stdin)."""
    found = list(urls)
    if from_file is not None:
        try:
            text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read --from-file {from_file}: {exc}", USAGE) from exc
        found += _lines(text)
    if not found:
        raise CliError("no URLs to download: give URLs, or --from-file FILE", USAGE)
    return found


def report_data(report: DownloadReport, dest: str, elapsed: float) -> dict[str, Any]:
    """The report as JSON-able data (URLs as given, errors as one-line messages)."""
    return {
        "dest": dest,
        "ok": report.ok,
        "downloaded": len(report.downloaded),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "total_bytes": report.total_bytes,
        "elapsed_s": round(elapsed, 3),
        "files": [
            {
                "url": r.url,
                "path": None if r.path is None else str(r.path),
                "status": r.status,
                "bytes": r.bytes,
                "error": None if r.error is None else describe(r.error),
            }
            for r in report
        ],
    }


def _print_summary(ui: Output, report: DownloadReport, elapsed: float) -> None:
    sizes = {s: sum(r.bytes for r in report if r.status == s) for s in ("downloaded", "skipped")}
    rate = report.total_bytes / elapsed if elapsed > 0 else 0.0
    rows = [
        ["downloaded", str(len(report.downloaded)), format_bytes(sizes["downloaded"])],
        ["skipped (already there)", str(len(report.skipped)), format_bytes(sizes["skipped"])],
        ["failed", str(len(report.failed)), "-"],
        ["total", str(len(report)), format_bytes(sizes["downloaded"] + sizes["skipped"])],
    ]
    took = f"in {format_duration(elapsed)}" if elapsed >= 1 else f"in {elapsed:.2f} s"
    title = f"Download summary ({took}, {format_bytes(rate)}/s)"
    ui.table(["files", "count", "size"], rows, title=title, right=(1, 2))
    failed = report.failed
    if failed:
        shown = [[safe_url(r.url), describe(r.error) if r.error else "?"] for r in failed]
        ui.table(["failed URL", "error"], shown[:SHOWN_FAILURES], title="Failures")
        if len(failed) > SHOWN_FAILURES:
            ui.line(f"... and {len(failed) - SHOWN_FAILURES} more (see --json)")


def _exit_code(ui: Output, report: DownloadReport) -> int:
    failed = report.failed
    if not failed:
        return OK
    errors = [r.error for r in failed if r.error is not None]
    codes = {exit_code_for(e) for e in errors}
    if len(failed) == len(report) and len(codes) == 1 and errors and ERROR not in codes:
        ui.note(f"earthscope-async: every download failed: {describe(errors[0])}")
        return codes.pop()
    advice = (
        "; run the same command again to retry them (finished files are skipped, partial "
        "ones resumed)"
        if any(e.retryable for e in errors)
        else " (none of them would succeed by retrying: see the errors above)"
    )
    ui.note(f"earthscope-async: {len(failed)} of {len(report)} downloads failed{advice}")
    return DOWNLOAD_FAILED


async def do_download(
    client: AsyncEarthScopeClient,
    ui: Output,
    urls: Sequence[str],
    dest: str,
    *,
    concurrency: int = 16,
    overwrite: bool = False,
    as_json: bool = False,
    quiet: bool = False,
) -> int:
    """Download ``urls`` into ``dest``, show progress and a summary; return the exit code."""
    started = time.monotonic()
    with progress_display(ui, len(urls), quiet=quiet) as progress:
        report = await client.download(
            urls, dest, concurrency=concurrency, overwrite=overwrite, progress=progress
        )
    elapsed = time.monotonic() - started
    if as_json:
        ui.json(report_data(report, dest, elapsed))
    else:
        _print_summary(ui, report, elapsed)
    return _exit_code(ui, report)


def run(args: argparse.Namespace) -> int:
    """Run ``download``."""
    urls = read_urls(args.urls, args.from_file)
    ui = Output()
    return with_client(
        args,
        lambda c: do_download(
            c,
            ui,
            urls,
            args.dest,
            concurrency=args.concurrency,
            overwrite=args.overwrite,
            as_json=args.json,
            quiet=args.quiet,
        ),
    )
