"""The client credentials grant for machine-to-machine clients (C27-C32).

Sends ``grant_type=client_credentials`` and ``audience`` (C27), authenticates with the secret
in the body or as HTTP Basic, never both (C28, C29), expects no refresh token (C30), retries
network trouble, 5xx and 429 a bounded number of times, and never retries a final error (C32).
Caching the machine token until near expiry (C31) is the token manager's job.
"""

from __future__ import annotations

import logging

import httpx

from .._clock import Clock, SystemClock
from .._errors import ConfigError
from .._settings import Settings
from .._tokens import Tokens, fingerprint
from ._http import CLIENT_CREDENTIALS_GRANT, add_client_secret
from ._token_post import check_attempts, post_with_retries
from ._token_response import parse_tokens

__all__ = ["ClientCredentialsFlow"]

log = logging.getLogger(__name__)


class ClientCredentialsFlow:
    """Get an access token for a machine-to-machine client (``settings.client_secret`` set).

    ``max_attempts`` bounds the tries on transport errors, 5xx and 429 (``Retry-After`` is
    honoured). A bad secret or a grant the client may not use raises
    :class:`~earthscope_sdk_async.InvalidClientError` at once (C32).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        clock: Clock | None = None,
        max_attempts: int = 3,
    ) -> None:
        self._http = http
        self._settings = settings
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._max_attempts = check_attempts(max_attempts)

    async def login(self) -> Tokens:
        """Run the grant once (with bounded retries) and return the tokens."""
        settings = self._settings
        if settings.client_secret is None:
            raise ConfigError(
                "the client credentials flow needs a client secret; set client_secret "
                "(ES_OAUTH2__CLIENT_SECRET) or log in with the device flow"
            )
        form = {
            "grant_type": CLIENT_CREDENTIALS_GRANT,
            "audience": settings.audience,
        }
        headers = add_client_secret(settings, form)
        sent_at = self._clock.now()  # C21: expiry counts from the request (conservative)
        reply = await post_with_retries(
            self._http,
            settings,
            settings.token_url,
            form,
            what=f"token request ({CLIENT_CREDENTIALS_GRANT}, {settings.client_auth_method})",
            context="client_credentials",
            clock=self._clock,
            max_attempts=self._max_attempts,
            headers=headers,
        )
        tokens = parse_tokens(
            reply, settings, received_at=self._clock.now(), sent_at=sent_at, requested_scope=None
        )
        log.debug("machine token <%s> issued", fingerprint(tokens.access_token))
        return tokens
