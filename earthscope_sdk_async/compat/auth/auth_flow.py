"""``earthscope_sdk.auth.auth_flow`` of 0.2.1: the ``AuthFlow`` base class and its errors.

Subclasses implement ``load_tokens()`` and ``save_tokens(creds)`` exactly as for 0.2.1; the
refresh and revocation requests run on the async engine. Every error is also an
:class:`~earthscope_sdk_async.EarthScopeError`::

    AuthFlowError (EarthScopeError)
    ├── UnauthorizedError
    ├── NoTokensError
    │   ├── NoIdTokenError
    │   └── NoRefreshTokenError
    ├── InvalidRefreshTokenError
    └── ClientCredentialsFlowError        (in client_credentials_flow)
    RevokeTokenError (RuntimeError, EarthScopeError)   new: 0.2.1 raised a bare RuntimeError
"""

from __future__ import annotations

import abc
import collections.abc
import datetime as dt
import logging
import typing

from ... import _errors as _es
from ..._clock import Clock as _Clock
from ..._clock import SystemClock as _SystemClock
from ..._settings import Settings as _Settings
from ..._tokens import decode_jwt_claims as _decode_jwt_claims
from .. import _engine
from .._errors import wrap as _wrap
from . import _tokens
from ._tokens import TokensResponse as TokensResponse
from ._tokens import UnvalidatedTokens as UnvalidatedTokens
from ._tokens import ValidTokens as ValidTokens

__all__ = [
    "AuthFlow",
    "AuthFlowError",
    "InvalidRefreshTokenError",
    "NoIdTokenError",
    "NoRefreshTokenError",
    "NoTokensError",
    "RevokeTokenError",
    "TokensResponse",
    "UnauthorizedError",
    "UnvalidatedTokens",
    "ValidTokens",
]

_log = logging.getLogger(__name__)

_F = typing.TypeVar("_F", bound="AuthFlow")

_REAUTHENTICATE = (
    "Unable to refresh because the refresh token is not valid. Use 'no-auto-refresh' option "
    "to get token anyway. To resolve, re-authenticate"
)


class AuthFlowError(_es.EarthScopeError):
    """Generic authentication flow error."""


class UnauthorizedError(AuthFlowError):
    """The client credentials were refused (HTTP 401 ``access_denied``)."""


class NoTokensError(AuthFlowError):
    """There are no (usable) tokens: log in (``do_flow()`` / ``request_tokens()``)."""


class NoIdTokenError(NoTokensError):
    """The tokens have no id token (request the ``openid`` scope)."""


class NoRefreshTokenError(NoTokensError):
    """The tokens have no refresh token (request ``offline_access``, or log in again)."""


class InvalidRefreshTokenError(AuthFlowError):
    """The identity provider rejected the refresh token (``invalid_grant``): log in again."""


class RevokeTokenError(RuntimeError, _es.EarthScopeError):
    """Revoking the refresh token failed (a ``RuntimeError``, as in 0.2.1)."""


def _refresh_error(exc: _es.EarthScopeError) -> _es.EarthScopeError:
    """C38: only a refusal by the server means the refresh token is bad; network trouble,
    5xx, 429 and unusable answers keep their engine type.
    """
    refused = isinstance(exc, _es.OAuthError) and not exc.retryable
    if refused and not isinstance(exc, _es.InvalidResponseError):
        return _wrap(InvalidRefreshTokenError, str(exc), exc)
    return exc


