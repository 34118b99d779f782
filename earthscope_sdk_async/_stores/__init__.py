"""Token stores: where the token manager keeps tokens between requests and runs.

Stores shipped here:

* :class:`MemoryTokenStore`: in this process only.
* :class:`FileTokenStore`: ``tokens.json`` (earthscope-sdk 1.x format), atomic 0600 writes,
  and a cross-process lock, for processes sharing one file.
* :class:`KeyringTokenStore`: the OS keyring (``pip install 'earthscope-sdk-async[keyring]'``).
* :class:`EnvTokenStore`: starts from ``ES_OAUTH2__REFRESH_TOKEN`` / ``ES_OAUTH2__ACCESS_TOKEN``
  and hands rotated tokens to an ``on_save`` hook.
* :class:`RedisTokenStore`: one Redis key shared by a fleet of workers on many machines, with
  a Redis lock (lease + automatic extension) around each refresh
  (``pip install 'earthscope-sdk-async[redis]'``).

Writing your own store
----------------------

A store is any object with the four members of :class:`TokenStore`; no base class is
needed. Its methods are called from any event loop (asyncio or trio) and any thread, so
keep no event-loop objects in it, run blocking calls with ``anyio.to_thread.run_sync`` and
raise :class:`~earthscope_sdk_async.TokenStoreError` (never with a token in its message).

The token manager calls ``lock()`` once around each refresh, re-reads the store inside it,
adopts tokens that another holder already refreshed, and otherwise refreshes and saves
before releasing. ``lock()`` matters whenever several processes (or machines) share one
stored refresh token and the identity provider rotates refresh tokens: two holders that
refresh with the same token make it revoke the whole token family. A store private to one
process returns a no-op lock; a shared one needs a real lock with a timeout that is freed
when its holder dies.

Example: a store that writes rotated refresh tokens back to a secret manager, used by a
single worker (so its lock is a no-op)::

    import anyio.to_thread
    from contextlib import asynccontextmanager

    from .. import Tokens, TokenStoreError


    class SecretManagerTokenStore:
        def __init__(self, client, secret_id):
            self._client, self._secret_id = client, secret_id

        async def load(self):
            text = await anyio.to_thread.run_sync(self._client.get, self._secret_id)
            if text is None:
                return None
            try:
                return Tokens.from_json(text)
            except ValueError:
                raise TokenStoreError(f"secret {self._secret_id} is not a token set") from None

        async def save(self, tokens):
            await anyio.to_thread.run_sync(self._client.put, self._secret_id, tokens.to_json())

        async def delete(self):
            await anyio.to_thread.run_sync(self._client.delete, self._secret_id)

        @asynccontextmanager
        async def lock(self):
            yield  # one worker; several workers would need a lease in the secret manager

For the common case, ``EnvTokenStore(on_save=put_secret)`` (or any store's ``on_save``)
is enough: start from the environment, write each rotation back.
"""

from __future__ import annotations

from ._env import EnvTokenStore as EnvTokenStore
from ._file import FileTokenStore as FileTokenStore
from ._keyring import KeyringTokenStore as KeyringTokenStore
from ._memory import MemoryTokenStore as MemoryTokenStore
from ._protocol import OnSave as OnSave
from ._protocol import TokenStore as TokenStore
from ._redis import RedisTokenStore as RedisTokenStore

__all__ = [
    "EnvTokenStore",
    "FileTokenStore",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "OnSave",
    "RedisTokenStore",
    "TokenStore",
]
