"""AuthFlow.refresh / revoke / validate_tokens / the token properties of the 0.2.1 API,
on the async engine against the fake EarthScope (C23, C33, C38, C42, C43, C62).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from earthscope_sdk_async import (
    EarthScopeError,
    LoginRequiredError,
    OAuthServerError,
    Tokens,
    TransportError,
)
from earthscope_sdk_async.compat.auth.auth_flow import (
    AuthFlow,
    InvalidRefreshTokenError,
    NoIdTokenError,
    NoRefreshTokenError,
    NoTokensError,
    RevokeTokenError,
    ValidTokens,
)
from earthscope_sdk_async.testing import FakeEarthScope


class Memory(AuthFlow):
    """The smallest 0.2.1 subclass: tokens in a dict."""

    def __init__(self, fake: FakeEarthScope, saved: dict[str, Any] | None = None) -> None:
        super().__init__(fake.url, fake.audience, fake.client_id, "openid profile email")
        self.saved = saved
        self.saves: list[ValidTokens] = []

    def load_tokens(self) -> ValidTokens:
        if self.saved is None:
            raise NoTokensError
        return self.validate_tokens(self.saved).tokens

    def save_tokens(self, creds: ValidTokens) -> None:
        self.saves.append(creds)
        self.saved = dict(vars(creds))


def response_of(tokens: Tokens, expires_in: int = 3600) -> dict[str, Any]:
    """A token endpoint response as 0.2.1 passed it to validate_and_save_tokens."""
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "id_token": tokens.id_token,
        "scope": tokens.scope,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }


@pytest.fixture
def flow(fake: FakeEarthScope) -> Memory:
    flow = Memory(fake)
    flow.validate_and_save_tokens(response_of(fake.issue_tokens()))
    return flow


def test_validate_and_save_sets_every_property(fake: FakeEarthScope) -> None:
    tokens = fake.issue_tokens()
    flow = Memory(fake)
    before = dt.datetime.now(dt.timezone.utc)
    assert flow.validate_and_save_tokens(response_of(tokens)) is flow
    assert flow.saves == [flow.tokens]
    assert flow.access_token == tokens.access_token
    assert flow.refresh_token == tokens.refresh_token
    assert flow.id_token == tokens.id_token
    assert flow.has_refresh_token
    assert flow.access_token_body["sub"] == "auth0|fake-user"
    assert flow.id_token_body["sub"] == "auth0|fake-user"
    assert flow.token_scope == tokens.scope
    assert flow.expires_at.tzinfo is dt.timezone.utc
    assert abs((flow.expires_at - before).total_seconds() - 3600) < 5  # from expires_in (C62)
    assert dt.timedelta(minutes=59) < flow.ttl <= dt.timedelta(hours=1)
    assert flow.issued_at <= dt.datetime.now(dt.timezone.utc)


def test_missing_parts_raise_the_0_2_1_errors(fake: FakeEarthScope) -> None:
    flow = Memory(fake)
    for name in ("access_token", "tokens", "access_token_body", "expires_at", "ttl"):
        with pytest.raises(NoTokensError):
            getattr(flow, name)
    with pytest.raises(NoIdTokenError):
        _ = flow.id_token_body
    tokens = fake.issue_tokens(refresh=False, scope="email")
    flow.validate_tokens({"access_token": tokens.access_token, "expires_in": 60})
    with pytest.raises(NoIdTokenError):
        _ = flow.id_token
    with pytest.raises(NoRefreshTokenError):
        _ = flow.refresh_token
    assert flow.has_refresh_token is False
    with pytest.raises(NoRefreshTokenError, match="re-authenticate"):
        flow.refresh()
    assert fake.count("token") == 0


@pytest.mark.parametrize(
    "data",
    [{}, {"access_token": ""}, {"access_token": 5}, {"access_token": "opaque"}],
)
def test_unusable_token_data_is_no_tokens_error(fake: FakeEarthScope, data: dict[str, Any]) -> None:
    with pytest.raises(NoTokensError, match="log in again"):
        Memory(fake).validate_tokens(data)


def test_c62_an_opaque_access_token_with_a_known_expiry_is_accepted(fake: FakeEarthScope) -> None:
    flow = Memory(fake).validate_tokens({"access_token": "opaque", "expires_in": 600})
    assert flow.access_token == "opaque"
    assert flow.access_token_body == {}
    assert dt.timedelta(minutes=9) < flow.ttl <= dt.timedelta(minutes=10)


def test_c33_refresh_sends_scope_and_saves_once_with_the_rotated_token(flow: Memory) -> None:
    fake_requests_before = len(flow.saves)
    old_refresh, old_access = flow.refresh_token, flow.access_token
    assert flow.refresh() is flow
    assert len(flow.saves) == fake_requests_before + 1  # 0.2.1 could save twice
    assert flow.refresh_token != old_refresh and flow.access_token != old_access
    assert flow.saves[-1].refresh_token == flow.refresh_token


def test_refresh_sends_scope_not_scopes(fake: FakeEarthScope, flow: Memory) -> None:
    flow.refresh(scope="openid email offline_access")
    form = next(r.form for r in fake.requests if r.grant_type == "refresh_token")
    assert form["scope"] == "openid email offline_access"
    assert "scopes" not in form


def test_c23_refresh_without_rotation_keeps_the_refresh_token() -> None:
    with FakeEarthScope(rotation=False) as fake:
        flow = Memory(fake)
        flow.validate_and_save_tokens(response_of(fake.issue_tokens()))
        old_refresh = flow.refresh_token
        flow.refresh()
        assert flow.refresh_token == old_refresh
        assert [s.refresh_token for s in flow.saves] == [old_refresh, old_refresh]


def test_c38_revoked_refresh_token_is_invalid_refresh_token_error(
    fake: FakeEarthScope, flow: Memory
) -> None:
    fake.revoke_family(flow.refresh_token)
    with pytest.raises(InvalidRefreshTokenError) as caught:
        flow.refresh()
    assert isinstance(caught.value, EarthScopeError)
    assert isinstance(caught.value.__cause__, LoginRequiredError)
    assert caught.value.error == "invalid_grant"  # type: ignore[attr-defined]
    assert flow.refresh_token not in str(caught.value)


def test_c38_get_access_token_says_re_authenticate(fake: FakeEarthScope, flow: Memory) -> None:
    fake.revoke_family(flow.refresh_token)
    saves = len(flow.saves)
    with pytest.raises(InvalidRefreshTokenError, match="To resolve, re-authenticate"):
        flow.get_access_token_refresh_if_necessary()
    assert len(flow.saves) == saves
    # no_auto_refresh still hands out the stored token, as in 0.2.1
    assert flow.get_access_token_refresh_if_necessary(no_auto_refresh=True) == flow.access_token


def test_threshold_decides_whether_to_refresh(fake: FakeEarthScope, flow: Memory) -> None:
    token = flow.access_token
    assert flow.get_access_token_refresh_if_necessary(auto_refresh_threshold=60) == token
    assert fake.refresh_count == 0
    assert flow.get_access_token_refresh_if_necessary() != token  # 1 h token < 3600 s
    assert fake.refresh_count == 1


def test_c38_network_failure_is_not_invalid_refresh_token(
    fake: FakeEarthScope, flow: Memory
) -> None:
    fake.add_fault("token", action="drop")
    with pytest.raises(TransportError) as caught:
        flow.refresh()
    assert not isinstance(caught.value, InvalidRefreshTokenError)
    assert caught.value.__cause__ is not caught.value
    fake.add_fault("token", status=503, json={"error": "temporarily_unavailable"})
    with pytest.raises(OAuthServerError):
        flow.refresh()
    assert flow.refresh() is flow  # the refresh token was fine all along


def test_c42_c43_revoke_returns_none_and_kills_the_refresh_token(
    fake: FakeEarthScope, flow: Memory
) -> None:
    saves = len(flow.saves)
    assert flow.refresh(revoke=True) is None
    assert len(flow.saves) == saves  # 0.2.1 did not touch the stored tokens either
    request = next(r for r in fake.requests if r.endpoint == "revoke")
    assert request.params["token"] == flow.refresh_token
    assert request.params["client_id"] == fake.client_id
    with pytest.raises(InvalidRefreshTokenError):
        flow.refresh()


def test_revoke_failure_is_a_runtime_error(fake: FakeEarthScope, flow: Memory) -> None:
    fake.add_fault("revoke", status=400, json={"error": "invalid_request", "detail": "nope"})
    with pytest.raises(RevokeTokenError) as caught:
        flow.refresh(revoke=True)
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, EarthScopeError)
    assert flow.refresh_token not in str(caught.value)
