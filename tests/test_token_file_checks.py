"""Token files checked on read (issue 18, items 4 and 5): a group/other-readable file draws
one warning with the ``chmod 600`` fix, in every command and in the library; a corrupted file
is explained in plain words, removed by ``logout`` and announced by ``login``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from earthscope_sdk_async import TokenStoreError
from earthscope_sdk_async._cli import main
from earthscope_sdk_async._stores import FileTokenStore
from earthscope_sdk_async.testing import FakeEarthScope


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


def write(text: str, mode: int = 0o600) -> Path:
    path = tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text)
    path.chmod(mode)
    return path


# -- item 4: readable by others ----------------------------------------------------------


async def test_file_store_warns_once_about_a_readable_file(
    fake_earthscope: FakeEarthScope, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(fake_earthscope.issue_tokens().to_json())
    path.chmod(0o644)
    store = FileTokenStore(path)
    with caplog.at_level(logging.WARNING, logger="earthscope_sdk_async"):
        assert await store.load() is not None
        assert await store.load() is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"token file {path} is readable by other users (mode 644); anyone who can read it "
        f"can act as you: run `chmod 600 {path}`"
    ]


async def test_a_private_file_loads_silently(
    fake_earthscope: FakeEarthScope, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.json"
    await FileTokenStore(path).save(fake_earthscope.issue_tokens())
    with caplog.at_level(logging.WARNING, logger="earthscope_sdk_async"):
        assert await FileTokenStore(path).load() is not None
    assert caplog.records == []


@pytest.mark.parametrize("command", ["status", "token", "profile", "refresh", "logout"])
def test_every_command_warns_once_about_a_readable_token_file(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = write(fake.issue_tokens().to_json(), mode=0o640)
    assert main([command]) == 0
    err = capsys.readouterr().err
    assert err.count("readable by other users") == 1, err
    assert f"earthscope-async: warning: token file {path} is readable" in err
    assert f"run `chmod 600 {path}`" in err


# -- item 5: corrupted files -------------------------------------------------------------

BROKEN = '{\n  "access_token": "abc,\n  "refresh_token": "r"\n}\n'
TRUNCATED = '{\n  "access_token": "abc'  # e.g. a full disk


async def test_json_errors_name_line_and_column_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(TRUNCATED)
    path.chmod(0o600)
    with pytest.raises(TokenStoreError) as caught:
        await FileTokenStore(path).load()
    message = str(caught.value)
    assert "it is not valid JSON: a text value (string) is not closed, at line 2, column 19" in (
        message
    )
    assert "starting at" not in message
    assert "Unterminated" not in message
    path.write_text(BROKEN)
    with pytest.raises(TokenStoreError, match="a text value contains a line break or control"):
        await FileTokenStore(path).load()


def test_logout_removes_an_unreadable_token_file(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(BROKEN)
    assert main(["logout"]) == 0
    captured = capsys.readouterr()
    assert not path.exists()
    assert "removed the unreadable token file" in captured.out
    assert fake.count("revoke") == 0  # nothing could be read, so nothing to revoke
    assert main(["logout"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_login_says_it_replaces_an_unreadable_token_file(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("not json at all")
    assert main(["login", "--no-browser"]) == 0
    captured = capsys.readouterr()
    assert f"replacing the unreadable token file {path}" in captured.err
    assert main(["status"]) == 0
