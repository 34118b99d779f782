"""A token store in the operating system's keyring (optional ``keyring`` dependency)."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from types import ModuleType

import anyio.to_thread

from .._errors import TokenStoreError
from .._tokens import Tokens
from ._hooks import no_lock

__all__ = ["KeyringTokenStore"]

_INSTALL = "pip install 'earthscope-sdk-async[keyring]'"


def _import_keyring() -> ModuleType:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise TokenStoreError(f"KeyringTokenStore needs the keyring package: {_INSTALL}") from None
    return keyring


class KeyringTokenStore:
    """Keeps tokens in the operating system's keyring, as ``tokens.json`` text.

    The entry is ``service``/``username`` in macOS Keychain, Windows Credential Locker or
    the Secret Service on Linux.

    Needs the optional ``keyring`` package (``pip install 'earthscope-sdk-async[keyring]'``)
    and a working keyring backend; otherwise every call raises
    :class:`~earthscope_sdk_async.TokenStoreError` saying so. Keyring calls run in worker
    threads. :meth:`lock` is a no-op: a keyring belongs to one user on one machine, and
    processes sharing it may refresh concurrently. When several processes share one
    keyring entry and the identity provider rotates refresh tokens, use
    :class:`FileTokenStore` instead (or wrap this store with a file lock of your own).
    Some backends limit the size of a secret (Windows: 2560 bytes).
    """

    def __init__(self, service: str = "earthscope-sdk-async", username: str = "default") -> None:
        self._service = service
        self._username = username
        self._where = f"keyring:{service}/{username}"

    def __repr__(self) -> str:
        return f"KeyringTokenStore(service={self._service!r}, username={self._username!r})"

    def _error(self, problem: str, fix: str) -> TokenStoreError:
        return TokenStoreError(f"keyring entry {self._where}: {problem}; {fix}.", path=self._where)

    def _call(self, operation: str, *args: str) -> str | None:
        module = _import_keyring()
        errors = module.errors
        try:
            result: str | None = getattr(module, operation)(self._service, self._username, *args)
        except errors.NoKeyringError:
            raise self._error(
                "no keyring backend is available",
                "install one (see https://pypi.org/project/keyring) or use FileTokenStore",
            ) from None
        except errors.PasswordDeleteError:
            return None  # nothing to delete
        except errors.KeyringError as exc:
            raise self._error(
                f"the keyring failed ({type(exc).__name__})", "unlock or repair the keyring"
            ) from None
        return result

    async def load(self) -> Tokens | None:
        """Read the tokens; ``None`` when the entry does not exist."""
        text = await anyio.to_thread.run_sync(self._call, "get_password")
        if text is None:
            return None
        try:
            return Tokens.from_json(text)
        except json.JSONDecodeError:
            raise self._error("it is not valid JSON", "delete it and log in again") from None
        except (TypeError, ValueError) as exc:
            raise self._error(f"it is not a token entry ({exc})", "log in again") from None

    async def save(self, tokens: Tokens) -> None:
        """Store ``tokens`` in the keyring, replacing the entry."""
        await anyio.to_thread.run_sync(self._call, "set_password", tokens.to_json())

    async def delete(self) -> None:
        """Remove the keyring entry, if any."""
        await anyio.to_thread.run_sync(self._call, "delete_password")

    def lock(self) -> AbstractAsyncContextManager[None]:
        """A no-op (see the class docstring)."""
        return no_lock()
