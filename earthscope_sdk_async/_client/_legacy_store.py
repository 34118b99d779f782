"""The default store: ``tokens.json``, falling back (read-only) to earthscope-cli 0.x's file.

earthscope-cli 0.x kept tokens in ``sso_tokens.json`` (``access_token``, ``id_token``,
``refresh_token``, ``scope``, ``expires_at`` and ``issued_at`` in epoch seconds). While the
profile's ``tokens.json`` does not exist, that file is read instead; every save goes to
``tokens.json``, so the first refresh migrates the user. The legacy file is never written
or deleted, and a corrupted one is ignored with a warning: it is only a fallback.
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio.to_thread

from .._stores import FileTokenStore
from .._tokens import Tokens

__all__ = ["LegacyFallbackStore"]

logger = logging.getLogger(__name__)


def _read_legacy(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class LegacyFallbackStore:
    """A :class:`FileTokenStore` that loads ``legacy_path`` while its own file is missing.

    ``save``, ``delete`` and ``lock`` act on the primary store only. Once this store
    has saved or deleted, it stops falling back (in this process), so a logout is not
    undone by the legacy file; :meth:`delete` warns when the legacy file still exists, as a
    new process would fall back to it again.
    """

    def __init__(self, primary: FileTokenStore, legacy_path: str | os.PathLike[str]) -> None:
        self.primary = primary
        self.legacy_path = Path(os.fspath(legacy_path)).expanduser()
        self._fallback = True

    def __repr__(self) -> str:
        return f"LegacyFallbackStore({self.primary!r}, legacy={str(self.legacy_path)!r})"

    async def load(self) -> Tokens | None:
        """The primary file's tokens; else the legacy file's; else ``None``."""
        tokens = await self.primary.load()
        if tokens is not None or not self._fallback:
            return tokens
        return await self._load_legacy()

    async def _load_legacy(self) -> Tokens | None:
        try:
            data = await anyio.to_thread.run_sync(_read_legacy, self.legacy_path)
            if data is None:
                return None
            tokens = Tokens.from_json(data)
        except (OSError, ValueError, TypeError) as exc:  # JSONDecodeError/UnicodeError too
            logger.warning(
                "ignoring the earthscope-cli 0.x token file %s: it is unreadable or not a "
                "token file (%s); log in again",
                self.legacy_path,
                type(exc).__name__,
            )
            return None
        logger.info("using tokens from the earthscope-cli 0.x file %s", self.legacy_path)
        return tokens

    async def save(self, tokens: Tokens) -> None:
        """Save to the primary file (the legacy file is left untouched)."""
        await self.primary.save(tokens)
        self._fallback = False

    async def delete(self) -> None:
        """Delete the primary file; the legacy file stays (earthscope-cli 0.x owns it)."""
        await self.primary.delete()
        self._fallback = False
        if await anyio.to_thread.run_sync(self.legacy_path.exists):
            logger.warning(
                "the earthscope-cli 0.x token file %s still exists and will be used again by "
                "new processes; delete it if you want to be logged out everywhere",
                self.legacy_path,
            )

    def lock(self) -> AbstractAsyncContextManager[None]:
        """The primary file's cross-process lock."""
        return self.primary.lock()
