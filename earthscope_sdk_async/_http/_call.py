"""One API call, as the Requester hands it to the sending code (:mod:`._send`, :mod:`._direct`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._api_errors import api_error_from_response
from .._errors import ApiError
from .._urls import safe_url

__all__ = ["ApiCall"]


@dataclass(repr=False, eq=False, slots=True)  # no repr: json/headers may hold personal data
class ApiCall:
    """What to send: everything ``httpx.AsyncClient.request`` needs, plus whether to retry.

    Made by the Requester for one request and not changed once sent (not frozen: a frozen
    dataclass costs a microsecond more to make, on every API call)."""

    method: str
    url: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    retry: bool = True
    auth: httpx.Auth | None = None
    """Replaces the client's bearer auth for this call (e.g. S3's SigV4); ``None``: the client's."""
    error: Callable[[httpx.Response], ApiError] = api_error_from_response
    """Turns an unsuccessful answer into the error to raise (S3 answers are S3Errors)."""
    timeout: float | None = None
    """Replaces the client's timeouts for this call (seconds)."""
    consume: Callable[[httpx.Response], Awaitable[Any]] | None = None
    """Reads a successful body instead of holding it (result in ``extensions["consumed"]``)."""

    @property
    def safe_url(self) -> str:
        """The URL without its query string (which may carry signatures)."""
        return safe_url(self.url)

    def __str__(self) -> str:
        """``"METHOD url-without-query"`` (what log lines and errors name)."""
        return f"{self.method} {self.safe_url}"
