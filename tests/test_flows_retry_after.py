"""Retry-After / x-ratelimit-reset parsing (C18, C44)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from earthscope_sdk_async._retry_after import (
    parse_ratelimit_reset,
    parse_retry_after,
    retry_after_seconds,
)

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_c18_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_c18_retry_after_http_date() -> None:
    future = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(future, now=NOW) == 90.0
    past = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0
    assert parse_retry_after("Wed, 02 Jan 2030 03:05:05 -0000", now=NOW) == 60.0
    assert parse_retry_after("Mon, 99 Foo 2030 99:99:99 GMT", now=NOW) is None


def test_retry_after_naive_now_is_utc() -> None:
    future = format_datetime(NOW + timedelta(seconds=10), usegmt=True)
    assert parse_retry_after(future, now=NOW.replace(tzinfo=None)) == 10.0


def test_retry_after_default_now_is_system_time() -> None:
    future = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=100), usegmt=True)
    seconds = parse_retry_after(future)
    assert seconds is not None
    assert 95 <= seconds <= 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(int(NOW.timestamp()) + 25), 25.0),
        (str(int(NOW.timestamp()) - 25), 0.0),
        ("30", 30.0),
        ("-1", None),
        ("x", None),
        (None, None),
    ],
)
def test_c18_x_ratelimit_reset(value: str | None, expected: float | None) -> None:
    assert parse_ratelimit_reset(value, now=NOW) == expected


def test_c18_retry_after_wins_over_ratelimit_reset() -> None:
    reset = str(int(NOW.timestamp()) + 50)
    headers = httpx.Headers({"Retry-After": "5", "X-RateLimit-Reset": reset})
    assert retry_after_seconds(headers, now=NOW) == 5.0
    headers = httpx.Headers({"Retry-After": "garbage", "X-RateLimit-Reset": reset})
    assert retry_after_seconds(headers, now=NOW) == 50.0


def test_headers_looked_up_case_insensitively_in_plain_dicts() -> None:
    assert retry_after_seconds({"RETRY-AFTER": "8"}, now=NOW) == 8.0
    assert retry_after_seconds({"x-RateLimit-reset": "9"}, now=NOW) == 9.0
    assert retry_after_seconds({}, now=NOW) is None
    assert retry_after_seconds(httpx.Headers(), now=NOW) is None
