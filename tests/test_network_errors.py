"""Network errors say what happened and which setting to check; one "gave up after N
attempts" wording; a device client is never told to check a secret (issue 18, item 6)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    InvalidClientError,
    RetryPolicy,
    Settings,
    TransportError,
)
from earthscope_sdk_async._cli import main
from earthscope_sdk_async._network_errors import gave_up_after, what_happened
from earthscope_sdk_async._stores import MemoryTokenStore
from earthscope_sdk_async._tokens import Tokens
from earthscope_sdk_async.testing import FakeEarthScope

# every API call here runs on both HTTP backends (aiohttp: the direct path)
pytestmark = pytest.mark.usefixtures("http_backend")


@pytest.fixture
def refused_url() -> Iterator[str]:
    with socket.socket() as sock:  # bound, never listening: connecting is refused at once
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def test_each_failure_is_named() -> None:
    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    refused = ConnectionRefusedError(111, "Connection refused")
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cases = {
        "DNS lookup failed": chained(httpx.ConnectError("x"), dns),
        "connection refused": chained(httpx.ConnectError("x"), refused),
        "TLS certificate verification failed": chained(httpx.ConnectError("x"), cert),
        "timed out while connecting": httpx.ConnectTimeout("x"),
        "timed out waiting for the answer": httpx.ReadTimeout("x"),
        "DNS lookup failed: the host": httpx.ConnectError("[Errno -2] Name or service not known"),
    }
    for words, exc in cases.items():
        assert what_happened(exc).startswith(words), (words, what_happened(exc))
    assert what_happened(httpx.RemoteProtocolError("x")) == "RemoteProtocolError (network problem)"
    assert gave_up_after(4) == "gave up after 4 attempts"


def test_refused_identity_provider_names_the_domain_setting(
    refused_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ES_OAUTH2__DOMAIN", refused_url)
    path = Path.home() / ".earthscope" / "default" / "tokens.json"
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(
        Tokens(access_token="a", refresh_token="r", expires_at=datetime.now(timezone.utc)).to_json()
    )
    path.chmod(0o600)
    assert main(["refresh"]) == 5
    line = one_error_line(capsys.readouterr().err)
    assert "connection refused: nothing is listening at that address" in line
    assert "check your connection and ES_OAUTH2__DOMAIN" in line


async def test_tls_to_a_plain_http_server_is_named_tls(fake_earthscope: FakeEarthScope) -> None:
    https = fake_earthscope.url.replace("http://", "https://")
    settings = fake_earthscope.settings(api_url=https)
    client = AsyncEarthScopeClient(
        settings,
        store=MemoryTokenStore(fake_earthscope.issue_tokens()),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        with pytest.raises(TransportError) as info:
            await client.user.get_profile()
    message = str(info.value)
    assert "TLS" in message, message
    assert "ES_RESOURCES__API_URL" in message


async def test_refused_api_names_the_api_setting_and_gives_up_in_one_wording(
    fake_earthscope: FakeEarthScope, refused_url: str
) -> None:
    settings = fake_earthscope.settings(api_url=refused_url)
    policy = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    async with AsyncEarthScopeClient(settings, store=store, retry=policy) as client:
        with pytest.raises(TransportError) as info:
            await client.user.get_profile()
    message = str(info.value)
    assert "connection refused" in message
    assert "gave up after 2 attempts" in message
    assert "(after 2 attempts)" not in message
    assert "check your connection and ES_RESOURCES__API_URL" in message


async def test_an_unknown_device_client_is_not_told_to_check_a_secret(
    fake_earthscope: FakeEarthScope,
) -> None:
    settings = fake_earthscope.settings(client_id="no-such-client")
    assert settings.client_secret is None
    async with AsyncEarthScopeClient(settings, store=MemoryTokenStore()) as client:
        with pytest.raises(InvalidClientError) as info:
            await client.login(lambda code: None)
    message = str(info.value)
    assert "secret" not in message
    assert "ES_OAUTH2__CLIENT_ID" in message


async def test_a_machine_client_is_told_to_check_its_secret(
    fake_earthscope: FakeEarthScope,
) -> None:
    settings = fake_earthscope.machine_settings(client_secret="wrong")
    async with AsyncEarthScopeClient(settings, store=MemoryTokenStore()) as client:
        with pytest.raises(InvalidClientError) as info:
            await client.login()
    assert "ES_OAUTH2__CLIENT_SECRET" in str(info.value)


def test_settings_names_used_in_messages_exist() -> None:
    from earthscope_sdk_async._settings import ENV_VARS

    for name in ("ES_OAUTH2__DOMAIN", "ES_RESOURCES__API_URL", "ES_OAUTH2__CLIENT_ID"):
        assert name in ENV_VARS
    assert Settings  # the public settings class these names configure
