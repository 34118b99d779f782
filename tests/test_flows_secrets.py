"""C54: no token, secret or device_code in any log record, exception str() or repr()."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from _flows_helpers import (
    DEVICE_CODE_URL,
    REVOKE_URL,
    TOKEN_URL,
    FakeClock,
    device_body,
    http_client,
    id_token,
    pending,
    settings,
    slow_down,
    token_body,
)

from earthscope_sdk_async._errors import EarthScopeError
from earthscope_sdk_async._flows import (
    ClientCredentialsFlow,
    DeviceCodeFlow,
    refresh_tokens,
    revoke_token,
)
from earthscope_sdk_async._tokens import Tokens

pytestmark = pytest.mark.anyio

ACCESS = "SENTINEL-ACCESS-7f3a"
REFRESH = "SENTINEL-REFRESH-91bc"
NEW_REFRESH = "SENTINEL-NEWREFRESH-22de"
SECRET = "SENTINEL-SECRET-c0de"
DEVICE = "SENTINEL-DEVICE-5e5e"
SENTINELS = [ACCESS, REFRESH, NEW_REFRESH, SECRET, DEVICE]


def sentinel_body(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    return token_body(
        access_token=ACCESS,
        refresh_token=NEW_REFRESH,
        id_token=id_token(clock, nonce="SENTINEL-IDTOKEN"),
        **changes,
    )


def assert_clean(texts: list[str], id_tokens: list[str]) -> None:
    for text in texts:
        for secret in [*SENTINELS, "SENTINEL-IDTOKEN", *id_tokens]:
            assert secret not in text


async def collect(run: Callable[[], Awaitable[Any]], outputs: list[str]) -> None:
    """Run a flow; record str/repr of whatever it returned or raised (and its cause)."""
    try:
        result = await run()
    except EarthScopeError as exc:
        outputs += [str(exc), repr(exc), str(exc.args), str(exc.__cause__), repr(exc.__cause__)]
    else:
        outputs += [str(result), repr(result)]


async def test_c54_no_secret_in_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    outputs: list[str] = []
    user = settings()
    machine = settings(client_secret=SECRET)
    basic = settings(client_secret=SECRET, client_auth_method="client_secret_basic")
    bad_id = id_token(clock, iss="https://evil.example.com/", nonce="SENTINEL-IDTOKEN")
    good_id = sentinel_body(clock)["id_token"]
    tokens = Tokens(access_token="SENTINEL-ACCESS-old", refresh_token=REFRESH)

    with respx.mock(assert_all_called=True) as mock:
        mock.post(DEVICE_CODE_URL).respond(200, json=device_body(device_code=DEVICE))
        mock.post(TOKEN_URL).mock(
            side_effect=[
                # device login: pending, network error, HTML 5xx, slow_down, approved
                pending(),
                httpx.ConnectError("refused"),
                httpx.Response(502, text="<html/>"),
                slow_down(),
                httpx.Response(200, json=sentinel_body(clock)),
                # device login denied
                httpx.Response(403, json={"error": "access_denied", "error_description": "denied"}),
                # refresh: ok, invalid_grant, transport failure, malformed, bad id_token
                httpx.Response(200, json=sentinel_body(clock)),
                httpx.Response(
                    403, json={"error": "invalid_grant", "error_description": "Unknown"}
                ),
                httpx.ReadTimeout("timeout"),
                httpx.Response(200, json=token_body(access_token=ACCESS, token_type=SECRET)),
                httpx.Response(200, json=token_body(access_token=ACCESS, refresh_token=123)),
                httpx.Response(200, json=token_body(access_token=ACCESS, id_token=bad_id)),
                # client credentials: post ok, basic ok, bad secret
                httpx.Response(200, json=token_body(access_token=ACCESS, refresh_token=None)),
                httpx.Response(200, json=token_body(access_token=ACCESS, refresh_token=None)),
                httpx.Response(
                    401, json={"error": "access_denied", "error_description": "Unauthorized"}
                ),
            ]
        )
        mock.post(REVOKE_URL).mock(
            side_effect=[
                httpx.Response(200),
                httpx.Response(400, json={"error": "invalid_request"}),
            ]
        )
        async with http_client() as http:
            device = DeviceCodeFlow(http, user, clock=clock)
            code = await device.request_code()
            outputs += [str(code), repr(code)]
            await collect(lambda: device.login(prompt=lambda c: None), outputs)
            await collect(lambda: device.poll(code), outputs)
            for _ in range(6):
                await collect(lambda: refresh_tokens(http, machine, tokens, clock=clock), outputs)
            for conf in (machine, basic, machine):
                await collect(
                    lambda conf=conf: ClientCredentialsFlow(http, conf, clock=clock).login(),
                    outputs,
                )
            for _ in range(2):
                await collect(lambda: revoke_token(http, machine, REFRESH, clock=clock), outputs)

    assert any("SENTINEL" not in o and "Tokens(" in o for o in outputs)  # successes happened
    # and failures too (a bad id_token on refresh is dropped with a warning, not an error)
    assert sum("Error" in o for o in outputs) >= 7
    records = [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    assert any("oauth/token" in r for r in records)  # DEBUG logging is on and was captured
    assert_clean(outputs + records + [caplog.text], [good_id, bad_id])
