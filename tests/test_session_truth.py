"""What the SDK learns about a session sticks: a refresh token rejected with invalid_grant is
recorded in the store, so later processes and ``earthscope-async status`` say so (issue 18,
item 1); and one freshness rule serves the token manager and the CLI fast path (item 7)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from earthscope_sdk_async import LoginRequiredError, Tokens
from earthscope_sdk_async._cli import main
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._stores import FileTokenStore, MemoryTokenStore
from earthscope_sdk_async._tokens import refresh_leeway
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEarthScope]:
    with FakeEarthScope(device_interval=0.02) as server:
        monkeypatch.setenv("ES_OAUTH2__DOMAIN", server.url)
        monkeypatch.setenv("ES_RESOURCES__API_URL", server.url)
        yield server


def tokens_file() -> Path:
    return Path.home() / ".earthscope" / "default" / "tokens.json"


def seed(tokens: Tokens) -> Tokens:
    path = tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(tokens.to_json())
    path.chmod(0o600)
    return tokens


# -- item 1: a rejected refresh token is recorded ----------------------------------------


async def test_a_rejected_refresh_token_is_recorded_and_never_sent_again(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    tokens = fake.issue_tokens()
    fake.revoke_family(tokens.refresh_token or "")
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.save(tokens.replace(expires_at=PAST))
    with pytest.raises(LoginRequiredError) as first:
        await TokenManager(fake.settings(), store=store).get_access_token()
    assert first.value.error == "invalid_grant"
    saved = await store.load()
    assert saved is not None and saved.refresh_rejected_at is not None
    assert saved.refresh_token == tokens.refresh_token  # kept: 1.x still reads the file
    sent = fake.refresh_count
    with pytest.raises(LoginRequiredError) as again:  # another process: no second request
        await TokenManager(fake.settings(), store=store).get_access_token()
    assert again.value.error == "invalid_grant"
    assert fake.refresh_count == sent


async def test_a_new_login_clears_the_rejection(fake_earthscope: FakeEarthScope) -> None:
    fake = fake_earthscope
    dead = fake.issue_tokens().replace(expires_at=PAST, refresh_rejected_at=PAST)
    store = MemoryTokenStore(dead)
    manager = TokenManager(fake.settings(), store=store)
    await manager.save(fake.issue_tokens())
    saved = await store.load()
    assert saved is not None and saved.refresh_rejected_at is None
    assert await manager.get_access_token() == saved.access_token


def test_tokens_json_round_trips_the_rejection_and_1x_files_load() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    tokens = Tokens(access_token="a", refresh_token="r", refresh_rejected_at=when)
    assert Tokens.from_json(tokens.to_json()).refresh_rejected_at == when
    assert Tokens.from_json('{"access_token": "a"}').refresh_rejected_at is None
    with pytest.raises(ValueError, match="refresh_rejected_at"):
        Tokens.from_json('{"access_token": "a", "refresh_rejected_at": "yesterday"}')


def test_status_after_a_revocation_exits_3_and_says_why(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = seed(fake.issue_tokens().replace(expires_at=PAST))
    fake.revoke_family(tokens.refresh_token or "")
    assert main(["token"]) == 3
    assert "session expired or was revoked" in capsys.readouterr().err
    before = len(fake.requests)
    assert main(["status"]) == 3
    captured = capsys.readouterr()
    assert "Logged in as" not in captured.out
    assert "Session over for fake-user@example.org" in captured.out
    assert re.search(r"refresh token\s+rejected by the identity provider", captured.out)
    assert "run `earthscope-async login`" in captured.err
    assert main(["status", "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["session_over"] is True and data["refresh_token_rejected_at"]
    assert len(fake.requests) == before  # status still makes no request


def test_status_check_asks_the_identity_provider(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = seed(fake.issue_tokens())  # fresh: plain status cannot know it was revoked
    assert main(["status"]) == 0
    capsys.readouterr()
    assert main(["status", "--check"]) == 0
    assert "verified with the identity provider" in capsys.readouterr().err
    assert fake.refresh_count == 1
    rotated = Tokens.from_json(tokens_file().read_text())
    fake.revoke_family(rotated.refresh_token or "")
    assert main(["status", "--check"]) == 3
    captured = capsys.readouterr()
    assert "rejected the refresh token" in captured.err
    assert main(["status"]) == 0  # recorded; the access token itself has not expired yet
    assert "rejected the refresh token" in capsys.readouterr().err
    assert Tokens.from_json(tokens_file().read_text()).refresh_rejected_at is not None
    assert tokens.refresh_token != rotated.refresh_token


# -- item 7: one freshness rule ------------------------------------------------------------


def test_refresh_leeway_is_clamped_to_half_the_lifetime() -> None:
    with FakeEarthScope() as fake:
        short = fake.issue_tokens(lifetime=60).replace(expires_at=None)  # iat/exp: 60 s
        assert refresh_leeway(short, 60.0) == 30.0
        assert refresh_leeway(short, 10.0) == 10.0
    opaque = Tokens(access_token="opaque", expires_at=datetime.now(timezone.utc))
    assert refresh_leeway(opaque, 60.0) == 60.0
    assert refresh_leeway(opaque, 60.0, lifetime=20.0) == 10.0


def test_token_fast_path_uses_the_managers_rule_for_short_lived_tokens(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 60 s token with 50 s left is fresh for the manager (leeway 30 s): the CLI prints it
    without a refresh, as the manager would hand it out."""
    issued = fake.issue_tokens(lifetime=60)
    ttl = issued.ttl()
    assert ttl is not None
    tokens = seed(issued.replace(expires_at=datetime.now(timezone.utc) + timedelta(seconds=50)))
    assert tokens.issued_at is not None
    assert main(["token"]) == 0
    assert capsys.readouterr().out == tokens.access_token + "\n"
    assert fake.refresh_count == 0
    assert fake.requests == []
