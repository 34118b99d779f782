"""``earthscope_sdk.auth.client_credentials_flow`` of 0.2.1: machine-to-machine logins.

Subclass :class:`ClientCredentialsFlow` (implement ``load_tokens`` and ``save_tokens``) or use
:class:`ClientCredentialsFlowSimple`. The grant runs on the async engine (timeouts, bounded
retries of network failures, 5xx and 429). Errors: :class:`UnauthorizedError` for a refused
secret (HTTP 401 ``access_denied``), :class:`ClientCredentialsFlowError` for anything else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import pathlib
import typing

from ... import _errors as _es
from ..._settings import Settings as _Settings
from .. import _engine
from .._errors import wrap as _wrap
from . import _token_file
from .auth_flow import AuthFlow as AuthFlow  # 0.2.1's module namespace had these five
from .auth_flow import AuthFlowError as AuthFlowError
from .auth_flow import NoTokensError as NoTokensError
from .auth_flow import UnauthorizedError as UnauthorizedError
from .auth_flow import ValidTokens as ValidTokens

__all__ = [
    "AuthFlow",
    "AuthFlowError",
    "ClientCredentials",
    "ClientCredentialsFlow",
    "ClientCredentialsFlowError",
    "ClientCredentialsFlowSimple",
    "GetTokensErrorResponse",
    "NoTokensError",
    "UnauthorizedError",
    "ValidTokens",
]

_log = logging.getLogger(__name__)

_F = typing.TypeVar("_F", bound="ClientCredentialsFlow")

_RENEW_LEEWAY = dt.timedelta(seconds=60)
"""A cached machine token is renewed when it expires within this time (C40, C60)."""


class ClientCredentialsFlowError(AuthFlowError):
    """The client credentials grant failed (the cause says why)."""


@dataclasses.dataclass
class ClientCredentials:
    """A machine-to-machine client's id and secret (the secret is left out of ``repr``)."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)


@dataclasses.dataclass
class GetTokensErrorResponse:
    """An error answer of the token endpoint, as 0.2.1 described it."""

    error: str
    error_description: str


def _grant_error(exc: _es.EarthScopeError) -> AuthFlowError:
    if isinstance(exc, _es.OAuthError) and exc.status_code == 401 and exc.error == "access_denied":
        return _wrap(UnauthorizedError, str(exc), exc)
    return _wrap(ClientCredentialsFlowError, str(exc), exc)


class ClientCredentialsFlow(AuthFlow):
    """The client credentials flow (abstract: implement ``load_tokens``/``save_tokens``)."""

    def __init__(self, domain: str, audience: str, client_credentials: ClientCredentials) -> None:
        if not client_credentials or not client_credentials.client_secret:
            raise _es.ConfigError(
                "Client secret missing: pass ClientCredentials(client_id, secret)"
            )
        super().__init__(
            domain=domain,
            audience=audience,
            client_id=client_credentials.client_id,
            scope="",
        )
        self._secret = client_credentials.client_secret

    def _settings(self, scope: str | None = None) -> _Settings:
        return _engine.settings_for(
            self.auth0_domain,
            self.auth0_audience,
            self.auth0_client_id,
            "",
            client_secret=getattr(self, "_secret", None),
        )

    def get_token_or_request_if_expired(self) -> str:
        """The saved access token; a new one when none is saved or it expires within 60 s."""
        try:
            self.load_tokens()
            if self.ttl <= _RENEW_LEEWAY:
                self.request_tokens()
        except NoTokensError:
            self.request_tokens()
        return self.access_token

    def request_tokens(self: _F) -> _F:
        """Run the grant; the tokens are validated and saved. Returns ``self``.

        Raises:
            UnauthorizedError: the secret was refused (HTTP 401 ``access_denied``).
            ClientCredentialsFlowError: any other failure (``__cause__`` has the details).
        """
        try:
            tokens = _engine.run(_engine.client_credentials, self._settings(), self._clock)
        except _es.EarthScopeError as exc:
            raise _grant_error(exc) from exc
        _log.debug("got a machine token")
        self.validate_and_save_tokens(tokens.to_dict())
        return self


class ClientCredentialsFlowSimple(ClientCredentialsFlow):
    """A client credentials flow keeping its token in the file ``path`` (atomic, 0600)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        path: str | os.PathLike[str],
        domain: str = "login.earthscope.org",
        audience: str = "https://account.earthscope.org",
    ) -> None:
        super().__init__(
            domain=domain,
            audience=audience,
            client_credentials=ClientCredentials(client_id=client_id, client_secret=client_secret),
        )
        self.path = pathlib.Path(path)

    def load_tokens(self) -> ValidTokens:
        """Load and validate the token in :attr:`path` (``NoTokensError`` when none)."""
        self.validate_tokens(_token_file.read_token_file(self.path))
        return self.tokens

    def save_tokens(self, creds: ValidTokens) -> None:
        """Write ``creds`` to :attr:`path` (atomic, 0600)."""
        _token_file.write_token_file(self.path, creds)
