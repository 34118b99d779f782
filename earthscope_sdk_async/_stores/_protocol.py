"""The :class:`TokenStore` protocol every token store implements, and the ``on_save`` hook type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from .._tokens import Tokens

__all__ = ["OnSave", "TokenStore"]

OnSave = Callable[[Tokens], "Awaitable[None] | None"]
"""A hook called with the tokens after each successful save: a plain function (run in a
worker thread) or an ``async`` function (awaited). Use it to write rotated refresh tokens
back to a secret manager."""


@runtime_checkable
class TokenStore(Protocol):
    """Async token persistence.

    A store object is not bound to an event loop: it may be created in one ``anyio.run``,
    used in another, under asyncio or trio, and from several threads.
    """

    async def load(self) -> Tokens | None:
        """Return the stored tokens, or ``None`` when there are none."""
        ...

    async def save(self, tokens: Tokens) -> None:
        """Store ``tokens`` durably, replacing what was there."""
        ...

    async def delete(self) -> None:
        """Forget the stored tokens; deleting nothing is not an error."""
        ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Cross-process mutual exclusion around a whole refresh.

        The token manager holds it once per refresh (re-read, refresh, save), so it need
        not be reentrant. A no-op for in-process stores.
        """
        ...
