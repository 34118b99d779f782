"""Translate an unsuccessful EarthScope API response into an :class:`ApiError`."""

from __future__ import annotations

import json

import httpx

from ._errors import ApiError
from ._redact import redact, secrets_in_form
from ._urls import safe_url

__all__ = ["api_error_from_response", "raise_for_api_status"]

_EXCERPT = 300
_RAW = 8192  # read this much before redacting: a cut secret is harder to recognise
_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id")


def _detail(response: httpx.Response) -> str | None:
    """The server's explanation, redacted (see :mod:`earthscope_sdk_async._redact`)."""
    text = _raw_detail(response)
    if text is None:
        return None
    try:
        request = response.request
    except RuntimeError:
        return redact(text, limit=_EXCERPT) or None
    secrets = secrets_in_form(_content(request), request.headers)
    return redact(text, secrets, limit=_EXCERPT) or None


def _content(request: httpx.Request) -> bytes | None:
    try:
        return request.content
    except httpx.RequestNotRead:
        return None


def _raw_detail(response: httpx.Response) -> str | None:
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    if not text.strip():
        return None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return text.strip()[:_RAW]
    if isinstance(body, dict):
        for key in ("detail", "message", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:_RAW]
            if value is not None and key == "detail":
                return json.dumps(value)[:_RAW]
    return text.strip()[:_RAW]


def api_error_from_response(response: httpx.Response) -> ApiError:
    """Build the :class:`ApiError` for ``response`` (status, detail, request id, URL).

    The URL is reported without its query string, which may carry signatures.
    """
    request_id = next(
        (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
    )
    request_id = redact(request_id, limit=100) or None if request_id is not None else None
    detail = _detail(response)
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built by hand, without its request
        request = None
    url = safe_url(request.url) if request is not None else None
    reason = response.reason_phrase or "error"
    message = f"EarthScope API answered {response.status_code} {reason}"
    if request is not None:
        message += f" for {request.method} {url}"
    if detail:
        message += f": {detail}"
    if request_id:
        message += f" (request id {request_id})"
    return ApiError(
        message, status_code=response.status_code, detail=detail, request_id=request_id, url=url
    )


def raise_for_api_status(response: httpx.Response) -> httpx.Response:
    """Return ``response`` when it is successful (2xx), else raise its :class:`ApiError`."""
    if response.is_success:
        return response
    raise api_error_from_response(response)
