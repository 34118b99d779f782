"""earthscope_sdk_async.compat.user.user: 0.2.1's get_user and 0.2.0's lookup_anon against
the fake (C46, C58).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from earthscope_sdk_async import ApiError, ConfigError
from earthscope_sdk_async.compat.user import user
from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEarthScope]:
    with FakeEarthScope() as fake:
        monkeypatch.setattr(user, "API_BASE_URL", f"{fake.url}api/v0")
        yield fake


def test_c46_get_user_gets_api_base_url_user_with_the_bearer(fake: FakeEarthScope) -> None:
    tokens = fake.issue_tokens()
    profile = user.get_user(tokens.access_token)
    assert profile["user_id"] == "auth0|fake-user"
    request = fake.requests[-1]
    assert (request.method, request.path) == ("GET", "/api/v0/user")
    assert request.headers["authorization"] == f"Bearer {tokens.access_token}"


def test_get_user_failure_is_a_runtime_error_with_the_detail(fake: FakeEarthScope) -> None:
    with pytest.raises(user.UserRequestError) as caught:
        user.get_user("not-a-token")
    error = caught.value
    assert isinstance(error, RuntimeError) and isinstance(error, ApiError)
    assert error.status_code == 401
    assert error.detail
    assert "not-a-token" not in str(error)


def test_get_user_non_json_answer_is_typed(fake: FakeEarthScope) -> None:
    fake.add_fault("/api/v0/user", status=200, body="<html>maintenance</html>")
    with pytest.raises(user.UserRequestError, match="not JSON"):
        user.get_user(fake.issue_tokens().access_token)


def test_lookup_anon_posts_ids_and_emails(
    fake: FakeEarthScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(user, "API_BASE_URL", fake.url.rstrip("/"))
    token = fake.issue_tokens().access_token
    found = user.lookup_anon(token, ["u1"], ["a@example.org"])
    assert [item.get("id") or item.get("email") for item in found] == ["u1", "a@example.org"]
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", "/user/anon/")
    assert request.json == {"ids": ["u1"], "emails": ["a@example.org"]}


def test_c58_bearer_is_never_sent_over_plain_http_to_other_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(user, "API_BASE_URL", "http://api.example.org/api/v0")
    with pytest.raises(ConfigError, match="https"):
        user.get_user("token")
    with pytest.raises(ValueError, match="https"):
        user.lookup_anon("token", [], [])


def test_api_base_url_is_read_from_the_environment_at_import() -> None:
    code = "from earthscope_sdk_async.compat.user import user; print(user.API_BASE_URL)"
    env = {**os.environ, "API_BASE_URL": "http://127.0.0.1:9/api/v9"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "http://127.0.0.1:9/api/v9"
