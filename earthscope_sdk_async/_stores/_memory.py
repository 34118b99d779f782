"""An in-process token store."""

from __future__ import annotations

import threading
from contextlib import AbstractAsyncContextManager

from .._tokens import Tokens
from ._hooks import call_on_save, no_lock
from ._protocol import OnSave

__all__ = ["MemoryTokenStore"]


class MemoryTokenStore:
    """Keeps tokens in memory, for one process; nothing survives a restart.

    Thread-safe and not bound to any event loop. :meth:`lock` is a no-op: there is no
    other process to exclude. ``on_save`` is called after each save (see
    :data:`~earthscope_sdk_async.OnSave`).
    """

    def __init__(self, tokens: Tokens | None = None, *, on_save: OnSave | None = None) -> None:
        self._tokens = tokens
        self._on_save = on_save
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        with self._guard:
            return f"MemoryTokenStore({self._tokens!r})"

    async def load(self) -> Tokens | None:
        """Return the tokens last saved (or given to the constructor), or ``None``."""
        with self._guard:
            return self._tokens

    async def save(self, tokens: Tokens) -> None:
        """Keep ``tokens``, then call the ``on_save`` hook if there is one."""
        with self._guard:
            self._tokens = tokens
        await call_on_save(self._on_save, tokens, where="memory")

    async def delete(self) -> None:
        """Forget the tokens."""
        with self._guard:
            self._tokens = None

    def lock(self) -> AbstractAsyncContextManager[None]:
        """A no-op: an in-process store has no other process to exclude."""
        return no_lock()
