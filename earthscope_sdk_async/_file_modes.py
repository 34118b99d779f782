"""Is a token file readable by other users? One check for the store and the CLI fast path.

Imports only the standard library, so the ``earthscope-async token`` fast path can use it.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

__all__ = ["exposed_file_warning"]

_warned: set[str] = set()
_guard = threading.Lock()


def exposed_file_warning(path: Path) -> str | None:
    """The warning for a token file that group or others may read (with the ``chmod 600``
    fix), the first time ``path`` is seen so in this process; ``None`` otherwise (a
    private or missing file, Windows, or already warned about)."""
    if os.name == "nt":  # pragma: no cover - POSIX modes do not apply
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    with _guard:
        if str(path) in _warned:
            return None
        _warned.add(str(path))
    return (
        f"token file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
        f"anyone who can read it can act as you: run `chmod 600 {path}`"
    )
