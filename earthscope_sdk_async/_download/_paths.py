"""Where each download goes: ``dest/<last URL segment>`` or ``dest/<given relative path>``.

Names that could escape ``dest`` are rejected (``..`` segments, absolute paths, drive
letters, empty names, a decoded ``/`` in a URL's last segment, or a path that resolves
outside ``dest`` through a symlink), and so are invalid URLs (unparsable, no host, a port
outside 1..65535) and names holding a NUL; the item then fails without touching the disk.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

import httpx

from .._errors import DownloadError
from .._urls import parsed_url, plain_url, safe_url

__all__ = [
    "MAX_ETAG",
    "PART_SUFFIX",
    "Locator",
    "Spot",
    "item_url",
    "locate",
    "part_path",
    "read_validator",
    "resolve_target",
    "safe_url",
    "validator_path",
]

PART_SUFFIX = ".part"
MAX_ETAG = 1024


def item_url(item: object) -> str:
    """The URL of an input item (its text form when the item is malformed)."""
    if isinstance(item, tuple) and item and isinstance(item[0], str):
        return item[0]
    return item if isinstance(item, str) else repr(item)


def part_path(target: Path) -> Path:
    """The ``.part`` file a download is written to before being renamed to ``target``."""
    return target.with_name(target.name + PART_SUFFIX)


def validator_path(target: Path) -> Path:
    """The file recording the ``ETag`` the ``.part`` of ``target`` was written with."""
    part = part_path(target)
    return part.with_name(part.name + PART_SUFFIX)


def read_validator(target: Path) -> str | None:
    """The recorded ``ETag`` (``None``: none, or unreadable). Blocking."""
    try:
        with open(validator_path(target), "rb") as source:
            raw = source.read(MAX_ETAG + 1)
    except OSError:
        return None
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return text if text and len(raw) <= MAX_ETAG else None


def _check_url(url: str) -> str:
    """The URL's path; :class:`DownloadError` naming what is wrong when ``url`` is invalid
    (an ``s3://`` URL is checked by its router, when the item is downloaded)."""
    plain = plain_url(url)  # (the common case: valid as it is, no parse needed)
    if plain is not None:
        return plain.path
    if url[:5].lower() == "s3://":
        parts = urlsplit(url)
        if not parts.netloc:
            raise DownloadError(f"cannot download {url!r}: the s3:// URL has no bucket")
        return parts.path
    if not url.startswith(("http://", "https://")):
        raise DownloadError(
            f"cannot download {safe_url(url)!r}: only http(s) and s3:// URLs are supported"
        )
    try:
        parsed = parsed_url(url)
        port = parsed.port
    except (ValueError, httpx.InvalidURL) as exc:
        raise DownloadError(
            f"cannot download {safe_url(url)!r}: not a valid URL ({exc}); check the URL"
        ) from None
    if not parsed.host:
        raise DownloadError(f"cannot download {safe_url(url)!r}: the URL has no host")
    if port is not None and not 1 <= port <= 65535:
        raise DownloadError(f"cannot download {safe_url(url)!r}: port {port} is outside 1..65535")
    return urlsplit(url).path


def _bad(url: str, name: str, why: str) -> DownloadError:
    return DownloadError(
        f"refusing to save {safe_url(url)} as {name!r}: {why}; give a relative path without '..' "
        "as (url, path)"
    )


def _relative_name(item: object) -> tuple[str, str]:
    if isinstance(item, str):
        url = item
        name = _check_url(url).rsplit("/", 1)[-1]
        if "%" in name:
            name = unquote(name)
        if "/" in name or "\\" in name:
            raise _bad(url, name, "the URL's last segment contains a path separator")
        return url, name
    if (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], (str, os.PathLike))
    ):
        path = os.fspath(item[1])
        if not isinstance(path, str):
            raise DownloadError(f"the path for {safe_url(item[0])} must be text, got bytes")
        _check_url(item[0])
        return item[0], path
    raise DownloadError(f"cannot download {item!r}: give a URL or a (url, relative path) pair")


_PLAIN = re.compile(r"[^/\\:]+")
"""A name without a separator or a drive (``C:``): the common case, one file in ``dest``."""


