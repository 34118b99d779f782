"""C54 end to end: no secret in any log record, exception or repr, over real HTTP.

Every flow runs against the fake EarthScope with DEBUG logging on, succeeding and failing
(denied, expired, bad secret, malformed or truncated responses, dropped connections). The
secrets checked are the real ones: every token the fake issued (read back from the flow
results, ``issue_tokens`` and the request log), the client secrets, the device codes the SDK
polled with and the Authorization headers it sent.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async._errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    EarthScopeError,
    InvalidClientError,
    InvalidResponseError,
    LoginRequiredError,
    OAuthServerError,
    TransportError,
)
from earthscope_sdk_async._flows import (
    ClientCredentialsFlow,
    DeviceCode,
    DeviceCodeFlow,
    refresh_tokens,
    revoke_token,
)
from earthscope_sdk_async._tokens import Tokens, fingerprint
from earthscope_sdk_async.testing import FakeEarthScope

SCALE = 0.01
TLS = ssl.create_default_context()
M2M_ID, M2M_SECRET = "m2m", "s:e+c%r/et"
WRONG_SECRET = "Wr0ng:Se+cr%et/9"
PLANTED = "PLANTED-SECRET-3b9d71"  # a token inside a malformed response body
SECRET_FIELDS = ("device_code", "refresh_token", "token", "client_secret", "access_token")
BASIC = ("client_secret_post", "client_secret_basic")


class Run:
    """What one test saw: returned objects, raised errors, and the secrets in play."""

    def __init__(self, fake: FakeEarthScope, http: httpx.AsyncClient) -> None:
        self.fake, self.http = fake, http
        self.objects: list[object] = []
        self.errors: list[BaseException] = []
        self.secrets: set[str] = {M2M_SECRET, WRONG_SECRET, PLANTED}

    def keep(self, value: Any) -> Any:
        self.objects.append(value)
        if isinstance(value, Tokens):
            self.secrets |= {
                t for t in (value.access_token, value.refresh_token, value.id_token) if t
            }
        if isinstance(value, DeviceCode):
            self.secrets.add(value.device_code)
        return value

    async def fails(self, call: Awaitable[Any], error: type[EarthScopeError]) -> None:
        with pytest.raises(error) as caught:
            await call
        self.errors.append(caught.value)

    def issued(self) -> Tokens:
        return self.keep(self.fake.issue_tokens())

    def harvest(self) -> set[str]:
        """Every secret the fake saw on the wire, in every form it could leak in."""
        found = set(self.secrets)
        for request in self.fake.requests:
            found |= {request.form[k] for k in SECRET_FIELDS if request.form.get(k)}
            if "authorization" in request.headers:
                found |= {request.headers["authorization"], request.headers["authorization"][6:]}
            if request.basic_auth:
                found.add(request.basic_auth[1])
        variants = set(found)
        for secret in found:
            variants.add(quote_plus(secret))
            if secret.count(".") == 2:  # a JWT: its signature alone is a secret too
                variants.add(secret.rsplit(".", 1)[1])
        return {v for v in variants if len(v) >= 8}


def texts_of(error: BaseException) -> list[str]:
    """str/repr of an error, its args, attributes and everything it was chained from."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current)]
        out += [repr(a) for a in current.args] + [repr(v) for v in vars(current).values()]
        current = current.__cause__ or current.__context__
    return out


def assert_no_leak(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    secrets = run.harvest()
    assert secrets, "the scenario exchanged no secrets: the test would pass vacuously"
    places = [("log", r.getMessage()) for r in caplog.records] + [("log text", caplog.text)]
    places += [(f"error {type(e).__name__}", t) for e in run.errors for t in texts_of(e)]
    places += [(f"object {type(o).__name__}", t) for o in run.objects for t in (str(o), repr(o))]
    for where, text in places:
        for secret in secrets:
            if secret in text:  # not `assert`: pytest would print the secret
                pytest.fail(f"a secret ({fingerprint(secret)}) leaked into a {where}")


@asynccontextmanager
async def running(caplog: pytest.LogCaptureFixture, **options: Any) -> AsyncIterator[Run]:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="earthscope_sdk_async")
    options = {"time_scale": SCALE, "machine_clients": {M2M_ID: M2M_SECRET}, **options}
    async with FakeEarthScope(**options) as fake, httpx.AsyncClient(verify=TLS) as http:
        run = Run(fake, http)
        yield run
    assert_no_leak(run, caplog)
    ours = [r for r in caplog.records if r.name.startswith("earthscope_sdk_async._flows")]
    assert ours, "DEBUG logging of the flows was not captured"


