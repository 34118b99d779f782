"""The exceptions raised by earthscope-sdk-async.

Every error the package raises on purpose is an :class:`EarthScopeError`; usage and
configuration errors are also :class:`ValueError`. The tree::

    EarthScopeError
    ├── ConfigError (also ValueError)        bad settings, profile or config file
    ├── ClientClosedError (also RuntimeError) a client used after close()
    ├── TokenStoreError                      a token store could not load, save or lock
    ├── TransportError                       network failure; retryable
    ├── OAuthError                           the identity provider said no, or said nonsense
    │   ├── InvalidResponseError             HTML, empty, truncated or ill-typed response
    │   ├── OAuthServerError                 5xx / temporarily_unavailable; retryable
    │   ├── RateLimitError                   429 / too_many_attempts
    │   ├── LoginRequiredError               no tokens, or invalid_grant on refresh (C38)
    │   ├── AccessDeniedError                the user denied the device login (C14)
    │   ├── DeviceCodeExpiredError           the device code expired (C14, C15)
    │   └── InvalidClientError               bad client id/secret or grant not allowed (C32)
    ├── ApiError                             an API call failed (status, detail, request id)
    │   ├── AwsRoleDeniedError               403 for AWS credentials: role unknown or not allowed
    │   └── S3Error                          S3 refused a request (code: NoSuchKey, AccessDenied,
    │                                        SignatureDoesNotMatch, ExpiredToken, ...)
    └── DownloadError                        a file (or a bulk download) could not be saved

Messages never contain secrets (C54): tokens, client secrets and device codes are never
part of an error's message, ``repr`` or attributes.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ApiError",
    "AwsRoleDeniedError",
    "ClientClosedError",
    "ConfigError",
    "DeviceCodeExpiredError",
    "DownloadError",
    "EarthScopeError",
    "InvalidClientError",
    "InvalidResponseError",
    "LoginRequiredError",
    "OAuthError",
    "OAuthServerError",
    "RateLimitError",
    "S3Error",
    "TokenStoreError",
    "TransportError",
]


class EarthScopeError(Exception):
    """The root of every error raised by earthscope-sdk-async.

    ``retryable`` tells whether trying the same operation again later may succeed.
    """

    retryable: bool = False


class ConfigError(EarthScopeError, ValueError):
    """Settings, a profile or a configuration file are invalid; the message says which."""


class ClientClosedError(EarthScopeError, RuntimeError):
    """A client was used after ``close()``/``aclose()``; create a new client."""


class TokenStoreError(EarthScopeError):
    """A token store could not load, save, delete or lock its tokens.

    ``path`` names the file (or other location) when there is one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class TransportError(EarthScopeError):
    """The network failed (connection refused or reset, timeout, TLS); retryable.

    Never a sign that credentials are bad: a transport error is not ``invalid_grant``.
    """

    retryable = True


class OAuthError(EarthScopeError):
    """The identity provider answered with an error, or with something unusable.

    Carries the HTTP ``status_code`` (``None`` when no request was made), the OAuth
    ``error`` code, ``error_description`` and ``error_uri`` when the server sent them (C25).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        error_uri: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, status_code={self.status_code!r}, "
            f"error={self.error!r})"
        )


class InvalidResponseError(OAuthError):
    """The server's response could not be understood (HTML, empty, truncated JSON,
    missing or ill-typed fields). ``status_code`` says what the server sent.
    """


class OAuthServerError(OAuthError):
    """The identity provider failed (5xx or ``temporarily_unavailable``); retryable."""

    retryable = True


class RateLimitError(OAuthError):
    """The identity provider is rate limiting this client (429, ``too_many_attempts``).

    ``retry_after`` is the number of seconds the server asked us to wait, when known.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class LoginRequiredError(OAuthError):
    """There are no usable tokens: log in again (no tokens stored, or the refresh token
    was rejected with ``invalid_grant``, C38).
    """


class AccessDeniedError(OAuthError):
    """The user (or the tenant) refused the authorization request (C14)."""


class DeviceCodeExpiredError(OAuthError):
    """The device code expired before the user approved it (C14, C15); log in again."""


class InvalidClientError(OAuthError):
    """The client id or secret is wrong, or the client may not use this grant (C32)."""


class ApiError(EarthScopeError):
    """An EarthScope API request failed.

    ``status_code`` is the HTTP status, ``detail`` EarthScope's ``detail``/``message`` (or an
    excerpt of the body), ``request_id`` the server's request id when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: str | None = None,
        request_id: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail
        self.request_id = request_id
        self.url = url

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """429 and 5xx answers may succeed later."""
        return self.status_code == 429 or self.status_code >= 500

    def __repr__(self) -> str:
        return f"ApiError({str(self)!r}, status_code={self.status_code!r})"


class AwsRoleDeniedError(ApiError):
    """EarthScope refused AWS credentials (403): the role is unknown, or this user may not
    assume it (or not with these parameters). ``role`` names the role asked for.
    """

    def __init__(self, message: str, *, role: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.role = role


class S3Error(ApiError):
    """An S3 request failed. ``code`` is S3's error code when it sent one (``NoSuchKey``,
    ``AccessDenied``, ``SignatureDoesNotMatch``, ``ExpiredToken``, ...), ``bucket`` and
    ``key`` say what was asked for. Retryable like any :class:`ApiError` (429, 5xx).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.code = code
        self.bucket = bucket
        self.key = key

    def __repr__(self) -> str:
        return f"S3Error({str(self)!r}, status_code={self.status_code!r}, code={self.code!r})"


class DownloadError(EarthScopeError):
    """A download failed: a bad destination name, a local I/O failure, a body that kept
    arriving truncated, or (from ``DownloadReport.raise_for_failures``) a summary of every
    failed file, listed in ``failures`` as ``(url, error)`` pairs.
    """

    def __init__(
        self, message: str, *, failures: tuple[tuple[str, EarthScopeError], ...] = ()
    ) -> None:
        super().__init__(message)
        self.failures = failures
