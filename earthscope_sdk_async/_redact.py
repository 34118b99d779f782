"""The boundary for text that comes from a server (a leaf module: standard library only).

Anything a server wrote (an ``error_description``, an API ``detail``, a header, a content
type, a user code or a verification URI) passes through :func:`redact` before it goes into
an exception message, a log line or a terminal:

- every secret the request carried (refresh token, client secret, device code, code, access
  token...) is removed, also in its URL-encoded forms;
- anything token-shaped is removed: JWTs, ``Bearer``/``Basic`` credentials, long base64 or
  hex runs, and ``key=value`` / ``"key": "value"`` pairs whose key names a secret;
- control and escape characters (ANSI sequences, BiDi overrides...) are dropped, so server
  text cannot rewrite the terminal; the text is cut to ``limit`` characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus

__all__ = ["REDACTED", "SECRET_FIELDS", "printable", "redact", "secrets_in_form"]

REDACTED = "[redacted]"

SECRET_FIELDS = frozenset(
    {
        "access_token",
        "assertion",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "device_code",
        "id_token",
        "password",
        "refresh_token",
        "subject_token",
        "token",
    }
)
"""Form fields whose values are secrets (every token endpoint and revocation request)."""

_SECRET_KEY = (
    r"[A-Za-z0-9_.\-]*(?:token|secret|passw(?:or)?d|pwd|code_verifier|device_code|assertion|"
    r"api[_-]?key|access[_-]?key|private[_-]?key|authorization|cookie|session[_-]?id|signature|"
    r"credentials?)|code|key|sig"
)
_KEY_VALUE = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])({_SECRET_KEY})(\\?[\"']?\s*[=:]\s*\\?[\"']?)([^\s&\"',;}}\]\\]+)"
)
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_DOTTED = re.compile(r"[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{8,}")
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}")
_MIN_SECRET = 4
_LIMIT = 300


def printable(text: object, *, limit: int | None = None) -> str:
    """``text`` with every control, format and escape character removed (newlines and tabs
    become spaces, runs of spaces collapse), cut to ``limit`` characters when given."""
    kept = []
    for char in str(text):
        category = unicodedata.category(char)
        if char in "\t\n\r\f\v":
            kept.append(" ")
        elif category[0] == "C" or category in ("Zl", "Zp"):
            continue  # Cc controls (ESC, BEL, DEL, C1), Cf BiDi overrides, Cs, Co, Cn
        else:
            kept.append(char)
    clean = " ".join("".join(kept).split())
    if limit is not None and len(clean) > limit:
        clean = clean[: max(limit - 1, 0)] + "…"
    return clean


def _variants(secret: str) -> set[str]:
    return {secret, quote_plus(secret), quote(secret, safe=""), quote(secret)}


def redact(text: object, secrets: Iterable[str | None] = (), *, limit: int | None = _LIMIT) -> str:
    """``text`` (from a server) made safe to show: see the module docstring.

    ``secrets`` are the values the request carried; each is removed wherever it appears.
    """
    clean = printable(text)
    found = {v for s in secrets if s and len(s) >= _MIN_SECRET for v in _variants(s)}
    for secret in sorted(found, key=len, reverse=True):
        clean = clean.replace(secret, REDACTED)
    clean = _SCHEME_CREDENTIALS.sub(lambda m: f"{m.group(1)} {REDACTED}", clean)
    clean = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", clean)
    clean = _JWT.sub(REDACTED, clean)
    clean = _DOTTED.sub(REDACTED, clean)
    clean = _LONG_RUN.sub(REDACTED, clean)
    return printable(clean, limit=limit)


def secrets_in_form(
    content: bytes | str | Mapping[str, str] | None, headers: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The secret values in a form body (``SECRET_FIELDS``) and in an ``Authorization``
    header (a bearer token, or the Basic credentials and the id and secret inside them)."""
    found: list[str] = []
    if isinstance(content, Mapping):
        pairs = list(content.items())
    elif content:
        raw = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        pairs = parse_qsl(raw, keep_blank_values=False)
    else:
        pairs = []
    found += [value for key, value in pairs if key in SECRET_FIELDS and value]
    authorization = _header(headers, "authorization")
    if authorization:
        found += _credentials(authorization)
    return tuple(found)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _credentials(authorization: str) -> list[str]:
    import base64
    import binascii
    from urllib.parse import unquote_plus

    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    found = [value] if value else []
    if scheme.lower() == "basic" and value:
        try:
            pair = base64.b64decode(value, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return found
        _, _, secret = pair.partition(":")
        if secret:
            found += [secret, unquote_plus(secret)]
    return found
