"""Parse ``WWW-Authenticate`` challenges (RFC 6750 §3, C47): case-insensitive, quoted values."""

from __future__ import annotations

import re

__all__ = ["bearer_error"]

_PARAM = re.compile(
    r'\s*([A-Za-z0-9_.\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?',
)


def _bearer_params(header: str) -> dict[str, str] | None:
    match = re.search(r"(?:^|,)\s*bearer\b", header, re.IGNORECASE)
    if match is None:
        return None
    rest = header[match.end() :]
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.end() == pos:
            break  # the next challenge (a bare scheme token) begins here
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(m.group(1).lower(), value)
        pos = m.end()
    return params


def bearer_error(header: str | None) -> tuple[bool, str | None]:
    """Return ``(is_bearer_challenge, error)`` for a ``WWW-Authenticate`` header value.

    ``error`` is the lower-cased ``error`` attribute of the Bearer challenge, or ``None``.
    """
    if not header:
        return False, None
    params = _bearer_params(header)
    if params is None:
        return False, None
    error = params.get("error")
    return True, error.lower() if error else None
