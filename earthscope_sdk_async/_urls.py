"""URL helpers shared by every layer (a leaf module: standard library only, so that importing
it stays cheap for the command line's fast path)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["safe_url"]


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
