"""earthscope-async in-process: parsing, exit codes, the token fast path, output modes.

``main()`` runs in the test process against a :class:`FakeEarthScope` (its own thread);
the environment points the settings at it, and HOME is a fresh temp dir (conftest).
Subprocess tests of every command are in test_cli_commands.py.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from earthscope_sdk_async._cli import main
from earthscope_sdk_async._cli._errors import EXIT_CODES, describe, exit_code_for
from earthscope_sdk_async._cli._login import display_code
from earthscope_sdk_async._cli._output import format_bytes, format_duration
from earthscope_sdk_async._cli._parser import COMMANDS
from earthscope_sdk_async._errors import (
    AccessDeniedError,
    ApiError,
    ConfigError,
    DeviceCodeExpiredError,
    DownloadError,
    InvalidClientError,
    LoginRequiredError,
    OAuthServerError,
    TokenStoreError,
    TransportError,
)
from earthscope_sdk_async._tokens import Tokens
from earthscope_sdk_async.testing import FakeEarthScope

CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


class Tty(io.StringIO):
    """A captured stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEarthScope]:
    with FakeEarthScope(device_interval=0.02, auto_approve_after=0) as server:
        monkeypatch.setenv("ES_OAUTH2__DOMAIN", server.url)
        monkeypatch.setenv("ES_RESOURCES__API_URL", server.url)
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield server


def tokens_file() -> Path:
    return Path.home() / ".earthscope" / "default" / "tokens.json"


def seed(tokens: Tokens) -> Tokens:
    path = tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(tokens.to_json())
    path.chmod(0o600)  # as the SDK writes it (a readable file draws a warning)
    return tokens


def expired(tokens: Tokens) -> Tokens:
    return tokens.replace(expires_at=datetime.now(timezone.utc) - timedelta(hours=1))


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- parsing and exit codes ---------------------------------------------------------------


