"""The README's main job: `earthscope-async demo` runs the whole journey and prints no secret."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from earthscope_sdk_async._cli import main

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")


def test_demo_walks_the_whole_journey(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    steps = [
        "$ earthscope-async login",
        "$ earthscope-async status",
        "$ earthscope-async profile",
        "$ earthscope-async download",
        "$ earthscope-async refresh",
        "$ earthscope-async logout",
    ]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)  # in the order of the journey
    assert re.search(r"^      [A-Z0-9]{4}-[A-Z0-9]{4}$", out, re.M)  # the code, as a user sees it
    assert "Logged in as fake-user@example.org" in out
    assert re.search(r"refresh token\s+present", out)
    assert '"email": "fake-user@example.org"' in out
    assert re.search(r"^downloaded\s+200\s+6\.2 MiB$", out, re.M)
    assert "during 200 concurrent downloads: 1)" in out  # single-flight refresh
    assert "The refresh token was rotated" in out
    assert "revocation requests: 1; token file exists: False" in out
    assert "Logged in as machine client fake-m2m-client" in out
    assert "download: 200/200 files" in captured.err  # plain progress: not a terminal
    assert not JWT.search(out + captured.err)  # no token anywhere


def test_python_dash_m_demo_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "earthscope_sdk_async", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Done: every step above ran over real HTTP on loopback." in result.stdout
    assert "Traceback" not in result.stderr
