"""Decode successful API responses; a body we cannot use becomes an :class:`ApiError`.

The error keeps the HTTP status and request id but never quotes the body: a successful
answer may carry secrets (AWS keys, tokens).
"""

from __future__ import annotations

from typing import Any

import httpx

from .._errors import ApiError
from .._redact import redact
from .._urls import safe_url

__all__ = ["decode_json", "invalid_response", "json_object"]

_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id")


def invalid_response(response: httpx.Response, what: str, problem: str) -> ApiError:
    """An :class:`ApiError` saying that ``what`` came back unusable (``problem``)."""
    request_id = next(
        (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
    )
    request_id = redact(request_id, limit=100) or None if request_id is not None else None
    problem = redact(problem)
    url = safe_url(response.request.url)
    message = (
        f"EarthScope API answered {response.status_code} for {response.request.method} {url} "
        f"but the {what} is unusable: {problem}"
    )
    if request_id:
        message += f" (request id {request_id})"
    message += "; try again later, and report it if it persists"
    return ApiError(
        message, status_code=response.status_code, detail=problem, request_id=request_id, url=url
    )


def decode_json(response: httpx.Response, what: str) -> Any:
    """The decoded JSON body of ``response``; :class:`ApiError` when it is not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        content_type = response.headers.get("content-type", "no content type")
        raise invalid_response(response, what, f"the body is not JSON ({content_type})") from None


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The body of ``response`` as a JSON object; :class:`ApiError` for anything else."""
    body = decode_json(response, what)
    if not isinstance(body, dict):
        raise invalid_response(response, what, f"expected a JSON object, got {type(body).__name__}")
    return body
