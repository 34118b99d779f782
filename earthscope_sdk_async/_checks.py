"""Argument checks written once: "a real number, not a bool" and "an integer >= 1, not a bool".

A leaf module (it imports only :mod:`._errors`), so settings, tokens, flows, stores, the
retry policy and downloads can all use it. ``bool`` is an ``int`` in Python, so
``True`` would otherwise pass as ``1``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = ["check_count", "check_headers", "is_number"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP field name (RFC 9110 section 5.1: a token)."""
_VALUE = re.compile(r"[\t\x20-\x7e]*")
"""A field value the SDK sends: printable ASCII, spaces and tabs (no CR, LF or NUL, which
would end the header early: header injection)."""


def is_number(value: object) -> TypeIs[int | float]:
    """True for an ``int`` or ``float`` that is not a ``bool`` (NaN and infinities included)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_count(name: str, value: object) -> int:
    """``value`` when it is an integer >= 1 (not a bool), else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_headers(headers: Mapping[str, str] | None) -> None:
    """:class:`ConfigError` unless every name is an HTTP token and every value printable
    ASCII (a CR or LF would smuggle in another header); the value is never quoted."""
    for name, value in (headers or {}).items():
        shown = repr(name)[:60]
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigError(
                f"invalid HTTP header name {shown}: use letters, digits and !#$%&'*+-.^_`|~ "
                "(no spaces, colons or control characters)"
            )
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            raise ConfigError(
                f"invalid value for HTTP header {shown}: it must be text of printable ASCII "
                "characters (no line breaks, control characters or non-ASCII letters; "
                "percent- or base64-encode such data)"
            )
