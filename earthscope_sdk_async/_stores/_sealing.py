"""Optional encryption of a stored token set with Fernet keys (``cryptography`` package).

Fernet is AES-128-CBC with an HMAC-SHA256 tag: a sealed value cannot be read or altered
without the key. Several keys may be given for key rotation: the first encrypts, any of
them decrypts (``MultiFernet``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._errors import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

__all__ = ["EncryptionKey", "Sealer", "looks_sealed"]

EncryptionKey = str | bytes | Sequence[str | bytes]
"""One Fernet key (32 url-safe base64-encoded bytes), or several for key rotation."""

_INSTALL = "pip install 'earthscope-sdk-async[redis-encrypted]'"
_FERNET_PREFIX = b"gAAAAA"  # version byte 0x80 + the high bytes of a 64-bit timestamp


def looks_sealed(data: bytes) -> bool:
    """True when ``data`` looks like a Fernet token rather than JSON."""
    return data.lstrip().startswith(_FERNET_PREFIX)


def _keys(key: EncryptionKey) -> list[str | bytes]:
    keys: list[str | bytes] = [key] if isinstance(key, (str, bytes)) else list(key)
    if not keys:
        raise ConfigError("encryption_key must be a Fernet key or a non-empty list of them")
    return keys


def _multi_fernet(key: EncryptionKey) -> MultiFernet:
    try:
        from cryptography.fernet import Fernet, MultiFernet
    except ImportError:
        raise ConfigError(f"encryption_key needs the cryptography package: {_INSTALL}") from None
    fernets = []
    for number, one in enumerate(_keys(key), start=1):
        try:
            fernets.append(Fernet(one))
        except (TypeError, ValueError):  # the key itself is never quoted
            raise ConfigError(
                f"encryption key #{number} is not a Fernet key (32 url-safe base64-encoded "
                "bytes); create one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from None
    return MultiFernet(fernets)


class Sealer:
    """Encrypts and decrypts stored values with the given Fernet key(s)."""

    def __init__(self, key: EncryptionKey) -> None:
        self._fernet = _multi_fernet(key)

    def __repr__(self) -> str:
        return "Sealer(<keys hidden>)"

    def seal(self, data: bytes) -> bytes:
        """Encrypt ``data`` with the first key."""
        return self._fernet.encrypt(data)

    def open(self, data: bytes) -> bytes | None:
        """Decrypt ``data`` with any of the keys; ``None`` when none of them can."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(data)
        except InvalidToken:
            return None
