"""EarthScopeClient from many threads, from inside running event loops, and close() racing
calls: single-flight refresh across threads (C35), no deadlock when the calling thread runs
its own loop (Jupyter), in-flight calls cancelled by close().
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import trio

from earthscope_sdk_async import ClientClosedError, DeviceCode, EarthScopeClient, MemoryTokenStore
from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
SCALE = 0.002


def test_c35_sixteen_threads_one_expired_token_one_refresh(fake_earthscope: FakeEarthScope) -> None:
    stale = fake_earthscope.issue_tokens().replace(expires_at=PAST)
    store = MemoryTokenStore(stale)
    barrier = threading.Barrier(16)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(client: EarthScopeClient) -> None:
        barrier.wait()
        try:
            results.append(client.get_access_token())
        except BaseException as exc:  # reported below
            errors.append(exc)

    with EarthScopeClient(fake_earthscope.settings(), store=store) as client:
        threads = [threading.Thread(target=worker, args=(client,)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(results) == 16
    assert len(set(results)) == 1
    assert results[0] != stale.access_token
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1
    assert fake_earthscope.refresh_count == 1


def _run_in_asyncio(func: Callable[[], str]) -> str:
    async def main() -> str:
        asyncio.get_running_loop()  # we really are inside a running loop (the Jupyter case)
        return func()

    return asyncio.run(main())


def _run_in_trio(func: Callable[[], str]) -> str:
    async def main() -> str:
        return func()

    return trio.run(main)


@pytest.mark.parametrize("runner", [_run_in_asyncio, _run_in_trio], ids=["asyncio", "trio"])
def test_works_from_inside_a_running_event_loop(
    fake_earthscope: FakeEarthScope, runner: Callable[[Callable[[], str]], str]
) -> None:
    stale = fake_earthscope.issue_tokens().replace(expires_at=PAST)

    def use_client() -> str:
        with EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore(stale)) as c:
            return c.get_access_token()  # needs a refresh: real I/O in the client's loop

    token = runner(use_client)
    assert token != stale.access_token
    assert fake_earthscope.refresh_count == 1


def test_calling_from_the_clients_own_loop_is_an_error(fake_earthscope: FakeEarthScope) -> None:
    raised: list[BaseException] = []

    def prompt(code: DeviceCode) -> None:
        try:
            client.get_access_token()  # would deadlock: we are in the client's loop thread
        except RuntimeError as exc:
            raised.append(exc)
        fake_earthscope.approve(code.user_code)

    settings = fake_earthscope.settings()
    with EarthScopeClient(settings, store=MemoryTokenStore(), clock=ScaledClock(SCALE)) as client:
        client.login(prompt)
    assert len(raised) == 1
    assert "inside the SDK's own event loop" in str(raised[0])


class SleepSignal(ScaledClock):
    """A scaled clock that tells when the device flow starts waiting between polls."""

    def __init__(self) -> None:
        super().__init__(1.0)
        self.sleeping = threading.Event()
        self.cancelled = threading.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        try:
            await super().sleep(seconds)
        except BaseException:
            self.cancelled.set()
            raise


def test_close_cancels_calls_in_flight(fake_earthscope: FakeEarthScope) -> None:
    clock = SleepSignal()  # the fake never approves: login() polls until cancelled
    client = EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore(), clock=clock)
    outcome: list[BaseException] = []

    def login() -> None:
        try:
            client.login(lambda code: None)
        except BaseException as exc:  # checked below
            outcome.append(exc)

    thread = threading.Thread(target=login)
    thread.start()
    assert clock.sleeping.wait(10)
    client.close()
    thread.join(10)
    assert not thread.is_alive()
    assert clock.cancelled.is_set()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ClientClosedError)
    assert "closed while this call was running" in str(outcome[0])
