"""Issue 14, case 4: server text never carries a secret into an exception or a log line.

A hostile identity provider echoes the request form (refresh token, client secret, device
code) into ``error_description``; an API echoes the bearer token into ``detail``. Whatever
the server writes passes one redaction helper before it reaches a message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus

import httpx
import pytest

from earthscope_sdk_async import (
    ApiError,
    AsyncEarthScopeClient,
    LoginRequiredError,
    OAuthError,
    Tokens,
)
from earthscope_sdk_async._flows import ClientCredentialsFlow, DeviceCodeFlow
from earthscope_sdk_async._manager import TokenManager
from earthscope_sdk_async._redact import REDACTED, printable, redact, secrets_in_form
from earthscope_sdk_async._stores import MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIiwiZXhwIjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def echo(*secrets: str) -> str:
    """What a careless IdP might write: the form, raw and URL-encoded, and a JWT."""
    parts = [f"refresh_token={quote_plus(s)}&client_secret={quote(s)} raw:{s}" for s in secrets]
    return "could not process " + " ".join(parts) + f" access_token: {JWT}"


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """Our log lines (httpcore's own debug trace prints raw headers; not ours to police)."""
    return "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("earthscope_sdk_async")
    )


def leaked(error: BaseException, secrets: tuple[str, ...], logs: str) -> list[str]:
    texts = [str(error), repr(error), logs]
    texts += [str(getattr(error, name, "")) for name in ("error_description", "detail", "error")]
    return [s for s in secrets if any(s in text for text in texts)]


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("bad refresh_token=abcdefgh1234&x=1", "abcdefgh1234"),
        ('{"client_secret": "hunter2hunter2"}', "hunter2hunter2"),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        (f"token {JWT} rejected", JWT),
        ("sig " + "0123456789abcdef" * 4, "0123456789abcdef" * 4),
        ("X-Amz-Signature=deadbeefcafe", "deadbeefcafe"),
        ("device_code: Nq2xd9jK", "Nq2xd9jK"),
    ],
)
def test_token_shaped_text_is_redacted(text: str, hidden: str) -> None:
    assert hidden not in redact(text)
    assert REDACTED in redact(text)


def test_known_secrets_and_their_encodings_are_redacted() -> None:
    secret = "s:e+c%r/et"
    text = f"got {secret} and {quote_plus(secret)} and {quote(secret, safe='')}"
    assert all(form not in redact(text, [secret]) for form in (secret, quote_plus(secret)))
    assert redact("invalid_grant: the grant expired", ["zzzz"]) == (
        "invalid_grant: the grant expired"
    )


def test_control_characters_never_pass() -> None:
    hostile = "ok\x1b[2J\x1b]0;pwned\x07\u202egnp.exe\r\nnext\x00\x9b"
    assert printable(hostile) == "ok[2J]0;pwnedgnp.exe next"
    assert all(ord(c) >= 32 and c != "\x7f" for c in redact(hostile))


def test_secrets_in_form_and_basic_header() -> None:
    form = "grant_type=refresh_token&refresh_token=r1r1r1r1&client_id=abc&client_secret=s%2Bs"
    basic = {"Authorization": "Basic bTJtOnMlM0FlJTJCYyUyNXIlMkZldA=="}  # m2m:s%3Ae%2Bc...
    assert set(secrets_in_form(form)) == {"r1r1r1r1", "s+s"}
    assert "s:e+c%r/et" in secrets_in_form(None, basic)


async def test_case4_refresh_error_text_is_redacted(
    fake_earthscope: FakeEarthScope, caplog: pytest.LogCaptureFixture
) -> None:
    tokens: Tokens = fake_earthscope.issue_tokens().replace(expires_at=PAST)
    assert tokens.refresh_token is not None
    refresh = tokens.refresh_token
    fake_earthscope.add_fault(
        "token", status=400, json={"error": "invalid_grant", "error_description": echo(refresh)}
    )
    manager = TokenManager(fake_earthscope.settings(), store=MemoryTokenStore(tokens))
    caplog.set_level(logging.DEBUG, logger="earthscope_sdk_async")
    with pytest.raises(LoginRequiredError) as info:
        await manager.get_access_token()
    assert leaked(info.value, (refresh, quote_plus(refresh), JWT), ours(caplog)) == []
    assert info.value.error == "invalid_grant"


async def test_case4_client_secret_echo_is_redacted(
    fake_earthscope: FakeEarthScope, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fake_earthscope.machine_settings()
    assert settings.client_secret is not None
    secret = settings.client_secret
    fake_earthscope.add_fault(
        "token",
        status=401,
        json={"error": "invalid_client", "error_description": echo(secret)},
        headers={"X-Request-Id": f"client_secret={secret}"},
    )
    caplog.set_level(logging.DEBUG, logger="earthscope_sdk_async")
    async with httpx.AsyncClient() as http:
        with pytest.raises(OAuthError) as info:
            await ClientCredentialsFlow(http, settings, max_attempts=1).login()
    assert leaked(info.value, (secret, quote_plus(secret), JWT), ours(caplog)) == []


async def test_case4_device_code_echo_is_redacted(fake_earthscope: FakeEarthScope) -> None:
    async with httpx.AsyncClient() as http:
        flow = DeviceCodeFlow(http, fake_earthscope.settings())
        code = await flow.request_code()
        fake_earthscope.add_fault(
            "token",
            status=400,
            json={"error": "access_denied", "error_description": f"denied {code.device_code}"},
        )
        with pytest.raises(OAuthError) as info:
            await flow.poll(code)
    assert leaked(info.value, (code.device_code,), "") == []


async def test_case4_api_detail_echoing_the_bearer_token_is_redacted(
    fake_earthscope: FakeEarthScope,
) -> None:
    tokens = fake_earthscope.issue_tokens()
    fake_earthscope.add_fault(
        "profile", status=403, json={"detail": f"token {tokens.access_token} may not do this"}
    )
    async with AsyncEarthScopeClient(
        settings=fake_earthscope.settings(), store=MemoryTokenStore(tokens)
    ) as client:
        with pytest.raises(ApiError) as info:
            await client.user.get_profile()
    assert leaked(info.value, (tokens.access_token,), "") == []
    assert "may not do this" in str(info.value)
