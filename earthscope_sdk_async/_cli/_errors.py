"""Exit codes of ``earthscope-async`` and the one-line message shown for each error.

Importing this module is cheap (only the leaf ``_errors`` module of the SDK): the ``token``
fast path uses it.
"""

from __future__ import annotations

from .._errors import (
    AccessDeniedError,
    ApiError,
    ConfigError,
    DeviceCodeExpiredError,
    EarthScopeError,
    InvalidClientError,
    LoginRequiredError,
    OAuthError,
    TokenStoreError,
    TransportError,
)

__all__ = [
    "ACCESS_DENIED",
    "API_ERROR",
    "CANCELLED",
    "DOWNLOAD_FAILED",
    "ERROR",
    "EXIT_CODES",
    "LOGIN_REQUIRED",
    "NETWORK",
    "OK",
    "USAGE",
    "CliError",
    "describe",
    "exit_code_for",
]

OK = 0
ERROR = 1
USAGE = 2
LOGIN_REQUIRED = 3
ACCESS_DENIED = 4
NETWORK = 5
API_ERROR = 6
DOWNLOAD_FAILED = 7
CANCELLED = 130

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (OK, "success"),
    (ERROR, "any other error (token file, destination directory, unexpected failure)"),
    (USAGE, "bad command line or configuration (settings, profile, config file)"),
    (LOGIN_REQUIRED, "not logged in, session expired or revoked, sign-in code expired"),
    (ACCESS_DENIED, "access denied (login refused, client or API refused access: 401/403)"),
    (NETWORK, "network error: EarthScope could not be reached"),
    (API_ERROR, "EarthScope or its identity provider answered with an error"),
    (DOWNLOAD_FAILED, "download: some files failed (the others were saved)"),
    (CANCELLED, "cancelled with Ctrl-C"),
)
"""Every exit code with its meaning, as printed by ``--help`` and docs/cli.md."""


class CliError(Exception):
    """A command-line failure with its own message and exit code (no traceback shown)."""

    def __init__(self, message: str, code: int = ERROR) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(exc: BaseException) -> int:
    """The exit code for ``exc``."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, ConfigError):
        return USAGE
    if isinstance(exc, (LoginRequiredError, DeviceCodeExpiredError)):
        return LOGIN_REQUIRED
    if isinstance(exc, (AccessDeniedError, InvalidClientError)):
        return ACCESS_DENIED
    if isinstance(exc, ApiError):
        return ACCESS_DENIED if exc.status_code in (401, 403) else API_ERROR
    if isinstance(exc, TransportError):
        return NETWORK
    if isinstance(exc, OAuthError):
        return API_ERROR
    return ERROR


def login_hint(profile: str | None) -> str:
    """The login command to suggest, with ``--profile`` when one was given."""
    return "earthscope-async login" + (f" --profile {profile}" if profile else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException, profile: str | None = None) -> str:
    """One line naming the problem and the fix; never a secret (library messages have none).

    ``profile`` is the ``--profile`` given on the command line, if any.
    """
    message = _one_line(str(exc))
    if isinstance(exc, CliError):
        return message
    if isinstance(exc, DeviceCodeExpiredError):
        return f"the sign-in code expired before it was approved: run `{login_hint(profile)}`"
    if isinstance(exc, LoginRequiredError):
        why = " (the session expired or was revoked)" if exc.error == "invalid_grant" else ""
        return f"not logged in{why}: run `{login_hint(profile)}`"
    labels: tuple[tuple[type[BaseException], str], ...] = (
        (ConfigError, "configuration error"),
        (AccessDeniedError, "access denied"),
        (InvalidClientError, "client refused"),
        (TransportError, "network error"),
        (ApiError, "API error"),
        (OAuthError, "identity provider error"),
        (TokenStoreError, "token file error"),
        (EarthScopeError, "error"),
    )
    for kind, label in labels:
        if isinstance(exc, kind):
            return f"{label}: {message}"
    # Not one of ours: a bug. Its message could hold anything, so only its type is shown.
    return f"internal error ({type(exc).__name__}); run again with --debug for the traceback"