def device(run: Run) -> DeviceCodeFlow:
    return DeviceCodeFlow(run.http, run.fake.settings(), clock=ScaledClock(SCALE))


def prompt(run: Run, action: str | None) -> Any:
    def show(code: DeviceCode) -> None:
        run.keep(code)
        if action:
            getattr(run.fake, action)(code.user_code)

    return show


async def test_c54_device_login_success_and_failures(caplog: pytest.LogCaptureFixture) -> None:
    async with running(caplog) as run:
        fake = run.fake
        fake.add_fault("token", action="drop")  # C16 path logs a transport failure
        fake.add_fault("token", status=502, body=f"<html>{PLANTED}</html>")
        run.keep(await device(run).login(prompt(run, "approve")))
        await run.fails(device(run).login(prompt(run, "deny")), AccessDeniedError)
        await run.fails(device(run).login(prompt(run, "expire")), DeviceCodeExpiredError)
        fake.add_fault("token", status=200, json={"access_token": PLANTED, "token_type": "mac"})
        await run.fails(device(run).login(prompt(run, "approve")), InvalidResponseError)
        polled = {r.form["device_code"] for r in fake.requests if "device_code" in r.form}
        assert len(polled) == 4 and len(run.errors) == 3


@pytest.mark.parametrize("method", BASIC)
async def test_c54_client_credentials(caplog: pytest.LogCaptureFixture, method: str) -> None:
    async with running(caplog) as run:
        settings = run.fake.machine_settings(client_auth_method=method)
        clock = ScaledClock(SCALE)
        run.fake.add_fault("token", status=503, json={"error": "temporarily_unavailable"})
        run.keep(await ClientCredentialsFlow(run.http, settings, clock=clock).login())
        bad = settings.replace(client_secret=WRONG_SECRET)
        await run.fails(ClientCredentialsFlow(run.http, bad).login(), InvalidClientError)
        run.fake.add_fault("token", action="drop", times=3)
        flow = ClientCredentialsFlow(run.http, settings, clock=clock)
        await run.fails(flow.login(), TransportError)
        run.fake.add_fault("token", status=200, body='{"access_token": "' + PLANTED)
        await run.fails(flow.login(), InvalidResponseError)
        await revoke_token(run.http, settings, PLANTED, clock=clock)  # confidential revoke
        await run.fails(revoke_token(run.http, bad, PLANTED), InvalidClientError)
        assert run.fake.client_credentials_count == 1


async def test_c54_refresh_and_revoke(caplog: pytest.LogCaptureFixture) -> None:
    async with running(caplog) as run:
        fake, http, settings = run.fake, run.http, run.fake.settings()
        old = run.issued()
        new = run.keep(await refresh_tokens(http, settings, old))
        await run.fails(refresh_tokens(http, settings, old), LoginRequiredError)  # reuse
        await run.fails(refresh_tokens(http, settings, new), LoginRequiredError)  # family
        seed = run.issued()
        fake.add_fault("token", action="drop")
        await run.fails(refresh_tokens(http, settings, seed), TransportError)
        fake.add_fault("token", action="truncate")  # half of a real token response
        await run.fails(refresh_tokens(http, settings, seed), TransportError)
        fake.add_fault("token", status=200, json={"access_token": PLANTED, "refresh_token": 5})
        await run.fails(refresh_tokens(http, settings, run.issued()), InvalidResponseError)
        fake.add_fault("token", status=200, body=f"<html>{PLANTED}</html>")
        await run.fails(refresh_tokens(http, settings, run.issued()), InvalidResponseError)
        live = run.issued()
        assert live.refresh_token
        fake.add_fault("revoke", status=503, headers={"Retry-After": "1"}, times=3)
        revoke = revoke_token(http, settings, live.refresh_token, clock=ScaledClock(SCALE))
        await run.fails(revoke, OAuthServerError)
        await revoke_token(http, settings, live.refresh_token)
        await run.fails(refresh_tokens(http, settings, live), LoginRequiredError)
        assert fake.reuse_detections == 1 and len(run.errors) == 8
