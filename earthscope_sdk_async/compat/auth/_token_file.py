"""``sso_tokens.json`` for the Simple classes: read 0.2.1's shape, write it atomically (0600).

Writing goes through the engine's file-store writer (temp file in the same directory,
fsync, rename; missing directories are created 0700; C55, C56). The file holds 0.2.1's
``vars(ValidTokens)`` (``access_token``, ``id_token``, ``refresh_token``, ``scope``,
``expires_at``, ``issued_at``) plus ``token_type``, so 0.2.1, the earthscope CLI 0.x and
this SDK's ``FileTokenStore`` can all read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..._errors import TokenStoreError
from ..._files import atomic_write, ensure_private_dir, read_regular
from ._tokens import ValidTokens
from .auth_flow import NoTokensError

__all__ = ["read_token_file", "write_token_file"]


def read_token_file(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``.

    Raises:
        NoTokensError: the file does not exist, or is not a JSON object (log in again to
            replace it).
        TokenStoreError: the file exists but cannot be read.
    """
    try:
        data = read_regular(path)  # never through a link, never blocked by a FIFO
    except OSError as exc:
        raise TokenStoreError(
            f"token file {path}: could not read it ({exc.strerror or exc}); check its permissions",
            path=str(path),
        ) from exc
    if data is None:
        raise NoTokensError(f"no token file at {path}; log in first")
    try:
        state = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError too
        state = None
    if not isinstance(state, dict):
        raise NoTokensError(f"token file {path} is not a JSON token object; log in again")
    return state


def write_token_file(path: Path, creds: ValidTokens) -> None:
    """Replace ``path`` with ``creds`` atomically, as a 0600 file.

    Raises:
        TokenStoreError: the file could not be written (the old one is left intact).
    """
    state = {**vars(creds), "token_type": "Bearer"}
    try:
        ensure_private_dir(path.parent)
        atomic_write(path, json.dumps(state).encode())
    except OSError as exc:
        raise TokenStoreError(
            f"token file {path}: could not save tokens ({exc.strerror or exc}); check that "
            "its directory is writable by you",
            path=str(path),
        ) from exc
