"""URL helpers shared by every layer (a leaf module: imports nothing from the package)."""

from __future__ import annotations

import httpx

__all__ = ["safe_url"]


def safe_url(url: str | httpx.URL) -> str:
    """``url`` without its query string and fragment, which may carry signatures or tokens:
    the only form of a URL that goes into messages and logs."""
    return str(httpx.URL(str(url)).copy_with(query=None, fragment=None))
