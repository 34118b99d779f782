"""HS256 JSON Web Tokens with the standard library only (hmac + base64url)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["b64url_decode", "b64url_encode", "sign", "verify"]

_HEADER = {"alg": "HS256", "typ": "JWT", "kid": "fake-earthscope"}


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raises ``ValueError`` on bad input (C63)."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def _segment(obj: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def _mac(key: bytes, signing_input: str) -> bytes:
    return hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()


def sign(claims: Mapping[str, Any], key: bytes) -> str:
    """Return a compact HS256 JWS of ``claims``."""
    signing_input = f"{_segment(_HEADER)}.{_segment(claims)}"
    return f"{signing_input}.{b64url_encode(_mac(key, signing_input))}"


def verify(token: str, key: bytes) -> dict[str, Any] | None:
    """Return the claims of a token signed with ``key``; ``None`` if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        signature = b64url_decode(parts[2])
        claims = json.loads(b64url_decode(parts[1]))
    except ValueError:
        return None
    expected = _mac(key, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        return None
    return claims
