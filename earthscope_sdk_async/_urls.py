"""URL helpers shared by every layer (a leaf module: standard library only, so that importing
it stays cheap for the command line's fast path)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # (imported when called: the CLI's token fast path never loads httpx)
    import httpx

__all__ = ["openable_url", "parsed_url", "safe_url"]

_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def safe_url(url: object) -> str:
    """``url`` without a user name or password, query string and fragment, which may carry
    credentials, signatures or tokens: the only form of a URL that goes into messages and
    logs. Works on strings and ``httpx.URL`` alike, and on text that is not a valid URL."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: cut by hand
        text = text.split("?", 1)[0].split("#", 1)[0]
        scheme, sep, rest = text.partition("://")
        return scheme + sep + rest.rsplit("@", 1)[-1] if sep else text
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def openable_url(url: object) -> str | None:
    """``url`` if it is safe to hand to a web browser, else ``None``.

    Only ``https://`` URLs with a host, or ``http://`` to a loopback host (a local test
    server), are opened: never ``javascript:``, ``file:``, ``data:`` or other schemes, never
    text with spaces or control characters, never something that starts with ``-`` (a
    browser would read it as an option such as ``--remote-debugging-port=9222``).
    """
    if not isinstance(url, str) or not url or len(url) > 2048 or url.startswith("-"):
        return None
    if any(ord(c) <= 32 or 127 <= ord(c) <= 159 or c in '"<>`\\' for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not host or parts.username is not None or parts.password is not None:
        return None
    if parts.scheme == "https":
        return url
    loopback = host in _LOOPBACK or host.endswith(".localhost") or host.startswith("127.")
    return url if parts.scheme == "http" and loopback else None


@functools.lru_cache(maxsize=2048)
def parsed_url(url: str) -> httpx.URL:
    """``httpx.URL(url)``, kept for the last 2,048 URLs: a download checks its item's URL
    when its worker takes it and sends it a moment later (one parse per file, not two).

    Raises:
        httpx.InvalidURL: as ``httpx.URL`` raises it (not kept).
    """
    import httpx

    return httpx.URL(url)
