"""``earthscope-async login`` on a real terminal (a pty driven by pexpect).

What a person sees: the URL, the XXXX-XXXX code and a live countdown; Ctrl-C cancels
cleanly, with no traceback, exit code 130 and no tokens saved.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def fake() -> Iterator[FakeEarthScope]:
    with FakeEarthScope(device_interval=0.05) as server:  # never approved: login waits
        yield server


def test_login_on_a_terminal_shows_a_countdown_and_ctrl_c_cancels_cleanly(
    fake: FakeEarthScope, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ES_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(HOME=str(tmp_path), ES_OAUTH2__DOMAIN=fake.url, ES_RESOURCES__API_URL=fake.url)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "earthscope_sdk_async", "login"],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )
    child.logfile_read = transcript = io.StringIO()
    try:
        child.expect(r"and enter this code:\s+([A-Z0-9]{4}-[A-Z0-9]{4})")
        code = child.match.group(1)
        assert fake.device_codes[0].user_code == code
        child.expect(r"the code expires in 1[45]:\d\d \(Ctrl-C to cancel\)")  # live countdown
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    seen = transcript.getvalue()
    assert child.exitstatus == 130
    assert "earthscope-async: cancelled" in seen
    assert "Traceback" not in seen
    assert "KeyboardInterrupt" not in seen
    assert not (tmp_path / ".earthscope" / "default" / "tokens.json").exists()
