"""The default store: tokens.json, falling back read-only to earthscope-cli 0.x's
sso_tokens.json, migrated on the first save (C34: saved before use)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from earthscope_sdk_async import LoginRequiredError, Tokens
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._client._legacy_store import LegacyFallbackStore
from earthscope_sdk_async._stores import FileTokenStore
from earthscope_sdk_async.testing import FakeEarthScope


def legacy_payload(tokens: Tokens, *, expired: bool = False) -> dict[str, object]:
    now = int(time.time())
    return {
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
        "expires_at": now - 10 if expired else now + 3600,
        "issued_at": now - 3600,
    }


def write_legacy(fake: FakeEarthScope, payload: object) -> Path:
    path = fake.settings().legacy_tokens_file
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)
    return path


async def test_legacy_file_is_used_read_only(fake_earthscope: FakeEarthScope) -> None:
    legacy = write_legacy(fake_earthscope, legacy_payload(fake_earthscope.issue_tokens()))
    before = legacy.read_bytes()
    async with AsyncEarthScopeClient(fake_earthscope.settings()) as client:
        assert (await client.user.get_profile()).user_id == "auth0|fake-user"
    assert legacy.read_bytes() == before
    assert not fake_earthscope.settings().tokens_file.exists()
    assert fake_earthscope.refresh_count == 0


async def test_first_refresh_migrates_to_tokens_json(fake_earthscope: FakeEarthScope) -> None:
    settings = fake_earthscope.settings()
    issued = fake_earthscope.issue_tokens()
    legacy = write_legacy(fake_earthscope, legacy_payload(issued, expired=True))
    before = legacy.read_bytes()
    async with AsyncEarthScopeClient(settings) as client:
        await client.user.get_profile()
    assert fake_earthscope.refresh_count == 1
    assert legacy.read_bytes() == before  # never written
    saved = Tokens.from_json(settings.tokens_file.read_text())
    assert saved.refresh_token and saved.refresh_token != issued.refresh_token  # rotated
    # a new client (another run) reads tokens.json, not the stale legacy file
    async with AsyncEarthScopeClient(settings) as client:
        await client.user.get_profile()
    assert fake_earthscope.refresh_count == 1
    assert fake_earthscope.reuse_detections == 0


async def test_tokens_json_wins_over_legacy(fake_earthscope: FakeEarthScope) -> None:
    settings = fake_earthscope.settings()
    write_legacy(fake_earthscope, {"access_token": "legacy-token"})
    current = fake_earthscope.issue_tokens()
    await FileTokenStore(settings.tokens_file).save(current)
    store = LegacyFallbackStore(FileTokenStore(settings.tokens_file), settings.legacy_tokens_file)
    loaded = await store.load()
    assert loaded is not None and loaded.access_token == current.access_token


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"id_token": "x"}', "\xff"])
async def test_corrupted_legacy_file_is_ignored_with_a_warning(
    fake_earthscope: FakeEarthScope, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    write_legacy(fake_earthscope, content)
    async with AsyncEarthScopeClient(fake_earthscope.settings()) as client:
        with pytest.raises(LoginRequiredError):
            await client.user.get_profile()
    assert "earthscope-cli 0.x" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)


async def test_logout_keeps_legacy_file_and_stops_falling_back(
    fake_earthscope: FakeEarthScope, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fake_earthscope.settings()
    legacy = write_legacy(fake_earthscope, legacy_payload(fake_earthscope.issue_tokens()))
    async with AsyncEarthScopeClient(settings) as client:
        await client.user.get_profile()
        await client.logout(revoke=False)
        assert legacy.exists() and not settings.tokens_file.exists()
        assert "still exists" in caplog.text
        assert await client.store.load() is None  # this store no longer falls back
        with pytest.raises(LoginRequiredError):
            await client.user.get_profile()


async def test_store_without_any_file(fake_earthscope: FakeEarthScope) -> None:
    settings = fake_earthscope.settings()
    store = LegacyFallbackStore(FileTokenStore(settings.tokens_file), settings.legacy_tokens_file)
    assert await store.load() is None
    assert "sso_tokens.json" in repr(store)
