"""Static types of the sync facade, checked by ``mypy --strict`` (tests/test_sync_client_typing.py).

Never executed. ``assert_type`` fails the check when a derived method's type drifts from its
async twin's; each ``# type: ignore[code]`` line must really be an error (``--strict`` warns
about unused ignores), which proves that wrong calls are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing_extensions import assert_type

from earthscope_sdk_async import (
    AwsCredentials,
    DeviceCode,
    EarthScopeAuth,
    EarthScopeClient,
    Settings,
    SyncUserService,
    TokenManager,
    Tokens,
)


def prompt(code: DeviceCode) -> None:
    """A plain (sync) prompt."""


async def async_prompt(code: DeviceCode) -> None:
    """An async prompt."""


def check_client(client: EarthScopeClient) -> None:
    assert_type(client.get_access_token(), str)
    assert_type(client.refresh(), Tokens)
    assert_type(client.refresh(force=False), Tokens)
    assert_type(client.login(), Tokens)
    assert_type(client.login(prompt), Tokens)
    assert_type(client.login(prompt=async_prompt), Tokens)
    assert_type(client.logout(), bool)
    assert_type(client.logout(revoke=False), bool)
    assert_type(client.close(), None)
    assert_type(client.settings, Settings)
    assert_type(client.tokens, TokenManager)
    assert_type(client.auth, EarthScopeAuth)
    assert_type(client.user, SyncUserService)
    assert_type(EarthScopeClient.get_access_token(client), str)


def check_user(client: EarthScopeClient) -> None:
    user = client.user
    assert_type(user.get_profile(), dict[str, Any])
    assert_type(user.get_userinfo(), dict[str, Any])
    assert_type(user.get_userinfo(refresh=True), dict[str, Any])
    ids: Sequence[str] = ["a"]
    assert_type(user.lookup_anon(ids=ids, emails=("e@example.org",)), Any)
    assert_type(user.get_aws_credentials(role="s3-miniseed-v2"), AwsCredentials)
    assert_type(
        user.get_aws_credentials(role="s3-miniseed-v2", force=True, year=2024), AwsCredentials
    )


def check_constructor_and_context() -> None:
    with EarthScopeClient() as client:
        assert_type(client, EarthScopeClient)
    EarthScopeClient(Settings(), store=None, clock=None, retry=None)


def check_wrong_calls_are_rejected(client: EarthScopeClient) -> None:
    client.refresh(True)  # type: ignore[call-arg]  # keyword-only
    client.logout(revok=False)  # type: ignore[call-arg]
    client.get_access_token("extra")  # type: ignore[call-arg]
    client.login(prompt=42)  # type: ignore[arg-type]
    token: int = client.get_access_token()  # type: ignore[assignment]
    client.user.get_userinfo(True)  # type: ignore[call-arg]
    client.user.get_aws_credentials("s3-miniseed-v2")  # type: ignore[call-arg]  # keyword-only
    client.user.get_aws_credentials(role="r", year=2.5)  # type: ignore[arg-type]
    client.user.lookup_anon(ids=[1])  # type: ignore[list-item]
    client.user.get_profile(refresh=True)  # type: ignore[call-arg]
    client.no_such_method()  # type: ignore[attr-defined]
    EarthScopeClient(Settings(), http_client=None)  # type: ignore[call-arg]
    EarthScopeClient(store=Settings())  # type: ignore[arg-type]
    del token
