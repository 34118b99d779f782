"""A token response read late (a CPU-starved machine) must not stretch the token's life (C21,
C40, C60): the server starts the lifetime when it issues the token, so the manager counts it
from when it sent the request, and clamps the leeway by the lifetime, not by what is left.

Time is a fake clock that the mocked token endpoint advances while the request is "in flight".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx
from _flows_helpers import TOKEN_URL, FakeClock, settings, token_body

from earthscope_sdk_async import Tokens
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import MemoryTokenStore

LIFETIME = 1.0  # expires_in of every issued token
LEEWAY = 0.3
IN_FLIGHT = 0.6  # between the server issuing the token and the client reading the answer


def _manager(kind: str, clock: FakeClock) -> TokenManager:
    if kind == "machine":
        return TokenManager(
            settings(client_secret="machine-secret", refresh_leeway=LEEWAY), clock=clock
        )
    stale = Tokens(
        access_token="old-access",
        refresh_token="refresh-token-0",
        expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc),
    )
    return TokenManager(settings(refresh_leeway=LEEWAY), store=MemoryTokenStore(stale), clock=clock)


@pytest.mark.parametrize("kind", ["refresh", "machine"])
async def test_c21_a_late_read_answer_does_not_stretch_the_token_life(kind: str) -> None:
    """The server issues a 1 s token, the client reads the answer 0.6 s later: the token has
    0.4 s left, is fresh for 0.1 s more (leeway 0.3 s), and never looks fresh with less than
    the leeway left. (Before the fix the manager counted 1 s from the late read, and clamped
    the leeway to half of what was left: it kept handing out the token until 0.1 s before
    its real expiry.)"""
    clock = FakeClock()
    issued_at = clock.now()

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        clock.advance(IN_FLIGHT)  # issued at once, answer read IN_FLIGHT later
        body: dict[str, Any] = token_body(access_token="access-1", expires_in=LIFETIME)
        return httpx.Response(200, json=body)

    manager = _manager(kind, clock)
    with respx.mock(assert_all_called=True) as mock:
        mock.post(TOKEN_URL).mock(side_effect=token_endpoint)
        assert await manager.get_access_token() == "access-1"
    real_expiry = issued_at + timedelta(seconds=LIFETIME)
    assert manager.tokens is not None and manager.tokens.expires_at == real_expiry
    clock.advance(LIFETIME - IN_FLIGHT - LEEWAY - 0.01)  # 0.31 s left: still fresh
    assert manager.cached_access_token() == "access-1"
    clock.advance(0.02)  # 0.29 s left: less than the leeway promises
    assert manager.cached_access_token() is None