def _checked_name(item: object) -> tuple[str, str, tuple[str, ...]]:
    """``(url, relative name, its parts)``; :class:`DownloadError` if the name is unsafe."""
    url, name = _relative_name(item)
    if not name or name.endswith(("/", "\\")):
        raise _bad(url, name, "the file name is empty")
    if "\0" in name:
        raise _bad(url, name, "file names cannot contain a NUL character")
    if _PLAIN.fullmatch(name):  # one segment, no drive: nothing for pathlib to split
        parts: tuple[str, ...] = (name,)
    else:
        posix, windows = PurePosixPath(name), PureWindowsPath(name)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or name[0] == "\\":
            raise _bad(url, name, "absolute paths are not allowed")
        parts = windows.parts  # splits on both separators
    if any(part in ("..", ".") for part in parts) or name in (".", ".."):
        raise _bad(url, name, "'.' and '..' segments are not allowed")
    if name.endswith(PART_SUFFIX):
        raise _bad(url, name, f"names ending in {PART_SUFFIX!r} are reserved for partial files")
    return url, name, parts


def _check_inside(url: str, name: str, target: Path, root: Path) -> None:
    if not target.resolve().is_relative_to(root):
        raise _bad(url, name, "it resolves outside the destination directory")


def resolve_target(item: object, dest: Path) -> tuple[str, Path]:
    """``(url, destination file)`` for an input item; :class:`DownloadError` if unsafe."""
    url, name, parts = _checked_name(item)
    target = dest.joinpath(*parts)
    _check_inside(url, name, target, dest.resolve())
    return url, target


@dataclass(frozen=True, slots=True)
class Spot:
    """Where an item goes and what is already there.

    ``existing`` is the size of the final file when it exists and is to be kept (it is then
    skipped), ``part_size`` the size of a ``.part`` file left by an earlier run (0: none),
    ``part_etag`` the ``ETag`` recorded when it was written (see :mod:`._resume`)
    and ``part_mtime`` its modification time.
    """

    url: str
    target: Path
    existing: int | None
    part_size: int
    part_etag: str | None = None
    part_mtime: float = 0.0


class Locator:
    """Looks items up on disk for one batch: two or three system calls per item, cheap
    enough to make in the event loop (a worker-thread round trip costs more). Remembers
    ``dest`` resolved and the directories it made; resolves a path (a walk through every
    directory in it) only for nested names and symlinks: a plain name directly in ``dest``
    that is not a symlink cannot lead outside it."""

    def __init__(self, dest: Path, overwrite: bool) -> None:
        self._dest = dest
        self._root = dest.resolve()
        self._overwrite = overwrite
        self._made: set[Path] = {dest}

    def __call__(self, item: object) -> Spot:
        """Everything the file system says about an item, in one go. Creates the target's
        directory unless the item is skipped.

        Raises:
            DownloadError: an unsafe name.
            OSError: the directory cannot be created.
        """
        url, name, parts = _checked_name(item)
        nested = len(parts) > 1
        target = self._dest.joinpath(*parts)
        found = _stat(target, follow=False)
        link = found is not None and stat.S_ISLNK(found.st_mode)
        if nested or link:
            _check_inside(url, name, target, self._root)
            if link:
                found = _stat(target, follow=True)
        if not self._overwrite and found is not None and stat.S_ISREG(found.st_mode):
            return Spot(url, target, found.st_size, 0)
        if nested and target.parent not in self._made:  # (a plain name's is dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        part_file = f"{target}{PART_SUFFIX}"  # (part_path(target), without a new Path)
        part = _stat(part_file, follow=False)  # a link is not a partial file of ours
        if part is None:
            return Spot(url, target, None, 0)
        if not stat.S_ISREG(part.st_mode) or part.st_nlink > 1:
            # a link (symbolic or hard), a FIFO... at our .part name: removed (never followed
            # or appended to), and the download starts over
            os.unlink(part_file)
            return Spot(url, target, None, 0)
        if part.st_size == 0:
            return Spot(url, target, None, 0)
        return Spot(url, target, None, part.st_size, read_validator(target), part.st_mtime)


def _stat(path: Path | str, *, follow: bool) -> os.stat_result | None:
    """``path``'s status, ``None`` when it does not exist."""
    try:
        return os.stat(path, follow_symlinks=follow)
    except FileNotFoundError:
        return None


def locate(item: object, dest: Path, overwrite: bool) -> Spot:
    """:class:`Locator` for a single item (blocking)."""
    return Locator(dest, overwrite)(item)
