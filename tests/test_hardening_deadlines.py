"""Issue 14, cases 1 and 5: every request to the identity provider has an overall deadline.

A server that sends its headers and then one byte every few seconds never trips a per-read
timeout; ``Settings.token_request_timeout`` bounds the whole exchange, shielding lasts at
most that long, callers waiting for another task's refresh can always be cancelled, and a
device poll never outlives its code. The trickles last minutes (far longer than any
``fail_after`` below), so no verdict depends on the machine's speed.
"""

from __future__ import annotations

from datetime import datetime, timezone

import anyio
import httpx
import pytest

from earthscope_sdk_async import Settings, Tokens, TransportError
from earthscope_sdk_async._errors import ConfigError, DeviceCodeExpiredError
from earthscope_sdk_async._flows import ClientCredentialsFlow, DeviceCodeFlow
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
SLOW = 2.0  # seconds between two bytes: a token response takes many minutes at this pace
PATIENCE = 120  # the test's own bound: far beyond any deadline used here


def expired_manager(fake: FakeEarthScope, **settings: float) -> TokenManager:
    tokens: Tokens = fake.issue_tokens().replace(expires_at=PAST)
    return TokenManager(fake.settings(**settings), store=MemoryTokenStore(tokens))


def test_token_request_timeout_setting_and_env() -> None:
    assert Settings().token_request_timeout == 30.0
    env = {"ES_HTTP__TOKEN_REQUEST_TIMEOUT": "7.5"}
    assert Settings.load(environ=env).token_request_timeout == 7.5
    with pytest.raises(ConfigError, match="token_request_timeout"):
        Settings(token_request_timeout=0)


@pytest.mark.parametrize("action", ["drip", "drip_headers"])
async def test_case1_trickling_refresh_fails_at_the_deadline(
    fake_earthscope: FakeEarthScope, action: str
) -> None:
    fake_earthscope.add_fault("token", action=action, interval=SLOW)  # type: ignore[arg-type]
    manager = expired_manager(fake_earthscope, token_request_timeout=1)
    with anyio.fail_after(PATIENCE), pytest.raises(TransportError, match="did not complete"):
        await manager.get_access_token()


async def test_case1_cancelling_the_refreshing_caller_ends_its_wait(
    fake_earthscope: FakeEarthScope,
) -> None:
    """The refresh is shielded (a rotation must be saved) but only for one deadline."""
    fake_earthscope.add_fault("token", action="drip", interval=SLOW)
    manager = expired_manager(fake_earthscope, token_request_timeout=1)
    with anyio.fail_after(PATIENCE):
        with anyio.move_on_after(0.05) as scope:
            await manager.get_access_token()
    assert scope.cancelled_caught


async def test_case1_waiters_behind_a_stuck_refresh_can_be_cancelled(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("token", action="drip", interval=SLOW)
    manager = expired_manager(fake_earthscope, token_request_timeout=8)
    owner_done = anyio.Event()
    owner_errors: list[BaseException] = []

    async def owner() -> None:
        try:
            await manager.get_access_token()
        except TransportError as exc:
            owner_errors.append(exc)
        owner_done.set()

    with anyio.fail_after(PATIENCE):
        async with anyio.create_task_group() as tg:
            tg.start_soon(owner)
            while fake_earthscope.count("token") == 0:  # the owner's request is in flight
                await anyio.sleep(0.01)
            with anyio.move_on_after(0.05) as waiter:
                await manager.get_access_token()
            assert waiter.cancelled_caught
            assert not owner_done.is_set()  # the waiter left while the refresh still ran
    assert owner_errors and "did not complete" in str(owner_errors[0])


async def test_case1_trickling_client_credentials_fail_at_the_deadline(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("token", action="drip", interval=SLOW)
    settings = fake_earthscope.machine_settings(token_request_timeout=1)
    async with httpx.AsyncClient() as http:
        flow = ClientCredentialsFlow(http, settings, max_attempts=1)
        with anyio.fail_after(PATIENCE), pytest.raises(TransportError, match="did not complete"):
            await flow.login()


async def test_case5_a_trickling_poll_never_outlives_the_device_code() -> None:
    async with FakeEarthScope(device_interval=1, device_expires_in=3) as fake:
        fake.add_fault("token", action="drip", interval=SLOW, times=100)
        async with httpx.AsyncClient() as http:
            flow = DeviceCodeFlow(http, fake.settings(token_request_timeout=PATIENCE))
            code = await flow.request_code()
            with anyio.fail_after(PATIENCE / 2), pytest.raises(DeviceCodeExpiredError):
                await flow.poll(code)
        assert fake.count("token") == 1  # one poll, cut short when the code expired


@pytest.mark.parametrize("action", ["drip", "drip_headers"])
async def test_trickling_api_answer_fails_at_the_policy_deadline(
    fake_earthscope: FakeEarthScope, action: str
) -> None:
    from earthscope_sdk_async import AsyncEarthScopeClient
    from earthscope_sdk_async._retry import RetryPolicy

    fake_earthscope.add_fault("profile", action=action, interval=SLOW, times=5)  # type: ignore[arg-type]
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    policy = RetryPolicy(max_attempts=2, max_total=1, base_delay=0.01, max_delay=0.02)
    async with AsyncEarthScopeClient(fake_earthscope.settings(), store=store, retry=policy) as es:
        with anyio.fail_after(PATIENCE), pytest.raises(TransportError, match="did not complete"):
            await es.user.get_profile()