def test_help_lists_every_command_and_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s", out, re.M), name
    for code, meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", out, re.M), code


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "a command is required"),
        (["nope"], "invalid choice"),
        (["download", "--dest", "d"], "no URLs to download"),
        (["download", "http://x/a", "--dest", "d", "--concurrency", "0"], "at least 1"),
        (["download", "http://x/a"], "--dest"),
        (["token", "--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_options_work_before_and_after_the_command(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    hint = "not logged in (profile 'dev'): run `earthscope-async login --profile dev`"
    assert main(["--profile", "dev", "status"]) == 3
    assert hint in one_error_line(capsys.readouterr().err)
    assert main(["status", "--profile", "dev"]) == 3
    assert hint in one_error_line(capsys.readouterr().err)


def test_bad_settings_are_a_usage_error_in_one_line_and_debug_adds_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ES_OAUTH2__DOMAIN", "http://login.example.org/")
    assert main(["status"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("earthscope-async: configuration error: ")
    assert "ES_OAUTH2__DOMAIN" in line
    assert main(["status", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (ConfigError("bad"), 2, "configuration error: bad"),
        (LoginRequiredError("x", error="invalid_grant"), 3, "expired or was revoked"),
        (DeviceCodeExpiredError("x"), 3, "sign-in code expired"),
        (AccessDeniedError("refused"), 4, "access denied: refused"),
        (InvalidClientError("bad secret"), 4, "client refused: bad secret"),
        (ApiError("no", status_code=403), 4, "API error: no"),
        (ApiError("gone", status_code=404), 6, "API error: gone"),
        (OAuthServerError("down"), 6, "identity provider error: down"),
        (TransportError("reset"), 5, "network error: reset"),
        (TokenStoreError("corrupt"), 1, "token file error: corrupt"),
        (DownloadError("disk"), 1, "error: disk"),
        (KeyError("eyJ-secret"), 1, "internal error (KeyError)"),
    ],
)
def test_every_error_class_has_its_code_and_one_line(
    error: Exception, code: int, text: str
) -> None:
    assert exit_code_for(error) == code
    line = describe(error)
    assert text in line
    assert "secret" not in line or "bad secret" in text  # an unknown error's text is hidden
    assert "\n" not in line


def test_login_hint_names_the_profile_given() -> None:
    line = describe(LoginRequiredError("x"), "dev")
    assert line == "not logged in: run `earthscope-async login --profile dev`"


def test_helpers_format_codes_sizes_and_durations() -> None:
    assert display_code("abcdefgh") == "ABCD-EFGH"
    assert display_code("ABCD-EFGH") == "ABCD-EFGH"
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_duration(59) == "59 s"
    assert format_duration(3725) == "1 h 2 min"
    assert format_duration(-5) == "0 s"


# -- token ---------------------------------------------------------------------------------


def test_token_fast_path_imports_neither_httpx_nor_anyio(tmp_path: Path) -> None:
    token = "fast-path-access-token"
    seed(Tokens(access_token=token, expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
    probe = (
        "import sys; from earthscope_sdk_async._cli import main; code = main(['token']); "
        "print(code, sorted(m for m in ('httpx', 'anyio', 'earthscope_sdk_async._client') "
        "if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout == token + "\n"
    assert done.stderr.strip() == "0 []"


def test_token_refreshes_an_expired_token_once(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    old = seed(expired(fake.issue_tokens()))
    assert main(["token"]) == 0
    out = capsys.readouterr().out
    new = Tokens.from_json(tokens_file().read_text())
    assert out == new.access_token + "\n"
    assert new.access_token != old.access_token
    assert fake.refresh_count == 1


def test_token_no_refresh_refuses_an_expired_token(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(expired(fake.issue_tokens()))
    assert main(["token", "--no-refresh"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--no-refresh" in one_error_line(captured.err)
    assert fake.refresh_count == 0


def test_token_reads_the_earthscope_cli_0x_file_while_tokens_json_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    legacy = tmp_path / "xdg" / "earthscope-cli" / "sso_tokens.json"
    legacy.parent.mkdir(parents=True)
    exp = (datetime.now(timezone.utc) + timedelta(hours=1)).timestamp()
    legacy.write_text(json.dumps({"access_token": "legacy-token", "expires_at": exp}))
    assert main(["token", "--no-refresh"]) == 0
    assert capsys.readouterr().out == "legacy-token\n"


def test_token_when_logged_out_exits_3(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == (
        "earthscope-async: not logged in: run `earthscope-async login`"
    )


# -- login, status, profile, refresh, logout -----------------------------------------------


def test_login_auto_approved_shows_the_code_and_a_qr_code(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["login", "--qr"]) == 0
    out = capsys.readouterr().out
    code = fake.device_codes[0].user_code
    assert f"      {code}\n" in out
    assert "▀" in out or "█" in out  # the QR code's block characters
    assert "Logged in as fake-user@example.org (profile 'default')" in out
    assert tokens_file().exists()


def test_login_qr_without_segno_says_how_to_install_it(
    fake: FakeEarthScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # import segno -> ImportError
    assert main(["login", "--qr", "--no-browser"]) == 0
    captured = capsys.readouterr()
    assert "pip install 'earthscope-sdk-async[cli]'" in captured.err
    assert CODE.search(captured.out)


def test_login_with_a_client_secret_uses_client_credentials(
    fake: FakeEarthScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client_id, secret = next(iter(fake.machine_clients.items()))
    monkeypatch.setenv("ES_OAUTH2__CLIENT_ID", client_id)
    monkeypatch.setenv("ES_OAUTH2__CLIENT_SECRET", secret)
    assert main(["login"]) == 0
    captured = capsys.readouterr()
    assert f"Logged in as machine client {client_id}" in captured.out
    assert secret not in captured.out + captured.err
    assert fake.client_credentials_count == 1
    assert not fake.device_codes


def test_status_of_an_expired_token_says_it_refreshes_on_next_use(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(expired(fake.issue_tokens()))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"access token\s+expired 1 h 0 min ago .*refreshed on next use", out)
    assert fake.requests == []  # status makes no request


def test_status_json_when_logged_out_exits_3(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json"]) == 3
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["logged_in"] is False
    assert data["tokens_file"] == str(tokens_file())
    assert "not logged in" in captured.err


def test_profile_403_is_access_denied_and_400_an_api_error(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(fake.issue_tokens())
    fake.add_fault("profile", status=403, json={"detail": "no access to profiles"})
    assert main(["profile"]) == 4
    assert "no access to profiles" in one_error_line(capsys.readouterr().err)
    fake.add_fault("profile", status=400, json={"detail": "bad request"})
    assert main(["profile", "--json"]) == 6
    assert one_error_line(capsys.readouterr().err).startswith("earthscope-async: API error: ")


def test_unreachable_identity_provider_is_a_network_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    monkeypatch.setenv("ES_OAUTH2__DOMAIN", url)
    seed(Tokens(access_token="a", refresh_token="r", expires_at=datetime.now(timezone.utc)))
    assert main(["refresh"]) == 5
    assert "network error" in one_error_line(capsys.readouterr().err)


def test_logout_no_revoke_only_deletes_locally(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(fake.issue_tokens())
    assert main(["logout", "--no-revoke"]) == 0
    assert "not revoked" in capsys.readouterr().out
    assert not tokens_file().exists()
    assert fake.count("revoke") == 0
    assert main(["logout"]) == 0
    assert "nothing to do" in capsys.readouterr().out


# -- download ------------------------------------------------------------------------------


def test_download_partial_failure_exits_7_and_a_rerun_skips_what_is_done(
    fake: FakeEarthScope, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(fake.issue_tokens())
    urls = [fake.add_file(f"d/f{i}.bin", size=1000 + i) for i in range(3)]
    urls.append(fake.file_url("d/missing.bin"))
    list_file = tmp_path / "urls.txt"
    list_file.write_text("# the files\n" + "\n".join(urls[1:]) + "\n\n")
    dest = tmp_path / "out"
    argv = ["download", urls[0], "--from-file", str(list_file), "--dest", str(dest)]
    assert main(argv) == 7
    captured = capsys.readouterr()
    assert re.search(r"^downloaded\s+3\s+2\.9 KiB$", captured.out, re.M)
    assert re.search(r"^failed\s+1\s+-$", captured.out, re.M)
    assert "missing.bin" in captured.out
    assert "1 of 4 downloads failed" in captured.err
    assert "download: 4/4 files" in captured.err  # plain progress lines when not a terminal
    assert (dest / "f2.bin").read_bytes() == fake.file_bytes("d/f2.bin")

    assert main([*argv, "--json", "--quiet"]) == 7
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [f["status"] for f in data["files"]] == ["skipped"] * 3 + ["failed"]
    assert data["files"][3]["error"].startswith("API error: ")
    assert "download:" not in captured.err


def test_download_when_logged_out_exits_3(
    fake: FakeEarthScope, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fake.add_file("a.bin", size=10)
    assert main(["download", url, "--dest", str(tmp_path), "--quiet"]) == 3
    assert "not logged in" in capsys.readouterr().err


def test_download_reads_urls_from_stdin(
    fake: FakeEarthScope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(fake.issue_tokens())
    monkeypatch.setattr(sys, "stdin", io.StringIO(fake.add_file("s.bin", size=5) + "\n"))
    assert main(["download", "--from-file", "-", "--dest", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["downloaded"] == 1
    assert (tmp_path / "s.bin").stat().st_size == 5


def test_download_on_a_terminal_draws_a_progress_bar_and_a_table_with_rich(
    fake: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(fake.issue_tokens())
    urls = [fake.add_file(f"t{i}.bin", size=2048) for i in range(5)]
    out, err = Tty(), Tty()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["download", *urls, "--dest", str(tmp_path)]) == 0
    assert "━" in err.getvalue() or "█" in err.getvalue()  # rich's bar
    assert "5/5 files" in err.getvalue()
    assert "┃" in out.getvalue() or "│" in out.getvalue()  # rich's table borders


def test_without_rich_a_terminal_gets_plain_text(
    fake: FakeEarthScope, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(fake.issue_tokens())
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich -> ImportError
    url = fake.add_file("p.bin", size=100)
    out, err = Tty(), Tty()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["download", url, "--dest", str(tmp_path)]) == 0
    assert "download: 1/1 files, 100 B" in err.getvalue()
    assert re.search(r"^downloaded\s+1\s+100 B$", out.getvalue(), re.M)
