"""Shared helpers for stores: the no-op lock and calling the ``on_save`` hook."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread

from .._errors import TokenStoreError
from .._tokens import Tokens, fingerprint
from ._protocol import OnSave

__all__ = ["call_on_save", "no_lock"]

logger = logging.getLogger(__name__)


@asynccontextmanager
async def no_lock() -> AsyncIterator[None]:
    """A lock that excludes nobody: for stores private to one process."""
    yield


def _hook_name(hook: OnSave) -> str:
    return str(getattr(hook, "__qualname__", None) or type(hook).__name__)


async def _run_hook(hook: OnSave, tokens: Tokens) -> None:
    if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(
        getattr(hook, "__call__", None)  # noqa: B004  (async callable objects)
    ):
        result = hook(tokens)
    else:
        result = await anyio.to_thread.run_sync(hook, tokens)
    if inspect.isawaitable(result):
        await result


async def call_on_save(
    hook: OnSave | None, tokens: Tokens, *, where: str, path: str | None = None
) -> None:
    """Call ``hook(tokens)`` after a save to ``where``; wrap its failure in TokenStoreError.

    The save itself is done by then, so the message says so. The hook's own message is not
    repeated (it might quote a token); it stays available as ``__cause__``.
    """
    if hook is None:
        return
    try:
        await _run_hook(hook, tokens)
    except Exception as exc:
        name = _hook_name(hook)
        logger.warning(
            "on_save hook %s failed with %s (tokens %s)",
            name,
            type(exc).__name__,
            fingerprint(tokens.refresh_token or tokens.access_token),
        )
        raise TokenStoreError(
            f"the on_save hook {name} failed with {type(exc).__name__}; the tokens were saved to "
            f"{where} but not written back. Fix the hook (see the chained exception) and refresh "
            "or log in again.",
            path=path,
        ) from exc
