"""Token revocation, RFC 7009 (C42-C44).

A form POST of ``client_id`` and ``token`` (plus the secret of a confidential client) to
``{domain}oauth/revoke``. Any 2xx is success, even with an empty body or for an unknown token
(C43). A 503 (or 429) means the token is still live: retry, honouring ``Retry-After``, a
bounded number of times (C44).
"""

from __future__ import annotations

import logging

import httpx

from .._clock import Clock, SystemClock
from .._settings import Settings
from .._tokens import fingerprint
from ._http import add_client_secret
from ._response import Reply
from ._token_post import check_attempts, post_with_retries

__all__ = ["revoke_token"]

log = logging.getLogger(__name__)


def _revoked(reply: Reply) -> bool:
    """Any 2xx body counts (C43), unless it is a JSON object with an OAuth ``error`` (C13)."""
    return 200 <= reply.status_code < 300 and not reply.error_code


async def revoke_token(
    http: httpx.AsyncClient,
    settings: Settings,
    token: str,
    *,
    token_type_hint: str | None = "refresh_token",
    clock: Clock | None = None,
    max_attempts: int = 3,
) -> None:
    """Revoke ``token`` (by default a refresh token) at the identity provider.

    Raises :class:`~earthscope_sdk_async.TransportError`,
    :class:`~earthscope_sdk_async.OAuthServerError` or
    :class:`~earthscope_sdk_async.RateLimitError` when the attempts run out, and the other
    :class:`~earthscope_sdk_async.OAuthError` types at once.
    """
    max_attempts = check_attempts(max_attempts)
    form = {"client_id": settings.client_id, "token": token}
    if token_type_hint:
        form["token_type_hint"] = token_type_hint
    headers = add_client_secret(settings, form)
    log.debug("revoking token <%s>", fingerprint(token))
    await post_with_retries(
        http,
        settings,
        settings.revoke_url,
        form,
        what="revocation request",
        context="revoke",
        clock=clock if clock is not None else SystemClock(),
        max_attempts=max_attempts,
        headers=headers,
        is_success=_revoked,
    )
    log.debug("token <%s> revoked", fingerprint(token))
