"""Helpers shared by several test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio

from earthscope_sdk_async import AsyncEarthScopeClient, RetryPolicy, Tokens
from earthscope_sdk_async._stores import MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)
"""Retries without real waiting: 4 attempts, 10-20 ms apart."""

FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}
"""The challenge of a 401 for a stale token (the auth refreshes once and retries)."""


def stale_but_trusted(fake: FakeEarthScope) -> Tokens:
    """A token the server already considers expired while its expires_at says fresh."""
    fake.clock_offset = -7200.0
    tokens = fake.issue_tokens().replace(expires_at=FUTURE)
    fake.clock_offset = 0.0
    return tokens


def make_client(
    fake: FakeEarthScope, *, tokens: Tokens | None = None, retry: RetryPolicy = FAST, **kwargs: Any
) -> AsyncEarthScopeClient:
    """A client of ``fake``, logged in (tokens issued by ``fake`` unless given), retrying
    :data:`FAST`; ``kwargs`` go to :class:`AsyncEarthScopeClient`."""
    store = MemoryTokenStore(tokens or fake.issue_tokens())
    return AsyncEarthScopeClient(fake.settings(), store=store, retry=retry, **kwargs)


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: Mapping[str, Any], *, alg: str = "none") -> str:
    """An unsigned JWT carrying ``claims`` (the SDK decodes claims, it never verifies them;
    the fake server signs its own with ``earthscope_sdk_async.testing._jwt``)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(dict(claims)).encode())}.c2lnbmF0dXJl"


class FakeClock:
    """Virtual time: it moves only when told to (``advance``) or when something sleeps,
    which returns at once and records the wait in ``sleeps``. ``now()`` starts at the
    current whole second (so HTTP-dates, 1 s resolution, round-trip exactly)."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self._start = start
        self.wall = datetime.now(timezone.utc).replace(microsecond=0)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.wall + timedelta(seconds=self.t - self._start)

    def advance(self, seconds: float) -> None:
        self.t += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
