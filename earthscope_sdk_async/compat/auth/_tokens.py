"""0.2.1's token dataclasses, and conversions to and from the engine's :class:`Tokens`.

The shapes are those of 0.2.1 (``vars(ValidTokens)`` is what ``sso_tokens.json`` holds), but
``repr`` never shows a token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from ..._checks import is_number
from ..._tokens import Tokens

__all__ = ["TokensResponse", "UnvalidatedTokens", "ValidTokens", "engine_tokens", "token_times"]


@dataclasses.dataclass
class TokensResponse:
    """A token endpoint response, as 0.2.1 described it."""

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(repr=False)
    id_token: str | None = dataclasses.field(repr=False)
    token_type: str
    expires_in: int
    scope: str | None


@dataclasses.dataclass
class UnvalidatedTokens:
    """Tokens read from a response or a file, before :meth:`AuthFlow.validate_tokens`."""

    access_token: str = dataclasses.field(repr=False)
    id_token: str | None = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(repr=False)
    scope: str | None

    @classmethod
    def from_dict(cls, o: Mapping[str, Any]) -> UnvalidatedTokens:
        """Pick the token fields out of a response or ``sso_tokens.json`` mapping."""
        return cls(
            access_token=o.get("access_token"),  # type: ignore[arg-type]
            id_token=o.get("id_token"),
            refresh_token=o.get("refresh_token"),
            scope=o.get("scope"),
        )


@dataclasses.dataclass
class ValidTokens(UnvalidatedTokens):
    """Validated tokens with ``expires_at``/``issued_at`` in epoch seconds (what is saved)."""

    expires_at: int
    issued_at: int

    @classmethod
    def from_unvalidated(cls, creds: UnvalidatedTokens, body: Mapping[str, Any]) -> ValidTokens:
        """``creds`` with the ``exp``/``iat`` of ``body`` (the access token's claims)."""
        return cls(
            access_token=creds.access_token,
            id_token=creds.id_token,
            refresh_token=creds.refresh_token,
            scope=creds.scope,
            expires_at=body.get("exp"),  # type: ignore[arg-type]
            issued_at=body.get("iat"),  # type: ignore[arg-type]
        )


def _epoch(value: object) -> int | None:
    if not is_number(value):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def token_times(
    data: Mapping[str, Any], claims: Mapping[str, Any] | None, now: dt.datetime
) -> tuple[int | None, int]:
    """``(expires_at, issued_at)`` in epoch seconds.

    Expiry: a saved ``expires_at``, else ``now + expires_in`` (C21, C62: relative, so proof
    against a skewed server clock), else the JWT ``exp``; ``None`` when none is known. Issue
    time: a saved ``issued_at``, else the JWT ``iat``, else ``now``.
    """
    claims = claims or {}
    expires_at = _epoch(data.get("expires_at"))
    expires_in = _epoch(data.get("expires_in"))
    if expires_at is None and expires_in is not None:
        expires_at = int(now.timestamp()) + expires_in
    if expires_at is None:
        expires_at = _epoch(claims.get("exp"))
    issued_at = _epoch(data.get("issued_at"))
    if issued_at is None:
        issued_at = _epoch(claims.get("iat"))
    return expires_at, issued_at if issued_at is not None else int(now.timestamp())


def engine_tokens(tokens: ValidTokens) -> Tokens:
    """The engine's :class:`Tokens` for ``tokens`` (to refresh them)."""
    return Tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or None,
        id_token=tokens.id_token or None,
        scope=tokens.scope,
        expires_at=dt.datetime.fromtimestamp(tokens.expires_at, dt.timezone.utc),
    )
