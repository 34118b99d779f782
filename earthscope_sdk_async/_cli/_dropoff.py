"""``earthscope-async dropoff``: upload files (validated, resumable), list, status, summary."""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._dropoff import (
    DropoffObject,
    UploadBatchError,
    UploadCandidate,
    UploadResult,
    collect_and_validate_files,
)

from ._errors import OK, UPLOAD_FAILED, USAGE, CliError, describe
from ._output import Output, format_bytes, format_duration
from ._progress import progress_display
from ._run import with_client

__all__ = ["run"]

SHOWN = 20


def _destination(prefix: str | None) -> str:
    cleaned = (prefix or "").strip("/")
    return cleaned + "/" if cleaned else "/"


def _candidates(
    paths: Sequence[str], prefix: str | None, category: str, recursive: bool
) -> list[UploadCandidate]:
    found = collect_and_validate_files(list(paths), _destination(prefix), category, recursive)
    return [dataclasses.replace(c, key=c.key.lstrip("/")) for c in found]


def _object_data(obj: DropoffObject) -> dict[str, Any]:
    data = dataclasses.asdict(obj)
    data["received_at"] = obj.received_at.isoformat()
    data["structured_messages"] = list(obj.structured_messages)
    return data


def _upload_data(
    results: Sequence[UploadResult],
    skipped: Sequence[UploadCandidate],
    failed: Sequence[tuple[str, str]],
    elapsed: float,
) -> dict[str, Any]:
    return {
        "ok": not skipped and not failed,
        "uploaded": [dataclasses.asdict(r) for r in results],
        "invalid": [
            {"path": str(c.path), "key": c.key, "error": describe(c.error)}
            for c in skipped
            if c.error
        ],
        "failed": [{"key": k, "error": e} for k, e in failed],
        "total_bytes": sum(r.size for r in results),
        "elapsed_s": round(elapsed, 3),
    }


async def do_upload(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """Validate and upload ``args.paths``; print a summary; return the exit code."""
    candidates = _candidates(args.paths, args.prefix, args.category, args.recursive)
    good = [c for c in candidates if c.ok]
    bad = [c for c in candidates if not c.ok]
    if not candidates:
        raise CliError("no files to upload: the given directories are empty", USAGE)
    for c in bad[:SHOWN]:
        ui.warn(f"not uploaded: {describe(c.error) if c.error else c.path}")
    results: list[UploadResult] = []
    failed: list[tuple[str, str]] = []
    started = time.monotonic()
    if good:
        part_size = args.part_size * 1024 * 1024 if args.part_size else None
        with progress_display(ui, len(good), quiet=args.quiet or args.json, action="upload") as bar:
            try:
                results = await client.dropoff.put_objects(
                    objects=good, category=args.category, part_size=part_size, progress=bar
                )
            except UploadBatchError as exc:
                results = [r for r in exc.results if isinstance(r, UploadResult)]
                failed = [(k, describe(e)) for k, e in exc.failures]
    elapsed = time.monotonic() - started
    if args.json:
        ui.json(_upload_data(results, bad, failed, elapsed))
    else:
        rows = [
            [r.key.split("/", 2)[-1], format_bytes(r.size), (r.sha256 or "")[:16]] for r in results
        ]
        took = format_duration(elapsed) if elapsed >= 1 else f"{elapsed:.2f} s"
        ui.table(
            ["uploaded", "size", "sha256"],
            rows[:SHOWN],
            title=f"Uploaded {len(results)} files in {took}",
        )
        if len(rows) > SHOWN:
            ui.line(f"... and {len(rows) - SHOWN} more (see --json)")
        if failed:
            ui.table(["failed key", "error"], [list(f) for f in failed[:SHOWN]], title="Failures")
    if bad or failed:
        advice = "; run the same command again to resume the failed uploads" if failed else ""
        counts = f"{len(bad)} invalid and {len(failed)} failed of {len(candidates)} files"
        ui.note(f"earthscope-async: {counts}{advice}")
        return UPLOAD_FAILED
    return OK


async def do_list(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """Print every object (all pages) of the category."""
    objects = await client.dropoff.list_all_objects(
        category=args.category, prefix=args.prefix, status=args.status
    )
    if args.json:
        ui.json([_object_data(o) for o in objects])
        return OK
    rows = [
        [o.path, o.status, format_bytes(o.size), o.received_at.isoformat(timespec="seconds")]
        for o in objects
    ]
    ui.table(
        ["key", "status", "size", "received"], rows, title=f"{len(rows)} objects ({args.category})"
    )
    return OK


async def do_status(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """Print every submission of one key, newest first."""
    history = await client.dropoff.get_all_object_history(key=args.key, category=args.category)
    if args.json:
        ui.json([_object_data(o) for o in history])
        return OK
    if not history:
        raise CliError(f"no submission of {args.key!r} in {args.category}", USAGE)
    for obj in history:
        ui.fields(
            [
                ("key", obj.path),
                ("status", obj.status + (f" ({obj.status_message})" if obj.status_message else "")),
                ("received", obj.received_at.isoformat(timespec="seconds")),
                ("size", format_bytes(obj.size)),
                ("sha256", obj.sha256),
            ]
        )
        for message in obj.structured_messages:
            ui.line(f"  - {message}")
        ui.line()
    return OK


async def do_summary(client: AsyncEarthScopeClient, ui: Output, args: argparse.Namespace) -> int:
    """Print the number of objects per status."""
    summary = await client.dropoff.get_summary(category=args.category, prefix=args.prefix)
    counts = [(c.status, c.count) for c in summary.status_counts]
    if args.json:
        ui.json({status: count for status, count in counts})
        return OK
    ui.table(
        ["status", "objects"],
        [[s, str(c)] for s, c in counts],
        title=f"Dropoff summary ({args.category})",
        right=(1,),
    )
    return OK


_ACTIONS = {"upload": do_upload, "list": do_list, "status": do_status, "summary": do_summary}


def run(args: argparse.Namespace) -> int:
    """Run ``dropoff SUBCOMMAND``."""
    action = _ACTIONS.get(args.dropoff_command or "")
    if action is None:
        raise CliError("a dropoff command is required: upload, list, status or summary", USAGE)
    ui = Output()
    return with_client(args, lambda client: action(client, ui, args))
