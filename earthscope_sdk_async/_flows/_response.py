"""Read an identity-provider response defensively and map OAuth errors to typed ones.

The JSON ``error`` field is decided on before the HTTP status (C13); HTML, empty, truncated
or non-object bodies never escape as ``JSONDecodeError`` (C25). Messages carry the endpoint,
the status and the server's error code/description, never a token or the body itself: every
piece of server text passes :func:`~earthscope_sdk_async._redact.redact`, which removes the
secrets the request carried (read back from the request) and anything token-shaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

from .._errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    InvalidClientError,
    InvalidResponseError,
    LoginRequiredError,
    OAuthError,
    OAuthServerError,
    RateLimitError,
)
from .._redact import redact, secrets_in_form
from .._retry_after import retry_after_seconds
from .._urls import safe_url

__all__ = ["Context", "Reply", "read_reply", "to_error"]

Context = Literal["device", "refresh", "client_credentials", "revoke"]
"""Which flow a response belongs to: the same error code means different things in each."""

_MAX_DESCRIPTION = 300

_COMMON: dict[str, type[OAuthError]] = {
    "invalid_client": InvalidClientError,
    "unauthorized_client": InvalidClientError,
    "access_denied": AccessDeniedError,
    "too_many_attempts": RateLimitError,
    "temporarily_unavailable": OAuthServerError,
    "server_error": OAuthServerError,
}
_BY_CONTEXT: dict[Context, dict[str, type[OAuthError]]] = {
    "device": {"expired_token": DeviceCodeExpiredError, "invalid_grant": DeviceCodeExpiredError},
    "refresh": {"invalid_grant": LoginRequiredError},
    "client_credentials": {"access_denied": InvalidClientError},
    "revoke": {},
}
_ADVICE: dict[type[OAuthError], str] = {
    LoginRequiredError: "the refresh token is no longer valid; log in again",
    AccessDeniedError: "the request was refused; log in again and approve the request",
    DeviceCodeExpiredError: "the sign-in code expired before it was approved; log in again",
    InvalidClientError: (
        "check the client id and secret (ES_OAUTH2__CLIENT_ID, ES_OAUTH2__CLIENT_SECRET), and "
        "that this client may use this grant"
    ),
    RateLimitError: "the identity provider is rate limiting this client; wait and try again",
    OAuthServerError: "the identity provider is having problems; try again later",
    InvalidResponseError: "the identity provider sent an unusable response; try again later",
    OAuthError: "see the error description",
}


@dataclass(frozen=True)
class Reply:
    """A response, read: the status, the JSON object body (or why there is none)."""

    url: str
    what: str
    status_code: int
    headers: httpx.Headers = field(repr=False)
    body: dict[str, Any] | None = field(repr=False)
    problem: str | None
    """Why ``body`` is ``None``: empty, not JSON, not an object."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """The secrets the request carried: removed from any server text we repeat."""

    def text(self, value: str | None) -> str | None:
        """Server text made safe for a message (redacted, printable, short)."""
        return None if value is None else redact(value, self.secrets, limit=_MAX_DESCRIPTION)

    @property
    def error_code(self) -> str | None:
        """The OAuth ``error`` field when it is a non-empty string."""
        value = self.body.get("error") if self.body else None
        return value if isinstance(value, str) and value else None

    @property
    def is_success(self) -> bool:
        """A 2xx with a JSON object that carries no ``error`` (C13)."""
        return 200 <= self.status_code < 300 and self.body is not None and not self.error_code

    def invalid(self, reason: str) -> InvalidResponseError:
        """An :class:`InvalidResponseError` for this reply; ``reason`` names the field."""
        return InvalidResponseError(
            f"{self.what} to {self.url}: HTTP {self.status_code} response {self.text(reason)}; "
            f"{_ADVICE[InvalidResponseError]}",
            status_code=self.status_code,
            error=self.text(self.error_code),
        )


def _decode(response: httpx.Response) -> tuple[dict[str, Any] | None, str | None]:
    content = response.content
    if not content.strip():
        return None, "has an empty body"
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        kind = response.headers.get("content-type", "unknown").split(";")[0].strip()
        return None, f"is not valid JSON (content type {kind[:60]}; truncated or not JSON)"
    if not isinstance(data, dict):
        return None, f"is JSON but not an object (a {type(data).__name__})"
    return data, None


def read_reply(response: httpx.Response, *, what: str) -> Reply:
    """Decode ``response`` without ever raising."""
    body, problem = _decode(response)
    return Reply(
        url=safe_url(response.request.url),
        what=what,
        status_code=response.status_code,
        headers=response.headers,
        body=body,
        problem=problem,
        secrets=_request_secrets(response.request),
    )


def _request_secrets(request: httpx.Request) -> tuple[str, ...]:
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:  # pragma: no cover - token requests are small forms
        content = None
    return secrets_in_form(content, request.headers)


def _text(reply: Reply, name: str) -> str | None:
    value = reply.body.get(name) if reply.body else None
    if not isinstance(value, str) or not value.strip():
        return None
    return reply.text(value) or None


_PUBLIC_CLIENT_ADVICE = (
    "the identity provider does not know this client or does not let it use the device flow: "
    "check the client id (ES_OAUTH2__CLIENT_ID, or oauth2.client_id in the profile) and "
    "ES_OAUTH2__DOMAIN"
)
"""For device logins and their refreshes: a public client has no secret to check."""


def _advice(cls: type[OAuthError], context: Context) -> str:
    if cls is InvalidClientError and context in ("device", "refresh"):
        return _PUBLIC_CLIENT_ADVICE
    return _ADVICE[cls]


def _error_class(reply: Reply, context: Context) -> type[OAuthError]:
    code = reply.error_code
    if code is not None:
        found = _BY_CONTEXT[context].get(code) or _COMMON.get(code)
        if found is not None:
            return found
    if reply.status_code == 429:
        return RateLimitError
    if reply.status_code >= 500:
        return OAuthServerError
    if reply.status_code == 401 and code is None:
        return InvalidClientError  # C32: e.g. a bare ``WWW-Authenticate: Basic`` challenge
    return OAuthError if code is not None else InvalidResponseError


def to_error(reply: Reply, context: Context, *, now: datetime | None = None) -> OAuthError:
    """The typed error for an unsuccessful ``reply`` (not raised: the caller decides)."""
    cls = _error_class(reply, context)
    code = reply.text(reply.error_code)
    if cls is InvalidResponseError:
        return reply.invalid(reply.problem or "is an error without an 'error' field")
    description = _text(reply, "error_description")
    detail = f"{code}: {description}" if code and description else (code or description or "")
    message = (
        f"{reply.what} to {reply.url} failed with HTTP {reply.status_code}"
        f"{' (' + detail + ')' if detail else ''}; {_advice(cls, context)}"
    )
    fields: dict[str, Any] = {
        "status_code": reply.status_code,
        "error": code,
        "error_description": description,
        "error_uri": _text(reply, "error_uri"),
    }
    if cls is RateLimitError:
        return RateLimitError(
            message, retry_after=retry_after_seconds(reply.headers, now=now), **fields
        )
    return cls(message, **fields)
