"""The 0.2.1 device flow API on the async engine, against the fake EarthScope (sync tests).

The original README example runs with only its import changed; subclass hooks
(load_tokens, save_tokens, prompt_user) are called at 0.2.1's call points; polling follows
RFC 8628 (C9-C15); errors map onto 0.2.1's classes and are also EarthScopeErrors.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _flows_helpers import FakeClock

from earthscope_sdk_async import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    EarthScopeError,
    InvalidResponseError,
    TokenStoreError,
)
from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async.compat.auth.auth_flow import NoTokensError, ValidTokens
from earthscope_sdk_async.compat.auth.device_code_flow import (
    DeviceCodeFlow,
    DeviceCodeFlowSimple,
    PollingAccessDeniedError,
    PollingError,
    PollingExpiredError,
    RequestDeviceTokensError,
)
from earthscope_sdk_async.testing import FakeEarthScope

SCALE = 0.002  # ScaledClock + fake time_scale: a 5 s interval lasts 10 ms


@pytest.fixture
def fake() -> Iterator[FakeEarthScope]:
    with FakeEarthScope(device_interval=0, auto_approve_after=1) as fake:
        yield fake


def simple(fake: FakeEarthScope, path: Path | str) -> DeviceCodeFlowSimple:
    return DeviceCodeFlowSimple(path, domain=fake.url, audience=fake.audience)


class Recording(DeviceCodeFlow):
    """A 0.2.1-style subclass: in-memory storage, approves in prompt_user, records calls."""

    def __init__(self, fake: FakeEarthScope, saved: dict[str, Any] | None = None) -> None:
        super().__init__(
            domain=fake.url.rstrip("/"),  # 0.2.1 took a bare host; a URL works too
            audience=fake.audience,
            client_id=fake.client_id,
            scope="openid profile email offline_access",
        )
        self.fake = fake
        self.saved = saved
        self.calls: list[tuple[str, Any]] = []

    def load_tokens(self) -> ValidTokens:
        self.calls.append(("load_tokens", None))
        if self.saved is None:
            raise NoTokensError
        self.validate_tokens(self.saved)
        return self.tokens

    def save_tokens(self, creds: ValidTokens) -> None:
        self.calls.append(("save_tokens", creds))
        self.saved = dict(vars(creds))

    def prompt_user(self) -> None:
        codes = self._device_codes
        assert codes is not None and self.started and not self.polling
        self.calls.append(("prompt_user", codes))
        self.fake.approve(codes.user_code)


# -- the README example --------------------------------------------------------------------


def test_readme_example_runs_with_only_the_import_changed(tmp_path: Path) -> None:
    """C1, C9, C11, C46: the 0.2.1 README, with requests swapped for httpx."""
    with FakeEarthScope(device_interval=0, auto_approve_after=2) as fake:
        url = fake.add_file("2024/station.rnx", b"RINEX DATA" * 100)
        token_path = tmp_path / "token_dir"
        token_path.mkdir()
        # -- begin README (the import line is the only change) ------------------------------
        from earthscope_sdk_async.compat.auth.auth_flow import NoTokensError
        from earthscope_sdk_async.compat.auth.device_code_flow import DeviceCodeFlowSimple

        device_flow = DeviceCodeFlowSimple(
            Path(token_path), domain=fake.url, audience=fake.audience
        )
        try:
            device_flow.get_access_token_refresh_if_necessary()
        except NoTokensError:
            device_flow.do_flow()
        token = device_flow.access_token
        file_name = Path(url).name
        directory_to_save_file = tmp_path / "downloads"
        directory_to_save_file.mkdir()
        r = httpx.get(url, headers={"authorization": f"Bearer {token}"})
        if r.status_code == 200:
            with open(Path(directory_to_save_file / file_name), "wb") as f:
                for data in r.iter_bytes():
                    f.write(data)
        else:
            pytest.fail(f"failure: {r.status_code}, {r.reason_phrase}")
        # -- end README ------------------------------------------------------------------
        assert (directory_to_save_file / "station.rnx").read_bytes() == b"RINEX DATA" * 100
        assert (token_path / "sso_tokens.json").exists()
        assert fake.count("device_code") == 1
        assert fake.count("token", grant_type="urn:ietf:params:oauth:grant-type:device_code") == 3

        # a second run finds the file; 1-hour tokens are under the 3600 s threshold: refresh
        again = DeviceCodeFlowSimple(Path(token_path), domain=fake.url, audience=fake.audience)
        new_token = again.get_access_token_refresh_if_necessary()
        assert new_token != token
        assert fake.refresh_count == 1
        assert httpx.get(url, headers={"authorization": f"Bearer {new_token}"}).status_code == 200


# -- token file ----------------------------------------------------------------------------


def test_no_token_file_raises_no_tokens_error(fake: FakeEarthScope, tmp_path: Path) -> None:
    flow = simple(fake, tmp_path)
    assert flow.path == tmp_path / "sso_tokens.json"
    with pytest.raises(NoTokensError) as caught:
        flow.get_access_token_refresh_if_necessary()
    assert isinstance(caught.value, EarthScopeError)
    assert fake.requests == []


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'{"id_token": "x"}'])
def test_an_unusable_token_file_is_no_tokens_not_a_crash(
    fake: FakeEarthScope, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "sso_tokens.json").write_bytes(content)
    with pytest.raises(NoTokensError, match="log in again"):
        simple(fake, tmp_path).load_tokens()


def test_c55_c56_token_file_is_0600_atomic_and_0_2_1_shaped(
    fake: FakeEarthScope, tmp_path: Path
) -> None:
    path = tmp_path / "new-dir" / "tokens.json"  # a file name, in a missing directory
    flow = simple(fake, path)
    flow.do_flow()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left
    state = json.loads(path.read_text())
    assert {"access_token", "id_token", "refresh_token", "scope", "expires_at", "issued_at"} <= set(
        state
    )
    assert state["access_token"] == flow.access_token
    assert state["expires_at"] == int(flow.expires_at.timestamp())
    assert isinstance(state["issued_at"], int)


def test_a_file_written_by_0_2_1_loads(fake: FakeEarthScope, tmp_path: Path) -> None:
    tokens = fake.issue_tokens()
    claims = tokens.access_claims
    assert claims is not None
    legacy = {  # json.dumps(vars(ValidTokens)) of 0.2.1: exp/iat from the JWT
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
        "expires_at": claims["exp"],
        "issued_at": claims["iat"],
    }
    (tmp_path / "sso_tokens.json").write_text(json.dumps(legacy))
    flow = simple(fake, tmp_path)
    loaded = flow.load_tokens()
    assert loaded.refresh_token == tokens.refresh_token
    assert flow.expires_at.timestamp() == claims["exp"]
    assert flow.issued_at.timestamp() == claims["iat"]
    assert flow.access_token_body["sub"] == "auth0|fake-user"
    assert flow.id_token_body["aud"] == fake.client_id
    assert flow.get_access_token_refresh_if_necessary(no_auto_refresh=True) == tokens.access_token
    assert fake.refresh_count == 0


async def test_the_engine_file_store_reads_the_simple_file(tmp_path: Path) -> None:
    with FakeEarthScope(device_interval=0, auto_approve_after=1) as fake:
        flow = simple(fake, tmp_path)
        flow.do_flow()  # sync compat call from inside a running loop: the portal handles it
    from earthscope_sdk_async import FileTokenStore

    tokens = await FileTokenStore(flow.path).load()
    assert tokens is not None
    assert tokens.refresh_token == flow.refresh_token


# -- subclass hooks ------------------------------------------------------------------------


def test_hooks_are_called_at_the_0_2_1_call_points(fake: FakeEarthScope) -> None:
    flow = Recording(fake)
    with pytest.raises(NoTokensError):
        flow.get_access_token_refresh_if_necessary()
    assert [name for name, _ in flow.calls] == ["load_tokens"]

    result = flow.do_flow()
    assert [name for name, _ in flow.calls] == ["load_tokens", "prompt_user", "save_tokens"]
    codes = flow.calls[1][1]
    assert codes.user_code and codes.verification_uri.startswith(fake.url)
    assert codes.verification_uri_complete.endswith(codes.user_code)
    assert isinstance(codes.expires_in, int) and isinstance(codes.interval, int)
    assert result is flow.tokens and flow.calls[2][1] is flow.tokens
    assert isinstance(result, ValidTokens)

    # a new process: load, then refresh (ttl < 3600), then one save with the rotated token
    later = Recording(fake, saved=flow.saved)
    old_refresh = flow.refresh_token
    later.get_access_token_refresh_if_necessary()
    assert [name for name, _ in later.calls] == ["load_tokens", "save_tokens"]
    saved = later.calls[1][1]
    assert saved.refresh_token and saved.refresh_token != old_refresh  # rotated, kept (C23)


def test_save_errors_propagate_instead_of_being_swallowed(fake: FakeEarthScope) -> None:
    class Broken(Recording):
        def save_tokens(self, creds: ValidTokens) -> None:
            raise OSError("disk full")

    flow = Broken(fake)
    with pytest.raises(OSError, match="disk full"):
        flow.do_flow()
    assert flow.access_token  # the validated tokens stay loaded


def test_simple_save_failure_is_a_token_store_error(fake: FakeEarthScope, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    flow = simple(fake, blocker / "sso_tokens.json")  # parent is a file
    with pytest.raises(TokenStoreError, match="could not save"):
        flow.do_flow()


# -- polling (RFC 8628) --------------------------------------------------------------------


def test_c12_slow_down_adds_five_seconds_to_later_polls(tmp_path: Path) -> None:
    with FakeEarthScope(time_scale=SCALE, device_interval=1, auto_approve_after=3) as fake:
        flow = simple(fake, tmp_path)
        flow._clock = ScaledClock(SCALE)
        fake.add_fault("token", status=429, json={"error": "slow_down"}, times=1)
        flow.request_device_code()
        flow.poll()
        polls = [r.started for r in fake.requests if r.endpoint == "token"]
    assert len(polls) == 5  # slow_down (a fault), pending x 3, ok
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert all(gap >= 6 * SCALE * 0.9 for gap in gaps)  # interval 1 s + 5 s, for all later polls


def test_c14_denied_is_polling_access_denied(tmp_path: Path) -> None:
    with FakeEarthScope(device_interval=0) as fake:

        class Denying(DeviceCodeFlowSimple):
            def prompt_user(self) -> None:
                assert self._device_codes is not None
                fake.deny(self._device_codes.user_code)

        flow = Denying(tmp_path, domain=fake.url, audience=fake.audience)
        with pytest.raises(PollingAccessDeniedError) as caught:
            flow.do_flow()
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, EarthScopeError)
    assert isinstance(caught.value.__cause__, AccessDeniedError)
    assert flow.polling is False
    assert not flow.path.exists()


def test_c14_expired_is_polling_expired(tmp_path: Path) -> None:
    with FakeEarthScope(device_interval=0) as fake:

        class Expiring(DeviceCodeFlowSimple):
            def prompt_user(self) -> None:
                assert self._device_codes is not None
                fake.expire(self._device_codes.user_code)

        with pytest.raises(PollingExpiredError) as caught:
            Expiring(tmp_path, domain=fake.url, audience=fake.audience).do_flow()
    assert isinstance(caught.value.__cause__, DeviceCodeExpiredError)


def test_c15_polling_stops_at_the_local_deadline(tmp_path: Path) -> None:
    # Virtual time: the flow's waits take no real time (a deadline in real milliseconds
    # could pass before the first poll on a loaded machine); the server keeps real time:
    # its code outlives the local deadline (and a slow_down only means fewer polls).
    with FakeEarthScope(time_scale=1.0, device_interval=5) as fake:  # server: 15 min
        flow = simple(fake, tmp_path)
        flow._clock = FakeClock()
        flow.request_device_code()
        assert flow._device_codes is not None
        # a subclass may set _device_codes itself (here: a 30 s code); polling follows it
        flow._device_codes = dataclasses.replace(flow._device_codes, expires_in=30)
        flow._device_code = None
        with pytest.raises(PollingExpiredError, match="local deadline") as caught:
            flow.poll()
        assert isinstance(caught.value.__cause__, DeviceCodeExpiredError)
        assert 1 <= fake.count("token") <= 6  # at most 30 s / 5 s, then no more
        assert fake.device_codes[0].status == "pending"  # the server never said expired


def test_poll_needs_a_device_code_and_refuses_to_double_poll(fake: FakeEarthScope) -> None:
    flow = Recording(fake)
    with pytest.raises(PollingError, match="without initial device code"):
        flow.poll()
    flow.request_device_code()
    flow._is_polling = True
    with pytest.raises(PollingError, match="double poll"):
        flow.poll()
    assert fake.count("token") == 0


def test_request_device_code_failures_are_typed(fake: FakeEarthScope) -> None:
    flow = Recording(fake)
    fake.add_fault("device_code", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(RequestDeviceTokensError, match="Failed to get a device code") as caught:
        flow.request_device_code()
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, EarthScopeError)
    assert flow.started is False

    fake.add_fault("device_code", status=200, json={"device_code": "DC-SECRET", "expires_in": 9})
    with pytest.raises(RequestDeviceTokensError) as caught:
        flow.request_device_code()
    assert isinstance(caught.value.__cause__, InvalidResponseError)
    assert "DC-SECRET" not in str(caught.value)


def test_prompt_user_prints_the_url_and_user_code(
    fake: FakeEarthScope, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = simple(fake, tmp_path)
    with pytest.raises(RuntimeError, match="start the device flow"):
        flow.prompt_user()
    flow.request_device_code()
    flow.prompt_user()
    out = capsys.readouterr().out
    assert flow._device_codes is not None
    assert flow._device_codes.verification_uri_complete in out
    assert flow._device_codes.user_code in out
    assert flow._device_codes.device_code not in out  # C6


# -- secrets -------------------------------------------------------------------------------


def test_c54_no_secret_in_logs(
    fake: FakeEarthScope, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    flow = simple(fake, tmp_path)
    flow.do_flow()
    assert flow._device_codes is not None
    secrets = [flow._device_codes.device_code, flow.access_token, flow.refresh_token]
    flow.refresh()
    secrets += [flow.access_token, flow.refresh_token, flow.id_token]
    flow.refresh(revoke=True)
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in text
    assert "refreshed" in caplog.text  # logging did happen
