"""URL helpers shared by every layer (a leaf module: standard library only, so that importing
it stays cheap for the command line's fast path)."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # (imported when called: the CLI's token fast path never loads httpx)
    import httpx

__all__ = ["PlainURL", "openable_url", "parsed_url", "plain_url", "safe_url"]

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


_SAFE = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})"
"""A character httpx keeps as it is in a path or query: unreserved, sub-delims, ``:@/``,
and percent-escapes (kept as written, hex case included)."""
_PLAIN = re.compile(
    r"(https?)://"  # scheme, in lower case
    r"([a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?)"  # host: a lower-case name or an IPv4 address
    r"(?::([1-9][0-9]{0,4}))?"  # port: no leading zero
    rf"(/{_SAFE}*)"  # path: not empty
    rf"(?:\?{_SAFE}(?:{_SAFE}|\?)*)?",  # query: not empty when there is a "?"; no fragment
    re.ASCII,
)
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
"""What httpx takes for an IPv4 address, and then checks as one."""
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class PlainURL:
    """A URL in the plain form ``httpx.URL`` keeps exactly as written (see
    :func:`plain_url`): its scheme, host and port, read without parsing it again (shared
    by the cache of :func:`plain_url`: never changed)."""

    __slots__ = ("host", "path", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int | None, path: str) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path


@functools.lru_cache(maxsize=2048)
def plain_url(url: str) -> PlainURL | None:
    """``url``'s parts when it is plain: ``http`` or ``https`` in lower case, a lower-case
    ASCII host name or a valid IPv4 address, no user info, a port up to 65535 other than
    the scheme's default and without leading zeros, a path without ``.`` or ``..``
    segments, an optional non-empty query, no fragment, and only characters httpx leaves
    as they are. Such a URL is what ``httpx.URL`` would
    make of it, character for character (a property test holds the two together), so the
    hot paths use it without the parse (about 8 µs). ``None``: parse it with httpx. Kept
    for the last 2,048 URLs, as :func:`parsed_url` is (a download checks its item's URL
    and sends it a moment later: one match per file, not two)."""
    match = _PLAIN.fullmatch(url)
    if match is None:
        return None
    scheme, host, port, path = match.group(1, 2, 3, 4)
    if _IPV4_STYLE.fullmatch(host) and not _IPV4.fullmatch(host):
        return None  # (httpx refuses it)
    number = None
    if port:
        number = int(port)
        if port == _DEFAULT_PORTS[scheme] or number > 65535:
            return None  # (httpx drops the default; a port out of range is refused)
    if "/." in path and any(part in (".", "..") for part in path.split("/")):
        return None  # (httpx removes dot segments)
    return PlainURL(scheme, host, number, path)
