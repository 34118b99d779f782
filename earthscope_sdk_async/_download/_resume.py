"""Whether a ``.part`` file left by an earlier run may be resumed, and the validator file
that makes that decision safe.

When a body starts streaming into ``<name>.part``, the ``ETag`` it came with is recorded in
``<name>.part.part`` (written atomically; every file the downloader leaves behind ends in
``.part``, and no item may be named like that). A later run resumes the ``.part`` with that
recorded ETag as ``If-Range``, so a file changed on the server since is answered with a 200
and downloaded again from zero. The validator file is deleted with the ``.part`` (renamed or
discarded).

A ``.part`` without a recorded validator (written by an older version) is only resumed when
a HEAD gives a strong ETag and no ``Last-Modified`` later than the ``.part``'s modification
time; otherwise it is discarded and the file downloaded from zero.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from .._files import check_regular, new_exclusive, remove, write_all
from ._paths import MAX_ETAG, PART_SUFFIX, part_path, validator_path

__all__ = [
    "Resume",
    "drop_part",
    "drop_validator",
    "finish_part",
    "record_validator",
    "resume_point",
]

logger = logging.getLogger(__name__)


def drop_validator(target: Path) -> None:
    """Delete the validator file, if any. Blocking."""
    validator_path(target).unlink(missing_ok=True)


def drop_part(target: Path) -> None:
    """Delete the ``.part`` file and its validator. Blocking."""
    part_path(target).unlink(missing_ok=True)
    drop_validator(target)


def finish_part(target: Path) -> None:
    """Rename the complete ``.part`` to ``target`` and delete its validator. Blocking."""
    check_regular(part_path(target))  # a link is never renamed into place
    part_path(target).replace(target)
    drop_validator(target)


def record_validator(target: Path, etag: str | None, restart: bool) -> None:
    """Record ``etag`` for the ``.part`` about to be written (``None``: forget any). With
    ``restart`` the old ``.part`` is deleted first, so a crash never leaves old bytes next to
    the new validator. Blocking."""
    if restart:
        part_path(target).unlink(missing_ok=True)
    if etag is None or len(etag) > MAX_ETAG or not etag.isascii():
        drop_validator(target)
        return
    final = validator_path(target)
    temp = final.with_name(final.name + PART_SUFFIX)
    try:
        remove(temp)
        fd = new_exclusive(temp)  # never written through a link planted there
        try:
            write_all(fd, etag.encode("ascii"))
        finally:
            os.close(fd)
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Resume:
    """Where to continue: ``offset`` 0 means the ``.part`` must be discarded."""

    offset: int
    etag: str | None = None
    ranges: bool = False


def _strong(etag: str | None) -> bool:
    return bool(etag) and not etag.startswith(("W/", "w/"))  # type: ignore[union-attr]


def _modified_after(response: httpx.Response, mtime: float) -> bool:
    """True when the server's ``Last-Modified`` is later than ``mtime`` (or unreadable)."""
    value = response.headers.get("last-modified")
    if value is None:
        return False
    try:
        return parsedate_to_datetime(value).timestamp() > mtime
    except (TypeError, ValueError, IndexError):
        return True


async def resume_point(
    http: httpx.AsyncClient,
    url: str,
    size: int,
    recorded: str | None,
    mtime: float,
    *,
    auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT,
) -> Resume:
    """Ask the server (HEAD) whether the ``.part`` of ``size`` bytes may be resumed."""
    try:
        response = await http.head(url, auth=auth)
    except httpx.HTTPError:
        response = None
    if response is None or not response.is_success:
        # unknown: a recorded validator still protects the Range (If-Range), else restart
        return Resume(size, recorded, True) if recorded is not None else Resume(0)
    etag = response.headers.get("etag")
    ranges = response.headers.get("accept-ranges", "").lower() == "bytes"
    if recorded is not None:
        if etag is not None and etag != recorded:
            return Resume(0)  # changed on the server since the .part was written
        return Resume(size, recorded, ranges)
    if _strong(etag) and not _modified_after(response, mtime):
        return Resume(size, etag, ranges)
    return Resume(0)
