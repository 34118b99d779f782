"""The 0.2.1 ``earthscope_sdk.user`` package: see :mod:`.user`."""

from __future__ import annotations

__all__: list[str] = []
