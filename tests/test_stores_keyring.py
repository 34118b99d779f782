"""KeyringTokenStore with an in-memory keyring backend (C54)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.core
import keyring.errors
import pytest

from earthscope_sdk_async import Tokens, TokenStoreError
from earthscope_sdk_async._stores import KeyringTokenStore, TokenStore

ACCESS = "SENTINEL-ACCESS-TOKEN-7f3a"
REFRESH = "SENTINEL-REFRESH-TOKEN-91bc"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in a dict; records the threads it was called from."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}
        self.threads: set[bool] = set()

    def _seen(self) -> None:
        self.threads.add(threading.current_thread() is threading.main_thread())

    def get_password(self, service: str, username: str) -> str | None:
        self._seen()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._seen()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._seen()
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked(f"locked; last value {REFRESH}")


@contextmanager
def _use(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    previous = keyring.core._keyring_backend
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.core._keyring_backend = previous


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    with _use(backend):
        yield backend


def _tokens() -> Tokens:
    return Tokens(access_token=ACCESS, refresh_token=REFRESH)


def _assert_no_secret(exc: BaseException) -> None:
    for secret in (ACCESS, REFRESH):
        assert secret not in str(exc)
        assert secret not in repr(exc)


async def test_round_trip_off_the_event_loop(memory_keyring: MemoryKeyring) -> None:
    store = KeyringTokenStore(service="svc", username="alice")
    assert isinstance(store, TokenStore)
    assert await store.load() is None
    await store.save(_tokens())
    assert memory_keyring.entries[("svc", "alice")] == _tokens().to_json()
    assert await store.load() == _tokens()
    async with store.lock():  # no-op
        await store.delete()
    assert await store.load() is None
    await store.delete()  # idempotent: PasswordDeleteError for a missing entry is swallowed
    assert memory_keyring.threads == {False}  # never called on the event loop's thread


async def test_default_service_and_username(memory_keyring: MemoryKeyring) -> None:
    await KeyringTokenStore().save(_tokens())
    assert set(memory_keyring.entries) == {("earthscope-sdk-async", "default")}


async def test_corrupted_entry_raises(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("svc", "u")] = '{"refresh_token": "SENTINEL-REFRESH-TOKEN-91bc"}'
    with pytest.raises(TokenStoreError, match="keyring:svc/u") as info:
        await KeyringTokenStore("svc", "u").load()
    _assert_no_secret(info.value)
    memory_keyring.entries[("svc", "u")] = "{SENTINEL-REFRESH-TOKEN-91bc"
    with pytest.raises(TokenStoreError, match="not valid JSON") as info:
        await KeyringTokenStore("svc", "u").load()
    _assert_no_secret(info.value)


async def test_no_backend_raises_a_clear_error() -> None:
    with _use(keyring.backends.fail.Keyring()):  # type: ignore[no-untyped-call]
        store = KeyringTokenStore()
        for call in (store.load, store.delete):
            with pytest.raises(TokenStoreError, match="no keyring backend is available"):
                await call()
        with pytest.raises(TokenStoreError, match="FileTokenStore") as info:
            await store.save(_tokens())
        _assert_no_secret(info.value)
        assert info.value.path == "keyring:earthscope-sdk-async/default"


async def test_backend_failure_is_wrapped_without_its_message() -> None:
    with _use(LockedKeyring()):
        with pytest.raises(TokenStoreError, match="KeyringLocked") as info:
            await KeyringTokenStore().load()
        _assert_no_secret(info.value)


async def test_keyring_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(TokenStoreError, match=r"pip install 'earthscope-sdk-async\[keyring\]'"):
        await KeyringTokenStore().load()
