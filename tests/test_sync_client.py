"""EarthScopeClient, the sync facade: derived methods, lifecycle, threads, running loops.

The facade adds no behaviour; these tests check that the async core is reached correctly
from sync code: methods derived with the async signatures, one loop thread per client in
which the async client is created and closed, errors raised unchanged in the caller's
thread, ClientClosedError after close(). Threads and running loops:
test_sync_client_threads.py; real processes: test_sync_client_process.py.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from earthscope_sdk_async import (
    ClientClosedError,
    DeviceCode,
    EarthScopeError,
    LoginRequiredError,
    MemoryTokenStore,
    Tokens,
)
from earthscope_sdk_async._aws import AwsCredentials
from earthscope_sdk_async._client._async_client import AsyncEarthScopeClient
from earthscope_sdk_async._client._sync_client import EarthScopeClient, SyncUserService
from earthscope_sdk_async._client._user import UserService
from earthscope_sdk_async._clock import ScaledClock
from earthscope_sdk_async._facade import sync_method
from earthscope_sdk_async._retry import RetryPolicy
from earthscope_sdk_async.testing import FakeEarthScope

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
SCALE = 0.002  # with a fake of the same time_scale: the 5 s poll interval lasts 10 ms
LIFECYCLE = {"aclose", "__aenter__", "__aexit__"}


def async_methods(cls: type[Any]) -> dict[str, Any]:
    """The public coroutine methods of ``cls`` (what the facade must mirror)."""
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in LIFECYCLE
    }


@pytest.fixture
def client(fake_earthscope: FakeEarthScope) -> Iterator[EarthScopeClient]:
    store = MemoryTokenStore(fake_earthscope.issue_tokens())
    with EarthScopeClient(fake_earthscope.settings(), store=store) as client:
        yield client


# -- derivation -------------------------------------------------------------------------------


ASYNC_TOOLS = {"get_aioboto3_session", "get_obstore_credential_provider"}
"""Async-client methods whose results live in the caller's event loop (an aioboto3 session,
an async obstore provider): the sync client has its own (``get_boto3_session``, a sync
provider), as in earthscope-sdk 1.9.3."""


@pytest.mark.parametrize(
    ("facade", "core", "expected"),
    [
        (EarthScopeClient, AsyncEarthScopeClient, {"login", "logout", "get_access_token"}),
        (SyncUserService, UserService, {"get_profile", "get_userinfo", "get_aws_credentials"}),
    ],
)
def test_every_async_method_has_a_sync_twin_with_the_same_signature(
    facade: type[Any], core: type[Any], expected: set[str]
) -> None:
    methods = async_methods(core)
    assert expected <= set(methods)
    for name, method in methods.items():
        if name in ASYNC_TOOLS:  # event-loop-bound objects: the facade builds sync ones
            assert callable(getattr(facade, name, None)) or name == "get_aioboto3_session"
            continue
        twin = inspect.getattr_static(facade, name)
        assert isinstance(twin, sync_method), name
        assert inspect.signature(twin) == inspect.signature(method), name
        assert inspect.getdoc(twin) == inspect.getdoc(method), name


def test_bound_methods_look_like_plain_methods(client: EarthScopeClient) -> None:
    assert not inspect.iscoroutinefunction(client.refresh)
    assert str(inspect.signature(client.refresh)) == "(*, force: 'bool' = True) -> 'Tokens'"
    assert client.refresh.__name__ == "refresh"
    assert client.get_access_token.__doc__ == AsyncEarthScopeClient.get_access_token.__doc__


def test_sync_method_rejects_sync_functions_and_other_names() -> None:
    with pytest.raises(TypeError, match="not an async method"):
        sync_method(AsyncEarthScopeClient.__repr__)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="named like refresh"):
        sync_method(AsyncEarthScopeClient.refresh).__set_name__(EarthScopeClient, "renew")


# -- calls ------------------------------------------------------------------------------------


def test_calls_reach_the_async_core(
    client: EarthScopeClient, fake_earthscope: FakeEarthScope
) -> None:
    first = client.get_access_token()
    assert client.tokens.cached_access_token() == first
    refreshed = client.refresh(force=True)  # keyword arguments pass through
    assert isinstance(refreshed, Tokens)
    assert refreshed.access_token != first
    assert client.get_access_token() == refreshed.access_token
    assert fake_earthscope.refresh_count == 1
    assert client.refresh(force=False) == refreshed  # fresh: no second refresh
    assert fake_earthscope.refresh_count == 1


def test_logout(client: EarthScopeClient, fake_earthscope: FakeEarthScope) -> None:
    client.get_access_token()
    assert client.logout(revoke=True) is True
    assert fake_earthscope.count("revoke") == 1
    with pytest.raises(LoginRequiredError):
        client.get_access_token()


def test_class_access_calls_like_a_function(client: EarthScopeClient) -> None:
    assert EarthScopeClient.get_access_token(client) == client.get_access_token()


def test_errors_reach_the_caller_unchanged(fake_earthscope: FakeEarthScope) -> None:
    with EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore()) as client:
        with pytest.raises(LoginRequiredError, match="not logged in"):
            client.get_access_token()
        assert not client.closed  # an error does not break the client
        with pytest.raises(LoginRequiredError):
            client.refresh()


def test_properties_expose_the_async_core(client: EarthScopeClient) -> None:
    core = client.async_client
    assert isinstance(core, AsyncEarthScopeClient)
    assert client.tokens is core.tokens
    assert client.auth is core.auth
    assert client.settings is core.settings
    assert client.tokens.settings.profile == "default"


def test_async_client_is_created_and_closed_in_the_loop_thread(
    fake_earthscope: FakeEarthScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, str] = {}
    original_init, original_aclose = AsyncEarthScopeClient.__init__, AsyncEarthScopeClient.aclose

    def init(self: AsyncEarthScopeClient, *args: Any, **kwargs: Any) -> None:
        threads["init"] = threading.current_thread().name
        original_init(self, *args, **kwargs)

    async def aclose(self: AsyncEarthScopeClient) -> None:
        threads["aclose"] = threading.current_thread().name
        await original_aclose(self)

    monkeypatch.setattr(AsyncEarthScopeClient, "__init__", init)
    monkeypatch.setattr(AsyncEarthScopeClient, "aclose", aclose)
    client = EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore())
    assert threads == {}  # the constructor does nothing
    client.close()
    assert threads == {}  # nothing was started, nothing to close
    with EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore()):
        assert threads == {"init": "earthscope-client"}
    assert threads == {"init": "earthscope-client", "aclose": "earthscope-client"}


def test_constructor_mirrors_the_async_one_without_http_client() -> None:
    ours = inspect.signature(EarthScopeClient.__init__).parameters
    theirs = dict(inspect.signature(AsyncEarthScopeClient.__init__).parameters)
    del theirs["http_client"]
    assert list(ours.values()) == list(theirs.values())


def test_arguments_reach_the_async_client(fake_earthscope: FakeEarthScope) -> None:
    settings, store = fake_earthscope.settings(), MemoryTokenStore()
    clock, retry = ScaledClock(1.0), RetryPolicy(max_attempts=1)
    with EarthScopeClient(settings, store=store, clock=clock, retry=retry) as client:
        core = client.async_client
        assert (core.settings, core.store, core.clock, core.retry_policy) == (
            settings,
            store,
            clock,
            retry,
        )


def test_settings_default_to_settings_load() -> None:
    with EarthScopeClient() as client:
        assert client.settings.profile == "default"
        assert "api_url=" in repr(client)


def test_repr_shows_no_secret(client: EarthScopeClient) -> None:
    tokens = client.refresh()
    text = repr(client)
    assert text.startswith("EarthScopeClient(profile='default'")
    assert "open" in text
    assert tokens.access_token not in text
    assert str(tokens.refresh_token) not in text


# -- user service ---------------------------------------------------------------------------


def test_user_service(client: EarthScopeClient, fake_earthscope: FakeEarthScope) -> None:
    assert client.user.get_profile().user_id == "auth0|fake-user"
    info = client.user.get_userinfo()
    assert info["sub"] == "auth0|fake-user"
    assert client.user.get_userinfo(refresh=False) == info
    assert fake_earthscope.count("userinfo") == 1  # cached by the async core
    found = client.user.lookup_anon(ids=["auth0|fake-user"], emails=())
    assert "auth0|fake-user" in str(found)
    credentials = client.user.get_aws_credentials(role="s3-miniseed-v2", year=2024)
    assert isinstance(credentials, AwsCredentials)
    assert client.user.get_aws_credentials(role="s3-miniseed-v2", year="2024") == credentials
    forced = client.user.get_aws_credentials(role="s3-miniseed-v2", year=2024, force=True)
    assert forced != credentials
    assert "SyncUserService(EarthScopeClient(" in repr(client.user)


def test_user_service_shared_by_threads(
    client: EarthScopeClient, fake_earthscope: FakeEarthScope
) -> None:
    barrier = threading.Barrier(8)
    results: list[AwsCredentials] = []

    def worker() -> None:
        barrier.wait()
        results.append(client.user.get_aws_credentials(role="s3-miniseed-v2"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len({r.aws_access_key_id for r in results}) == 1  # one request, shared
    assert fake_earthscope.count("/beta/user/credentials/aws/s3-miniseed-v2") == 1


# -- login ------------------------------------------------------------------------------------


def test_login_with_a_plain_function_prompt() -> None:
    with FakeEarthScope(auto_approve_after=1, time_scale=SCALE) as fake:
        shown: list[tuple[str, str]] = []

        def prompt(code: DeviceCode) -> None:
            shown.append((code.user_code, threading.current_thread().name))

        settings = fake.settings()
        with EarthScopeClient(settings, store=MemoryTokenStore(), clock=ScaledClock(SCALE)) as c:
            tokens = c.login(prompt)
            assert c.get_access_token() == tokens.access_token
        assert [user_code for user_code, _ in shown] == [fake.device_codes[0].user_code]
        assert shown[0][1] == "earthscope-client"  # callbacks run in the loop thread


def test_login_default_prompt_prints_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeEarthScope(auto_approve_after=1, time_scale=SCALE) as fake:
        store = MemoryTokenStore()
        with EarthScopeClient(fake.settings(), store=store, clock=ScaledClock(SCALE)) as client:
            client.login()
        code = fake.device_codes[0].user_code
    out, err = capsys.readouterr()
    assert code in err
    assert code not in out


# -- close ------------------------------------------------------------------------------------


def test_closed_client_raises_client_closed_error(client: EarthScopeClient) -> None:
    client.get_access_token()
    client.close()
    client.close()  # idempotent
    assert client.closed
    assert "closed" in repr(client)
    assert issubclass(ClientClosedError, EarthScopeError)
    calls: list[Callable[[], object]] = [
        client.get_access_token,
        client.refresh,
        client.login,
        client.logout,
        lambda: client.settings,
        lambda: client.tokens,
        lambda: client.auth,
        client.__enter__,
        client.user.get_profile,
        lambda: client.user.get_aws_credentials(role="s3-miniseed-v2"),
    ]
    for call in calls:
        with pytest.raises(ClientClosedError, match="closed"):
            call()


def test_close_before_first_use_and_exit_closes(fake_earthscope: FakeEarthScope) -> None:
    unused = EarthScopeClient(fake_earthscope.settings())
    unused.close()
    with pytest.raises(ClientClosedError):
        unused.get_access_token()
    with EarthScopeClient(fake_earthscope.settings(), store=MemoryTokenStore()) as client:
        pass
    assert client.closed
    with pytest.raises(ClientClosedError):
        client.refresh()
