"""Where one download item's requests go: the engine's one hook for other kinds of URL.

The engine (:mod:`._file`) downloads every item the same way (``.part``, ``Range`` resume,
retries, checksums); a :data:`Router` only says, per item URL, which URL to request, with
which auth, and how to turn an error answer into an exception. ``https://`` URLs go as they
are with the client's auth (:func:`direct`); ``s3://`` URLs are routed by
:mod:`earthscope_sdk_async._s3._route` (signed S3 requests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .._api_errors import api_error_from_response
from .._errors import ApiError, DownloadError

__all__ = ["Route", "Router", "direct"]


@dataclass(frozen=True, slots=True)
class Route:
    """How to request one item: ``url``, ``auth`` (``None``: the client's bearer auth) and
    ``error`` (an unsuccessful response -> the error to report)."""

    url: str
    auth: httpx.Auth | None = None
    error: Callable[[httpx.Response], ApiError] = field(default=api_error_from_response)

    @property
    def httpx_auth(self) -> httpx.Auth | httpx._client.UseClientDefault:
        """``auth`` as httpx's ``auth=`` argument."""
        return self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT


Router = Callable[[str], Route]
"""Item URL -> :class:`Route` (may raise an :class:`EarthScopeError`: that item fails)."""


def direct(url: str) -> Route:
    """http(s) URLs as they are; ``s3://`` needs S3 access configured."""
    if url[:5].lower() == "s3://":
        raise DownloadError(
            f"cannot download {url}: s3:// URLs need AWS credentials; pass aws_role= "
            "(e.g. 's3-miniseed-v2') to download()"
        )
    return Route(url)
