"""Blocking file helpers for :class:`FileTokenStore`: the package's one file helper module,
:mod:`earthscope_sdk_async._files`, under the names the stores have always used.

Private directories, reads that never follow links nor block on FIFOs, and atomic, durable,
owner-only writes (C55, C56).
"""

from __future__ import annotations

from .._files import atomic_write, ensure_private_dir, remove
from .._files import read_regular as read_bytes

__all__ = ["atomic_write", "ensure_private_dir", "read_bytes", "remove"]
