"""The refresh token grant (C33, C38, C39) with rotation kept safe (C23).

One request, never retried here (C39): a rotated refresh token the server committed but we
did not read would be lost, and reusing the old one revokes the whole token family. Single
flight, locking and storage (C34-C37) belong to the token manager.
"""

from __future__ import annotations

import logging

import httpx

from .._clock import Clock, SystemClock
from .._errors import LoginRequiredError
from .._settings import Settings
from .._tokens import Tokens, fingerprint
from ._http import REFRESH_TOKEN_GRANT, add_client_secret, post_form
from ._response import read_reply, to_error
from ._token_response import parse_tokens

__all__ = ["refresh_tokens"]

log = logging.getLogger(__name__)


async def refresh_tokens(
    http: httpx.AsyncClient,
    settings: Settings,
    tokens: Tokens,
    *,
    clock: Clock | None = None,
    scope: str | None = None,
) -> Tokens:
    """Exchange ``tokens.refresh_token`` for new tokens.

    ``scope`` is sent as ``scope`` (C33): by default the scope granted to ``tokens`` (never
    more than was granted, RFC 6749 §6), else ``settings.scope``.

    A response without ``refresh_token`` keeps the old one (C23). ``invalid_grant`` raises
    :class:`~earthscope_sdk_async.LoginRequiredError` (final, C38); network failures raise
    :class:`~earthscope_sdk_async.TransportError` and 5xx
    :class:`~earthscope_sdk_async.OAuthServerError`, both retryable and never "login required".
    """
    if not tokens.refresh_token:
        raise LoginRequiredError(
            "there is no refresh token to renew the access token with; log in again"
        )
    clock = clock if clock is not None else SystemClock()
    form = {
        "grant_type": REFRESH_TOKEN_GRANT,
        "refresh_token": tokens.refresh_token,
        "client_id": settings.client_id,
    }
    scope = scope or tokens.scope or settings.scope
    if scope:
        form["scope"] = scope  # C33: "scope", not "scopes"
    headers = add_client_secret(settings, form)
    what = f"token request ({REFRESH_TOKEN_GRANT})"
    log.debug("refreshing with refresh token <%s>", fingerprint(tokens.refresh_token))
    sent_at = clock.now()  # C21: the token's lifetime runs from (at the latest) now
    response = await post_form(http, settings, settings.token_url, form, what=what, headers=headers)
    received_at = clock.now()
    reply = read_reply(response, what=what)
    if not reply.is_success:
        raise to_error(reply, "refresh", now=received_at)
    fresh = parse_tokens(
        reply,
        settings,
        received_at=received_at,
        sent_at=sent_at,
        requested_scope=settings.scope or tokens.scope,
        drop_bad_id_token=True,  # C24 must not lose the rotated refresh token
    )
    log.debug(
        "refreshed: access <%s>, refresh token %s",
        fingerprint(fresh.access_token),
        "rotated" if fresh.refresh_token else "kept",
    )
    return fresh.rotated_from(tokens)
