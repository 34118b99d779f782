"""The README's main job: the offline demo runs end to end and prints no secret."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from earthscope_sdk_async._demo import run_demo


def test_demo_walks_the_whole_journey() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert re.search(r"enter  [A-Z]{4}-[A-Z]{4}", text)
    assert "refresh requests seen by the server: 1" in text
    assert "mode 600" in text
    assert "revoked server-side: True; token file exists: False" in text
    assert "revocation requests: 1" in text
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", text)  # no JWT anywhere


def test_python_dash_m_demo_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "earthscope_sdk_async", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Done" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "earthscope_sdk_async", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "usage" in result.stderr
