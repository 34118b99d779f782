"""Every file the SDK reads, creates or appends to goes through here (a leaf module).

Blocking helpers: call them from a worker thread. The rules, for token files, temp files,
lock files and downloads (``.part`` files) alike:

- links are never followed (``O_NOFOLLOW``): a symbolic link planted at the path is an
  error, never a way to read or write some other file;
- only regular files are used: the check is made on the open descriptor (``fstat``), so a
  FIFO, a device or a directory at the path fails at once instead of blocking (the open
  itself is non-blocking) or being written through;
- a file we append to must have a single link: a hard link to a file elsewhere is refused;
- new files are created exclusively (``O_EXCL``) with mode 0600 and renamed into place
  atomically, then the directory is synced.

Refusals raise :class:`UnsafeFileError`, an ``OSError`` (``errno`` ``ELOOP``/``EINVAL``)
that callers translate into their typed errors like any other I/O failure.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
from pathlib import Path

__all__ = [
    "UnsafeFileError",
    "append_fd",
    "atomic_write",
    "check_same_file",
    "check_regular",
    "open_part",
    "ensure_private_dir",
    "fsync_dir",
    "new_exclusive",
    "open_regular",
    "read_regular",
    "remove",
    "write_all",
]

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
MAX_READ = 1 << 20
"""The largest small file (a token file) :func:`read_regular` reads."""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class UnsafeFileError(OSError):
    """A path is a link, not a regular file, or has other names: it is not used."""


def _refuse(path: Path | str, problem: str, code: int = errno.EINVAL) -> UnsafeFileError:
    return UnsafeFileError(code, f"{problem}; refusing to use it", str(path))


def open_regular(
    path: Path | str,
    flags: int,
    mode: int = FILE_MODE,
    *,
    single_link: bool = False,
    follow: bool = False,
) -> int:
    """``os.open`` without following links or blocking, then insist on a regular file.

    ``flags`` are the access flags (``O_RDONLY``, ``O_WRONLY | O_APPEND``...); the returned
    descriptor is in blocking mode. ``single_link``: also refuse a file with hard links.
    ``follow``: follow a symbolic link (for files the user owns and may link, such as the
    configuration file; never for files the SDK writes).
    """
    nofollow = 0 if follow else _NOFOLLOW
    try:
        fd = os.open(path, flags | nofollow | _NONBLOCK | _CLOEXEC | _BINARY, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and _NOFOLLOW):
            raise _refuse(path, "it is a symbolic link", errno.ELOOP) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, "it is not a regular file (a FIFO, device or directory?)")
        if single_link and info.st_nlink > 1:
            raise _refuse(path, "it has other hard links")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int = MAX_READ, *, follow: bool = False) -> bytes | None:
    """The bytes of the regular file at ``path`` (at most ``limit``, else an error), or
    ``None`` when nothing is there. Never blocks on a FIFO; ``follow`` as in
    :func:`open_regular`."""
    try:
        fd = open_regular(path, os.O_RDONLY, follow=follow)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise _refuse(path, f"it is larger than {limit} bytes", errno.EFBIG)
    return data


def append_fd(path: Path | str, *, create: bool) -> int:
    """A descriptor appending to the regular, single-link file ``path`` (created 0600
    exclusively when ``create``), never through a link."""
    if create:
        return new_exclusive(path)
    return open_regular(path, os.O_WRONLY | os.O_APPEND, single_link=True)


def open_part(path: Path | str, *, append: bool) -> tuple[int, tuple[int, int]]:
    """A descriptor to write a partial download at ``path``: appended to (a regular,
    single-link file), or created afresh (whatever was at the path, link or file, is
    removed first, never written through). Also returns the file's ``(device, inode)``,
    for :func:`check_same_file` before the rename."""
    if append:
        fd = append_fd(path, create=False)
    else:
        try:  # the common case: nothing there (one system call fewer than removing first)
            fd = new_exclusive(path)
        except FileExistsError:  # a file, a link, a FIFO...: removed, never written through
            remove(path)
            fd = new_exclusive(path)
    info = os.fstat(fd)
    return fd, (info.st_dev, info.st_ino)


def check_same_file(path: Path | str, identity: tuple[int, int]) -> None:
    """Raise :class:`UnsafeFileError` unless ``path`` is still the regular file we wrote
    (not swapped for a link or another file since)."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != identity:
        raise _refuse(path, "it was replaced while being written")


def check_regular(path: Path) -> None:
    """Raise :class:`UnsafeFileError` unless ``path`` itself (not a link's target) is a
    regular file."""
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise _refuse(path, "it is not a regular file (a link?)")


def new_exclusive(path: Path | str, mode: int = FILE_MODE) -> int:
    """Create ``path`` (which must not exist, not even as a dangling link), mode ``mode``.

    ``O_CREAT | O_EXCL`` only ever makes a new, empty regular file with one link: a file,
    link, FIFO or directory already at the path is ``FileExistsError`` (a link is never
    followed), so no check on the descriptor is needed, and it cannot block."""
    return os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY, mode
    )


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` and its missing parents with mode 0700.

    Existing directories are left as they are, with a warning (once) when the token
    directory lets group or others in.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, DIR_MODE)
            os.chmod(path, DIR_MODE)  # the umask may have taken bits away; never adds any
    if not missing:
        _warn_if_shared(directory)


_warned: set[str] = set()


def _warn_if_shared(directory: Path) -> None:
    if str(directory) in _warned:
        return
    try:
        mode = directory.stat().st_mode
    except OSError:
        return
    if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        _warned.add(str(directory))
        logger.warning(
            "token directory %s is accessible to group or others (mode %o); "
            "consider `chmod 700 %s`",
            directory,
            stat.S_IMODE(mode),
            directory,
        )


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _new_temp_file(path: Path) -> tuple[Path, int]:
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return temp, new_exclusive(temp)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def fsync_dir(directory: Path) -> None:
    """Sync ``directory`` (a rename in it is durable afterwards); best effort."""
    if os.name == "nt":  # pragma: no cover - Windows cannot open directories
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # some filesystems cannot sync directories; the file is synced
        logger.debug("could not fsync directory %s: %s", directory, exc.strerror)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably, as a 0600 file.

    A temp file in the same directory is created exclusively (never through a link),
    written, fsynced and renamed over ``path``, then the directory is fsynced. The temp file
    is removed on any failure; ``path`` is then left as it was. A link at ``path`` is
    replaced by the new file, never written through.
    """
    temp, fd = _new_temp_file(path)
    try:
        try:
            if os.name != "nt":
                os.fchmod(fd, FILE_MODE)  # exactly 0600 whatever the umask
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


def remove(path: Path | str) -> None:
    """Delete ``path`` (a link itself, never its target) if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
