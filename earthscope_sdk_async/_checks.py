"""Argument checks written once: "a real number, not a bool" and "an integer >= 1, not a bool".

A leaf module (it imports only :mod:`._errors`), so settings, tokens, flows, stores, the
retry policy and downloads can all use it. ``bool`` is an ``int`` in Python, so
``True`` would otherwise pass as ``1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = ["check_count", "is_number"]


def is_number(value: object) -> TypeIs[int | float]:
    """True for an ``int`` or ``float`` that is not a ``bool`` (NaN and infinities included)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_count(name: str, value: object) -> int:
    """``value`` when it is an integer >= 1 (not a bool), else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return value
