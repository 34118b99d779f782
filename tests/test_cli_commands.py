"""earthscope-async as a user runs it: one process per command, against the fake server.

The child finds the fake through ES_OAUTH2__DOMAIN / ES_RESOURCES__API_URL and keeps its
tokens under a temp HOME. Device logins are approved (or denied) from this process after
reading the user code from the child's stdout, which proves the code is flushed at once
into a pipe. The no-secrets rule (C54) is checked on every output of every command but
``token``, including ``--debug`` runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from earthscope_sdk_async._tokens import Tokens
from earthscope_sdk_async.testing import FakeEarthScope

CODE = re.compile(r"^\s+([A-Z0-9]{4}-[A-Z0-9]{4})$")
TIMEOUT = 30


class Cli:
    """Runs ``python -m earthscope_sdk_async`` with a temp HOME pointed at ``fake``."""

    def __init__(self, fake: FakeEarthScope, home: Path) -> None:
        self.fake = fake
        self.home = home
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ES_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
        }
        self.env.update(HOME=str(home), ES_OAUTH2__DOMAIN=fake.url, ES_RESOURCES__API_URL=fake.url)
        self.outputs: list[str] = []  # stdout and stderr of every command but `token`
        self.secrets: set[str] = set()

    @property
    def tokens_file(self) -> Path:
        return self.home / ".earthscope" / "default" / "tokens.json"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "earthscope_sdk_async", *args]

    def seed(self, tokens: Tokens) -> None:
        self.tokens_file.parent.mkdir(parents=True, mode=0o700)
        self.tokens_file.write_text(tokens.to_json())
        self.tokens_file.chmod(0o600)  # as the SDK writes it (a readable file draws a warning)
        self.remember_tokens()

    def remember_tokens(self) -> None:
        if self.tokens_file.exists():
            tokens = Tokens.from_json(self.tokens_file.read_text())
            self.secrets |= {tokens.access_token, tokens.refresh_token or "", tokens.id_token or ""}
            self.secrets.discard("")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=TIMEOUT
        )
        if args[0] != "token":
            self.outputs += [done.stdout, done.stderr]
        self.remember_tokens()
        assert "Traceback" not in done.stderr or "--debug" in args, done.stderr
        return done

    def login(self, *args: str, decide: str = "approve") -> tuple[str, str, int]:
        """Run ``login``; read the code from the child's stdout, then approve or deny it."""
        child = subprocess.Popen(
            self.argv("login", *args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        seen: list[str] = []
        for line in child.stdout:  # the child waits for approval: the code must be flushed
            seen.append(line)
            match = CODE.match(line.rstrip("\n"))
            if match:
                getattr(self.fake, decide)(match.group(1))
                break
        out, err = child.communicate(timeout=TIMEOUT)
        stdout = "".join(seen) + out
        self.outputs += [stdout, err]
        self.remember_tokens()
        return stdout, err, child.returncode

    def assert_no_secret_printed(self) -> None:
        assert self.secrets, "no secrets collected: the check would be vacuous"
        for text in self.outputs:
            for secret in self.secrets:
                assert secret not in text


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    with FakeEarthScope(device_interval=0.05) as fake:
        home = tmp_path / "cli-home"
        home.mkdir()
        yield Cli(fake, home)


def test_login_shows_the_code_in_a_pipe_before_approval_and_saves_tokens(cli: Cli) -> None:
    """C6: the verification URL and XXXX-XXXX code reach a pipe while the child still waits."""
    out, err, code = cli.login("--no-browser")
    assert code == 0, err
    assert f"      {cli.fake.url}activate\n" in out
    assert "Logged in as fake-user@example.org (profile 'default')." in out
    assert "Waiting for approval (the code expires in 14 min" in err  # not a terminal: no \r
    assert cli.tokens_file.exists()
    assert oct(cli.tokens_file.stat().st_mode & 0o777) == "0o600"
    cli.assert_no_secret_printed()


def test_login_denied_in_the_browser_exits_4(cli: Cli) -> None:
    """C14: access_denied is its own exit code, with one line on stderr."""
    _, err, code = cli.login("--no-browser", decide="deny")
    assert code == 4
    assert err.splitlines()[-1].startswith("earthscope-async: access denied: ")
    assert not cli.tokens_file.exists()


def test_every_command_with_seeded_tokens_and_no_secret_but_from_token(
    cli: Cli, tmp_path: Path
) -> None:
    fake = cli.fake
    seeded = fake.issue_tokens()
    cli.seed(seeded)

    status = cli("status")
    assert status.returncode == 0
    assert "Logged in as fake-user@example.org (auth0|fake-user)" in status.stdout
    assert re.search(r"refresh token\s+present", status.stdout)
    assert re.search(r"scopes\s+openid profile email offline_access", status.stdout)
    assert json.loads(cli("status", "--json").stdout)["refresh_token"] is True

    token = cli("token")
    assert (token.returncode, token.stdout, token.stderr) == (0, seeded.access_token + "\n", "")

    profile = cli("profile", "--debug")
    assert profile.returncode == 0
    assert json.loads(profile.stdout)["email"] == "fake-user@example.org"

    urls = [fake.add_file(f"many/{i}.dat", size=4096) for i in range(20)]
    download = cli("download", *urls, "--dest", str(tmp_path / "dl"), "--concurrency", "4")
    assert download.returncode == 0, download.stderr
    assert re.search(r"^downloaded\s+20\s+80\.0 KiB$", download.stdout, re.M)
    again = cli("download", *urls[:2], "--dest", str(tmp_path / "dl"), "--json")
    assert json.loads(again.stdout)["skipped"] == 2

    refresh = cli("refresh", "--debug")
    assert refresh.returncode == 0
    assert "The refresh token was rotated" in refresh.stdout
    assert "earthscope-async: debug [earthscope_sdk_async." in refresh.stderr  # not vacuous
    assert fake.refresh_count == 1
    assert cli("token").stdout != seeded.access_token + "\n"

    logout = cli("logout", "--debug")
    assert (logout.returncode, fake.count("revoke")) == (0, 1)
    assert not cli.tokens_file.exists()
    gone = cli("status")
    assert gone.returncode == 3
    assert gone.stderr.strip() == (
        "earthscope-async: not logged in (profile 'default'): run `earthscope-async login`"
    )
    assert len(cli.secrets) >= 5  # seeded access/refresh/id + rotated access/refresh
    cli.assert_no_secret_printed()
