"""A read-only token store bootstrapped from environment variables."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from typing import ClassVar

from .._tokens import Tokens
from ._hooks import call_on_save, no_lock
from ._protocol import OnSave

__all__ = ["EnvTokenStore"]


class EnvTokenStore:
    """Starts from tokens in environment variables, then keeps rotated tokens in memory.

    earthscope-sdk 1.x users set ``ES_OAUTH2__ACCESS_TOKEN`` and/or
    ``ES_OAUTH2__REFRESH_TOKEN`` on remote hosts; this store reads the same variables.

    :meth:`load` returns the tokens last saved, if any (they are kept in memory: the
    environment cannot be written), else tokens built from the environment, else ``None``:

    * with an access token: that token (its expiry read from its JWT ``exp`` claim), plus
      the refresh token when one is set;
    * with only a refresh token: an already expired placeholder access token,
      :attr:`PLACEHOLDER_ACCESS_TOKEN` with ``expires_at`` at the epoch, so the token
      manager refreshes before the first request. The placeholder is never sent anywhere.

    :meth:`save` keeps the tokens in memory, then calls ``on_save(tokens)``: the place to
    write a rotated refresh token back to your secret manager, since the next process will
    otherwise start from a refresh token that may already be revoked. A plain function runs
    in a worker thread, an ``async`` one is awaited; if it fails,
    :class:`~earthscope_sdk_async.TokenStoreError` is raised (the tokens are kept in
    memory all the same). :meth:`delete` forgets the saved tokens; the environment is left
    as it is, so :meth:`load` falls back to it again. :meth:`lock` is a no-op.

    ``environ`` defaults to :data:`os.environ`, read at each :meth:`load`.
    """

    ACCESS_TOKEN_VARIABLE: ClassVar[str] = "ES_OAUTH2__ACCESS_TOKEN"
    """The environment variable holding an access token."""
    REFRESH_TOKEN_VARIABLE: ClassVar[str] = "ES_OAUTH2__REFRESH_TOKEN"
    """The environment variable holding a refresh token."""
    PLACEHOLDER_ACCESS_TOKEN: ClassVar[str] = "expired-placeholder"
    """The access token used when only a refresh token is set; it is always expired."""

    def __init__(
        self, *, environ: Mapping[str, str] | None = None, on_save: OnSave | None = None
    ) -> None:
        self._environ = environ
        self._on_save = on_save
        self._saved: Tokens | None = None
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return "EnvTokenStore()"

    def _from_environment(self) -> Tokens | None:
        environ = os.environ if self._environ is None else self._environ
        access = environ.get(self.ACCESS_TOKEN_VARIABLE) or None
        refresh = environ.get(self.REFRESH_TOKEN_VARIABLE) or None
        if access is not None:
            return Tokens(access_token=access, refresh_token=refresh)
        if refresh is not None:
            return Tokens(
                access_token=self.PLACEHOLDER_ACCESS_TOKEN,
                refresh_token=refresh,
                expires_at=datetime.fromtimestamp(0, timezone.utc),
            )
        return None

    async def load(self) -> Tokens | None:
        """The tokens last saved, else those from the environment, else ``None``."""
        with self._guard:
            saved = self._saved
        return saved if saved is not None else self._from_environment()

    async def save(self, tokens: Tokens) -> None:
        """Keep ``tokens`` in memory, then call the ``on_save`` hook if there is one."""
        with self._guard:
            self._saved = tokens
        await call_on_save(self._on_save, tokens, where="memory (EnvTokenStore)")

    async def delete(self) -> None:
        """Forget the saved tokens (the environment is left untouched)."""
        with self._guard:
            self._saved = None

    def lock(self) -> AbstractAsyncContextManager[None]:
        """A no-op: the saved tokens live in this process only."""
        return no_lock()
