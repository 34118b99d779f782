"""EarthScopeClient in a real process: a plain script, exit without close(), Ctrl-C.

Each test runs ``python -c SCRIPT <mode> <settings json> [<tokens json>]`` against the
FakeEarthScope of this process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from earthscope_sdk_async.testing import FakeEarthScope

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)

SCRIPT = r"""
import json, sys, threading
from earthscope_sdk_async import MemoryTokenStore, Settings, SystemClock, Tokens
from earthscope_sdk_async import EarthScopeClient

mode, settings = sys.argv[1], Settings(**json.loads(sys.argv[2]))
tokens = Tokens.from_json(sys.argv[3]) if len(sys.argv) > 3 else None


class SignallingClock(SystemClock):
    cancelled = threading.Event()

    async def sleep(self, seconds):
        print("SLEEPING", flush=True)
        try:
            await super().sleep(seconds)
        except BaseException:
            self.cancelled.set()
            raise


if mode == "script":
    with EarthScopeClient(settings, store=MemoryTokenStore(tokens)) as client:
        print("TOKEN", client.get_access_token() != tokens.access_token, flush=True)
elif mode == "no-close":
    client = EarthScopeClient(settings, store=MemoryTokenStore(tokens))
    print("TOKEN", client.get_access_token() != tokens.access_token, flush=True)
elif mode == "interrupt":
    clock = SignallingClock()
    client = EarthScopeClient(settings, store=MemoryTokenStore(), clock=clock)
    try:
        client.login(lambda code: None)  # never approved: polls until cancelled
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        print("CANCELLED" if clock.cancelled.wait(10) else "STILL-RUNNING", flush=True)
    client.close()
"""


def settings_json(fake: FakeEarthScope) -> str:
    settings = fake.settings()
    fields = ("domain", "api_url", "audience", "client_id")
    return json.dumps({name: getattr(settings, name) for name in fields})


def expired_tokens_json(fake: FakeEarthScope) -> str:
    return fake.issue_tokens().replace(expires_at=PAST).to_json()


def run_script(fake: FakeEarthScope, mode: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", SCRIPT, mode, settings_json(fake), expired_tokens_json(fake)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def test_plain_script(fake_earthscope: FakeEarthScope) -> None:
    done = run_script(fake_earthscope, "script")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TOKEN", "True"]  # refreshed through the client's loop
    assert fake_earthscope.refresh_count == 1


def test_unclosed_client_does_not_keep_the_interpreter_alive(
    fake_earthscope: FakeEarthScope,
) -> None:
    started = time.monotonic()
    done = run_script(fake_earthscope, "no-close")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TOKEN", "True"]
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 15  # exits at once (the loop thread is a daemon)


def test_ctrl_c_during_a_call_cancels_the_coroutine(fake_earthscope: FakeEarthScope) -> None:
    argv = [sys.executable, "-c", SCRIPT, "interrupt", settings_json(fake_earthscope)]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "SLEEPING"  # login() is now waiting
            polls = fake_earthscope.count("token")
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=15)
        finally:
            process.kill()
    assert process.returncode == 0, err
    assert out.split() == ["INTERRUPTED", "CANCELLED"]
    assert "Traceback" not in err
    assert fake_earthscope.count("token") == polls  # no poll after the interrupt
    assert [info.user_code for info in fake_earthscope.device_codes]  # a login had started
