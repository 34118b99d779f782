"""Query-string values as the EarthScope API expects them (reference §1).

Lists repeat the key (an empty list drops it), booleans are ``true``/``false`` (httpx does
both), durations are floats in the unit each parameter uses, datetimes are UTC ISO-8601
(naive values are taken as UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, TypeAlias, TypeVar

from .._errors import ConfigError

__all__ = ["ListOrItem", "as_list", "iso_utc", "millis", "to_utc"]

T = TypeVar("T")
ListOrItem: TypeAlias = "T | Iterable[T]"
"""One value or several (a str counts as one value)."""


def as_list(name: str, value: Any) -> list[Any]:
    """``value`` as a list of scalars (``None`` and ``[]`` give ``[]``; a str is one item)."""
    if value is None:
        return []
    if isinstance(value, (str, int, float, Enum)) and not isinstance(value, bool):
        return [value.value if isinstance(value, Enum) else value]
    try:
        items = list(value)
    except TypeError:
        raise ConfigError(f"{name} must be a value or a list of values, got {value!r}") from None
    return [v.value if isinstance(v, Enum) else v for v in items]


def strings(name: str, value: Any) -> list[str]:
    """``value`` as a list of non-empty strings (see :func:`as_list`)."""
    items = as_list(name, value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{name} must hold non-empty strings, got {item!r}")
    return items


def to_utc(name: str, value: Any) -> datetime:
    """``value`` (a datetime) in UTC; a naive value is taken as UTC."""
    if not isinstance(value, datetime):
        raise ConfigError(f"{name} must be a datetime (e.g. datetime(2025, 3, 1)), got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso_utc(value: datetime) -> str:
    """``2025-03-01T00:00:00+00:00`` (microseconds only when non-zero)."""
    return value.astimezone(timezone.utc).isoformat()


def duration(name: str, value: Any) -> timedelta | None:
    """``value`` as a positive timedelta (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigError(f"{name} must be a positive timedelta, got {value!r}")
    return value


def millis(value: timedelta) -> float:
    """A timedelta in milliseconds, as a float (``15000.0``)."""
    return value / timedelta(milliseconds=1)