class AuthFlow(abc.ABC):
    """Retrieves, validates, saves and refreshes tokens (0.2.1's abstract base class).

    Subclasses implement :meth:`load_tokens` (load, then call :meth:`validate_tokens`) and
    :meth:`save_tokens`. ``domain`` is a bare host (``login.earthscope.org``, meaning https)
    or a URL; plain ``http://`` is only accepted for loopback hosts (``ValueError``).
    """

    _clock: _Clock = _SystemClock()
    """Time source and sleeper for the engine (tests set a scaled clock)."""

    def __init__(self, domain: str, audience: str, client_id: str, scope: str) -> None:
        self.auth0_domain = domain
        self.auth0_audience = audience
        self.auth0_client_id = client_id
        self.token_scope: str | None = scope

        self._tokens: ValidTokens | None = None
        self._access_token_body: dict[str, typing.Any] | None = None
        self._id_token_body: dict[str, typing.Any] | None = None
        self._settings()  # a bad domain fails here, not at the first request

    def _settings(self, scope: str | None = None) -> _Settings:
        return _engine.settings_for(
            self.auth0_domain,
            self.auth0_audience,
            self.auth0_client_id,
            self.token_scope if scope is None else scope,
        )

    # -- token properties ---------------------------------------------------------------

    @property
    def access_token(self) -> str:
        """The access token (``NoTokensError`` when there are no tokens)."""
        return self.tokens.access_token

    @property
    def access_token_body(self) -> dict[str, typing.Any]:
        """The access token's claims, unverified (``{}`` for an opaque token)."""
        if self._access_token_body is None:
            raise NoTokensError("no tokens are loaded; load or request tokens first")
        return self._access_token_body

    @property
    def tokens(self) -> ValidTokens:
        """The validated tokens (``NoTokensError`` when there are none)."""
        if not self._tokens:
            raise NoTokensError("no tokens are loaded; load or request tokens first")
        return self._tokens

    @property
    def expires_at(self) -> dt.datetime:
        """When the access token expires (aware UTC)."""
        return dt.datetime.fromtimestamp(self.tokens.expires_at, dt.timezone.utc)

    @property
    def id_token(self) -> str:
        """The id token (``NoIdTokenError`` when there is none)."""
        idt = self.tokens.id_token
        if not idt:
            raise NoIdTokenError("the tokens have no id token; request the 'openid' scope")
        return idt

    @property
    def id_token_body(self) -> dict[str, typing.Any]:
        """The id token's claims, unverified (``NoIdTokenError`` when there is none)."""
        if self._id_token_body is None:
            raise NoIdTokenError("the tokens have no (decodable) id token")
        return self._id_token_body

    @property
    def issued_at(self) -> dt.datetime:
        """When the access token was issued (aware UTC)."""
        return dt.datetime.fromtimestamp(self.tokens.issued_at, dt.timezone.utc)

    @property
    def refresh_token(self) -> str:
        """The refresh token (``NoRefreshTokenError`` when there is none)."""
        rt = self.tokens.refresh_token
        if not rt:
            raise NoRefreshTokenError(
                "the tokens have no refresh token; request 'offline_access' and log in again"
            )
        return rt

    @property
    def has_refresh_token(self) -> bool:
        """True when tokens are loaded and include a refresh token."""
        try:
            return self.tokens.refresh_token is not None
        except NoTokensError:
            return False

    @property
    def ttl(self) -> dt.timedelta:
        """Time left before the access token expires (negative once expired)."""
        return self.expires_at - dt.datetime.now(dt.timezone.utc)

    # -- hooks -----------------------------------------------------------------------------

    @abc.abstractmethod
    def load_tokens(self) -> typing.Any:
        """Load saved tokens and pass them to :meth:`validate_tokens` (subclass hook).

        Raise :class:`NoTokensError` when there are none.
        """

    @abc.abstractmethod
    def save_tokens(self, creds: ValidTokens) -> typing.Any:
        """Persist ``creds`` (subclass hook; called after every login and refresh)."""

    # -- operations ------------------------------------------------------------------------

    def refresh(self: _F, scope: str | None = None, revoke: bool = False) -> _F | None:
        """Refresh the access token, or with ``revoke=True`` revoke the refresh token.

        Sends ``scope`` (default: the tokens' scope) as ``scope``. Returns ``self`` after a
        refresh (tokens validated and saved) and ``None`` after a revocation.

        Raises:
            NoRefreshTokenError: there is no refresh token.
            InvalidRefreshTokenError: the server refused the refresh token.
            RevokeTokenError: the revocation failed.
            TransportError, OAuthServerError, RateLimitError, InvalidResponseError: the
                network or the server failed; the refresh token may still be good.
        """
        scope = scope or self.token_scope
        if not self.has_refresh_token:
            raise NoRefreshTokenError("No refresh token was found. Please re-authenticate.")
        settings = self._settings(scope or "")
        if revoke:
            try:
                _engine.run(_engine.revoke, settings, self.refresh_token, self._clock)
            except _es.EarthScopeError as exc:
                raise _wrap(RevokeTokenError, str(exc), exc) from exc
            _log.debug("refresh token revoked")
            return None
        try:
            fresh = _engine.run(
                _engine.refresh, settings, _tokens.engine_tokens(self.tokens), self._clock
            )
        except _es.EarthScopeError as exc:
            mapped = _refresh_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        self.validate_and_save_tokens(fresh.to_dict())
        _log.debug("tokens refreshed")
        return self

    def validate_and_save_tokens(
        self: _F, unvalidated_creds: collections.abc.Mapping[str, typing.Any]
    ) -> _F:
        """Validate ``unvalidated_creds``, then call :meth:`save_tokens` with the result.

        Unlike 0.2.1, an exception from ``save_tokens`` propagates (tokens that could not be
        saved are not silently lost); the validated tokens stay loaded.
        """
        self.validate_tokens(unvalidated_creds)
        self.save_tokens(self.tokens)
        return self

    def validate_tokens(
        self: _F, unvalidated_creds: collections.abc.Mapping[str, typing.Any]
    ) -> _F:
        """Check a token response (or saved tokens) and load them into this flow.

        The access token may be a JWT (its claims become :attr:`access_token_body`) or opaque
        when the mapping says when it expires (``expires_at`` or ``expires_in``).

        Raises:
            NoTokensError: the mapping has no access token, a field has the wrong type, or
                the expiry cannot be told; log in again.
        """
        if not isinstance(unvalidated_creds, collections.abc.Mapping):
            raise NoTokensError("token data must be a JSON object; log in again")
        creds = UnvalidatedTokens.from_dict(unvalidated_creds)
        _check_fields(creds)
        at_body = _decode_jwt_claims(creds.access_token)
        now = dt.datetime.now(dt.timezone.utc)
        expires_at, issued_at = _tokens.token_times(unvalidated_creds, at_body, now)
        if expires_at is None:
            raise NoTokensError(
                "cannot tell when the access token expires (no expires_at, expires_in or JWT "
                "'exp'); log in again"
            )
        self._access_token_body = at_body if at_body is not None else {}
        self._id_token_body = _decode_jwt_claims(creds.id_token) if creds.id_token else None
        self._tokens = ValidTokens.from_unvalidated(
            creds=creds, body={"exp": expires_at, "iat": issued_at}
        )
        self.token_scope = self._tokens.scope
        return self

    def get_access_token_refresh_if_necessary(
        self, no_auto_refresh: bool = False, auto_refresh_threshold: int = 3600
    ) -> str:
        """Load the tokens and return the access token, refreshed first when it expires
        within ``auto_refresh_threshold`` seconds (unless ``no_auto_refresh``).

        Raises:
            NoTokensError: ``load_tokens`` found none (or no refresh token when one is needed).
            InvalidRefreshTokenError: the refresh token was refused; re-authenticate.
        """
        self.load_tokens()
        if not no_auto_refresh and self.ttl < dt.timedelta(seconds=auto_refresh_threshold):
            try:
                self.refresh()
            except InvalidRefreshTokenError as exc:
                raise _wrap(InvalidRefreshTokenError, _REAUTHENTICATE, exc) from exc
        return self.access_token


def _check_fields(creds: UnvalidatedTokens) -> None:
    if not isinstance(creds.access_token, str) or not creds.access_token:
        raise NoTokensError("the token data has no access_token; log in again")
    for name in ("id_token", "refresh_token", "scope"):
        if not isinstance(getattr(creds, name), (str, type(None))):
            raise NoTokensError(f"the token data's {name} is not a string; log in again")
