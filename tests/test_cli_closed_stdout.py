"""Every command survives a closed stdout (``earthscope-async status | head -1``): it ends
quietly with its own exit code, as ``git log | head`` does (issue 18, item 2).

Each command runs in a child process whose stdout is a pipe with no reader left: every
write fails with EPIPE, the harshest case of ``| head``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[dict[str, str], FakeEarthScope]]:
    with FakeEarthScope(device_interval=0.02, auto_approve_after=0) as fake:
        home = tmp_path / "home"
        tokens = home / ".earthscope" / "default" / "tokens.json"
        tokens.parent.mkdir(parents=True, mode=0o700)
        tokens.write_text(fake.issue_tokens().to_json())
        tokens.chmod(0o600)
        variables = {k: v for k, v in os.environ.items() if not k.startswith("ES_")}
        variables.update(HOME=str(home), ES_OAUTH2__DOMAIN=fake.url, ES_RESOURCES__API_URL=fake.url)
        variables.pop("DISPLAY", None)
        variables.pop("WAYLAND_DISPLAY", None)
        yield variables, fake


def run_with_closed_stdout(env: dict[str, str], *args: str) -> tuple[int, str]:
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: every write to stdout is a broken pipe
    try:
        done = subprocess.run(
            [sys.executable, "-m", "earthscope_sdk_async", *args],
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--help",), 0),
        (("status",), 0),
        (("status", "--json"), 0),
        (("token",), 0),
        (("profile",), 0),
        (("refresh",), 0),
        (("download", "{file}", "--dest", "{dest}", "--json"), 0),
        (("download", "{missing}", "--dest", "{dest}"), 6),
        (("logout",), 0),
        (("login", "--no-browser"), 0),
        (("demo",), 0),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v),
)
def test_every_command_ends_quietly_when_stdout_is_closed(
    env: tuple[dict[str, str], FakeEarthScope], tmp_path: Path, args: tuple[str, ...], expected: int
) -> None:
    variables, fake = env
    names = {
        "file": fake.add_file("a.dat", size=100),
        "missing": fake.url + "files/missing.dat",
        "dest": str(tmp_path / "dest"),
    }
    code, err = run_with_closed_stdout(variables, *(a.format(**names) for a in args))
    assert code == expected, err
    for noise in ("internal error", "Traceback", "BrokenPipe", "Exception ignored"):
        assert noise not in err
