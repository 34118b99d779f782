"""ClientCredentialsFlow(Simple) of the 0.2.1 API end to end against the fake (C27-C32)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from earthscope_sdk_async import EarthScopeError, InvalidClientError
from earthscope_sdk_async.compat.auth.auth_flow import UnauthorizedError
from earthscope_sdk_async.compat.auth.client_credentials_flow import (
    ClientCredentialsFlowError,
    ClientCredentialsFlowSimple,
)
from earthscope_sdk_async.testing import FakeEarthScope

CLIENT_ID, SECRET = "fake-m2m-client", "fake-m2m-secret"


def machine(fake: FakeEarthScope, path: Path, secret: str = SECRET) -> ClientCredentialsFlowSimple:
    return ClientCredentialsFlowSimple(
        CLIENT_ID, secret, path, domain=fake.url, audience=fake.audience
    )


def test_end_to_end_request_cache_and_use(fake: FakeEarthScope, tmp_path: Path) -> None:
    """C27, C30, C31: one grant, cached in the file, reused by a new object."""
    url = fake.add_file("m2m/data.bin", b"\x00\x01" * 10)
    path = tmp_path / "m2m.json"
    token = machine(fake, path).get_token_or_request_if_expired()
    assert fake.client_credentials_count == 1
    form = next(r.form for r in fake.requests if r.grant_type == "client_credentials")
    assert form["audience"] == fake.audience and form["client_id"] == CLIENT_ID
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["access_token"] == token

    again = machine(fake, path)
    assert again.get_token_or_request_if_expired() == token
    assert fake.client_credentials_count == 1  # read from the file
    assert again.has_refresh_token is False
    response = httpx.get(url, headers={"authorization": f"Bearer {token}"})
    assert response.content == b"\x00\x01" * 10


def test_c40_a_token_about_to_expire_is_renewed(tmp_path: Path) -> None:
    with FakeEarthScope(access_token_lifetime=30) as fake:  # 30 s < the 60 s leeway
        flow = machine(fake, tmp_path / "m2m.json")
        first = flow.get_token_or_request_if_expired()
        second = machine(fake, tmp_path / "m2m.json").get_token_or_request_if_expired()
        assert second != first
        assert fake.client_credentials_count == 2


def test_c32_wrong_secret_is_unauthorized(fake: FakeEarthScope, tmp_path: Path) -> None:
    flow = machine(fake, tmp_path / "m2m.json", secret="wrong-secret")
    with pytest.raises(UnauthorizedError) as caught:
        flow.request_tokens()
    assert isinstance(caught.value, EarthScopeError)
    assert isinstance(caught.value.__cause__, InvalidClientError)
    assert "wrong-secret" not in str(caught.value)
    assert fake.count("token") == 1  # final: no retry
    assert not (tmp_path / "m2m.json").exists()


def test_c32_other_refusals_are_client_credentials_flow_errors(
    fake: FakeEarthScope, tmp_path: Path
) -> None:
    flow = ClientCredentialsFlowSimple(
        "unknown-client", SECRET, tmp_path / "m2m.json", domain=fake.url, audience=fake.audience
    )
    with pytest.raises(ClientCredentialsFlowError) as caught:
        flow.get_token_or_request_if_expired()
    assert not isinstance(caught.value, UnauthorizedError)
    assert caught.value.status_code == 401  # type: ignore[attr-defined]

    wrong_audience = ClientCredentialsFlowSimple(
        CLIENT_ID, SECRET, tmp_path / "m2m.json", domain=fake.url, audience="https://other"
    )
    with pytest.raises(ClientCredentialsFlowError):
        wrong_audience.request_tokens()
