"""Turn a successful token response into :class:`Tokens`, checking every field (C20-C24).

Errors name the field that was wrong, never its value.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from .._checks import is_number
from .._errors import InvalidResponseError
from .._settings import Settings
from .._tokens import Tokens, decode_jwt_claims
from ._response import Reply

__all__ = ["optional_string", "parse_tokens", "required_string", "seconds_field"]

log = logging.getLogger(__name__)

CLOCK_SKEW = 60.0
"""Seconds an id_token may be past its ``exp`` before it is rejected (C24)."""


def seconds_field(reply: Reply, name: str, *, required: bool) -> float | None:
    """A non-negative finite number of seconds (a numeric string is accepted)."""
    value = reply.body.get(name) if reply.body else None
    if value is None:
        if required:
            raise reply.invalid(f"has no '{name}'")
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise reply.invalid(f"has a non-numeric '{name}'") from None
    if not is_number(value):
        raise reply.invalid(f"has a non-numeric '{name}'")
    if not math.isfinite(value) or value < 0:
        raise reply.invalid(f"has an out-of-range '{name}'")
    return float(value)


def optional_string(reply: Reply, name: str) -> str | None:
    """A string field; ``None`` when absent or JSON null."""
    value = reply.body.get(name) if reply.body else None
    if value is not None and not isinstance(value, str):
        raise reply.invalid(f"has a non-string '{name}'")
    return value


def required_string(reply: Reply, name: str) -> str:
    """A non-empty string field."""
    value = optional_string(reply, name)
    if not value:
        raise reply.invalid(f"has no '{name}'" if value is None else f"has an empty '{name}'")
    return value


def _check_audience(reply: Reply, aud: Any, client_id: str) -> None:
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise reply.invalid("has an id_token whose 'aud' does not contain this client id")


def _check_id_token(reply: Reply, id_token: str, settings: Settings, now: datetime) -> None:
    """C24: an id_token that decodes as a JWT must be for this issuer, client, and unexpired."""
    claims = decode_jwt_claims(id_token)
    if claims is None:
        return
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss.rstrip("/") != settings.issuer.rstrip("/"):
        raise reply.invalid(
            f"has an id_token whose 'iss' is not the configured issuer {settings.issuer}"
        )
    _check_audience(reply, claims.get("aud"), settings.client_id)
    exp = claims.get("exp")
    if not is_number(exp) or not math.isfinite(exp):
        raise reply.invalid("has an id_token without a numeric 'exp'")
    if exp < now.timestamp() - CLOCK_SKEW:
        raise reply.invalid(
            f"has an id_token that is already expired ('exp' more than {CLOCK_SKEW:g} s ago)"
        )


def _checked_id_token(
    reply: Reply, id_token: str, settings: Settings, now: datetime, *, drop_bad: bool
) -> str | None:
    """``id_token`` if it passes C24; with ``drop_bad``, ``None`` (and a warning) if not."""
    try:
        _check_id_token(reply, id_token, settings, now)
    except InvalidResponseError as exc:
        if not drop_bad:
            raise
        log.warning("ignoring the id_token of a %s: %s", reply.what, exc)
        return None
    return id_token


def parse_tokens(
    reply: Reply,
    settings: Settings,
    *,
    received_at: datetime,
    requested_scope: str | None,
    drop_bad_id_token: bool = False,
    sent_at: datetime | None = None,
) -> Tokens:
    """Validate a successful token ``reply`` and build :class:`Tokens`.

    ``expires_at`` is ``sent_at + expires_in`` (C21): counted from when the request was
    sent (``received_at`` when not given), because the server started the token's lifetime
    before its answer arrived, and a slow or CPU-starved client may read that answer late;
    counting from receipt would hand out a token with less life than the leeway promises.
    A missing ``scope`` means
    ``requested_scope`` (C22). Unknown fields are ignored (C20). An id_token failing C24
    raises, unless ``drop_bad_id_token`` (refresh: the server already rotated the refresh
    token), where it is logged and left out instead.
    """
    access_token = required_string(reply, "access_token")
    if required_string(reply, "token_type").lower() != "bearer":
        raise reply.invalid("has a 'token_type' that is not Bearer")
    expires_in = seconds_field(reply, "expires_in", required=False)
    scope = optional_string(reply, "scope")
    refresh_token = optional_string(reply, "refresh_token") or None
    id_token = optional_string(reply, "id_token") or None
    if id_token is not None:
        id_token = _checked_id_token(
            reply, id_token, settings, received_at, drop_bad=drop_bad_id_token
        )
    expires_at = None
    if expires_in is not None:
        try:
            expires_at = (sent_at or received_at) + timedelta(seconds=expires_in)
        except OverflowError:
            raise reply.invalid("has an out-of-range 'expires_in'") from None
    return Tokens(
        access_token=access_token,
        refresh_token=refresh_token,
        id_token=id_token,
        token_type="Bearer",
        scope=scope if scope is not None else requested_scope,
        expires_at=expires_at,
    )
