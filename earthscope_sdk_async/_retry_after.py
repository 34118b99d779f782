"""How long a server asked us to wait: ``Retry-After`` and ``x-ratelimit-reset`` (C18, C44).

A leaf helper (standard library only) shared by the OAuth flows, the API client and the
downloader. ``Retry-After`` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
``x-ratelimit-reset`` is the epoch second at which Auth0's rate-limit bucket refills.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["parse_ratelimit_reset", "parse_retry_after", "retry_after_seconds"]

# x-ratelimit-reset values below this (2001-09-09) cannot be epoch seconds; some servers send
# a relative number of seconds instead, which we then take as is.
_EPOCH_FLOOR = 1_000_000_000.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for ``httpx.Headers`` and plain dicts."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` value (seconds or HTTP-date); ``None`` if invalid.

    A date in the past, or a negative number, means "now" (``0.0``).
    """
    if not value or not value.strip():
        return None
    seconds = _number(value.strip())
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin (RFC 5322)
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - _utc(now)).total_seconds())


def parse_ratelimit_reset(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait for an ``x-ratelimit-reset`` value (epoch seconds); ``None`` if invalid.

    Values too small to be epoch seconds are taken as a relative number of seconds.
    """
    reset = _number(value.strip()) if value else None
    if reset is None or reset < 0:
        return None
    if reset < _EPOCH_FLOOR:
        return reset
    return max(0.0, reset - _utc(now).timestamp())


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or else ``x-ratelimit-reset``.

    ``headers`` may be ``httpx.Headers`` or any mapping (looked up case-insensitively);
    ``now`` (aware UTC, default the system time) resolves dates. ``None`` when neither header
    is present and valid.
    """
    seconds = parse_retry_after(_header(headers, "retry-after"), now=now)
    if seconds is None:
        seconds = parse_ratelimit_reset(_header(headers, "x-ratelimit-reset"), now=now)
    return seconds
