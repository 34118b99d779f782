"""Issue 14, case 7: the login prompt does not trust the identity provider.

Only ``https`` (and loopback ``http``) URLs reach the browser, never ``javascript:``,
``file:``, ``data:`` or option-like strings; escape sequences in server text never reach
the terminal.
"""

from __future__ import annotations

import webbrowser
from typing import Any

import httpx
import pytest

from earthscope_sdk_async._client import _prompt
from earthscope_sdk_async._errors import InvalidResponseError
from earthscope_sdk_async._flows import DeviceCode, DeviceCodeFlow
from earthscope_sdk_async._urls import openable_url
from earthscope_sdk_async.testing import FakeEarthScope

HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "file:///etc/passwd",
    "data:text/html,<script>alert(1)</script>",
    "--remote-debugging-port=9222",
    "-incognito",
    "http://evil.example.org/activate",  # plain http off the loopback
    "https://user:pass@login.example.org/",
    "https://login.example.org/\x1b]8;;javascript:alert(1)\x07",
    "https:///no-host",
    "vbscript:msgbox",
]
ESCAPES = "\x1b[2J\x1b[31mABCD\x1b]0;owned\x07-EFGH\u202e\x9b"


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_are_never_openable(url: str) -> None:
    assert openable_url(url) is None


@pytest.mark.parametrize(
    "url", ["https://login.earthscope.org/activate?user_code=AB-CD", "http://127.0.0.1:8080/x"]
)
def test_https_and_loopback_http_are_openable(url: str) -> None:
    assert openable_url(url) == url


def device_reply(**fields: Any) -> dict[str, Any]:
    body = {
        "device_code": "dc-" + "x" * 20,
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://login.example.org/activate",
        "expires_in": 900,
        "interval": 5,
    }
    body.update(fields)
    return body


async def request_code(fake: FakeEarthScope, **fields: Any) -> DeviceCode:
    fake.add_fault("device_code", status=200, json=device_reply(**fields))
    async with httpx.AsyncClient() as http:
        return await DeviceCodeFlow(http, fake.settings()).request_code()


@pytest.mark.parametrize("url", HOSTILE_URLS)
async def test_case7_hostile_verification_uri_is_a_typed_error(
    fake_earthscope: FakeEarthScope, url: str
) -> None:
    with pytest.raises(InvalidResponseError, match="verification_uri"):
        await request_code(fake_earthscope, verification_uri=url)


@pytest.mark.parametrize("url", HOSTILE_URLS)
async def test_case7_hostile_complete_uri_is_dropped(
    fake_earthscope: FakeEarthScope, url: str
) -> None:
    code = await request_code(fake_earthscope, verification_uri_complete=url)
    assert code.verification_uri_complete is None
    assert code.verification_uri == "https://login.example.org/activate"


async def test_case7_escape_sequences_in_user_code_are_stripped(
    fake_earthscope: FakeEarthScope,
) -> None:
    code = await request_code(fake_earthscope, user_code=ESCAPES)
    assert code.user_code == "[2J[31mABCD]0;owned-EFGH"
    assert all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in code.user_code)


def hand_built(uri: str, complete: str | None, user_code: str = ESCAPES) -> DeviceCode:
    return DeviceCode(
        device_code="secret-device-code",
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=complete,
        expires_in=900,
        deadline=900,
    )


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_case7_default_prompt_never_opens_a_hostile_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(_prompt, "browser_available", lambda: True)
    monkeypatch.setattr(webbrowser, "open", lambda u, *a, **k: opened.append(u) or True)
    _prompt.default_prompt(hand_built(url, url))
    assert opened == []
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err


def test_default_prompt_opens_a_safe_url(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(_prompt, "browser_available", lambda: True)
    monkeypatch.setattr(webbrowser, "open", lambda u, *a, **k: opened.append(u) or True)
    good = "https://login.example.org/activate?user_code=ABCD"
    _prompt.default_prompt(hand_built("--remote-debugging-port=9222", good, "ABCD"))
    assert opened == [good]
