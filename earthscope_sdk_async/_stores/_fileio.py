"""Blocking file helpers for :class:`FileTokenStore`; call them from a worker thread.

Private directories, reads, and atomic, durable, owner-only writes (C55, C56).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

__all__ = ["atomic_write", "ensure_private_dir", "read_bytes", "remove"]

logger = logging.getLogger(__name__)

_FILE_MODE = 0o600
_DIR_MODE = 0o700


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
            os.mkdir(path, _DIR_MODE)
            os.chmod(path, _DIR_MODE)  # the umask may have taken bits away; never adds any
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


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or ``None`` when it does not exist. Other errors propagate."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _new_temp_file(path: Path) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return temp, os.open(temp, flags, _FILE_MODE)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def _fsync_dir(directory: Path) -> None:
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

    A temp file in the same directory is written, fsynced and renamed over ``path``, then
    the directory is fsynced. The temp file is removed on any failure; ``path`` is then
    left as it was.
    """
    temp, fd = _new_temp_file(path)
    try:
        try:
            if os.name != "nt":
                os.fchmod(fd, _FILE_MODE)  # exactly 0600 whatever the umask
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(path.parent)


def remove(path: Path) -> None:
    """Delete ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
