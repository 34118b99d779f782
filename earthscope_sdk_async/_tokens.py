"""Tokens: the immutable value every flow returns and every store keeps.

The JSON form is the ``tokens.json`` format of earthscope-sdk 1.x (``access_token``,
``id_token``, ``refresh_token``) plus optional extra fields that 1.x ignores
(``expires_at`` in epoch seconds, ``token_type``, ``scope``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ._checks import is_number

__all__ = ["Tokens", "decode_jwt_claims", "fingerprint", "refresh_leeway"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fingerprint(secret: str | None) -> str:
    """A short, non-reversible tag for a secret, safe to log (first 8 hex of its SHA-256)."""
    if not secret:
        return "none"
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def decode_jwt_claims(token: str | None) -> dict[str, Any] | None:
    """Decode a JWT's payload *without verifying it*; ``None`` for opaque or malformed tokens.

    Segments are base64url with padding restored (C63); opaque tokens are accepted (C62).
    """
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def _claim_time(claims: Mapping[str, Any] | None, name: str) -> datetime | None:
    value = claims.get(name) if claims else None
    if not is_number(value):
        return None
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _epoch(data: Mapping[str, Any], name: str) -> datetime | None:
    """``data[name]`` (epoch seconds) as an aware UTC datetime; ``None`` when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not is_number(value):
        raise ValueError(f"{name} must be a number of epoch seconds")
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{name} is out of range") from None


def refresh_leeway(tokens: Tokens, configured: float, lifetime: float | None = None) -> float:
    """How many seconds before expiry ``tokens`` count as no longer fresh: the single rule
    shared by the token manager and the CLI's ``token`` fast path.

    ``configured`` (``settings.refresh_leeway``, C40, C60), but at most half the token's
    lifetime, so that short-lived tokens (e.g. 60 s) are not refreshed on every use. The
    lifetime is given for tokens just received, else read from the JWT's ``iat``/``exp``;
    an unknown lifetime keeps the configured leeway.
    """
    if lifetime is None:
        issued, expires = tokens.issued_at, tokens.effective_expires_at
        if issued is not None and expires is not None:
            lifetime = (expires - issued).total_seconds()
    if lifetime is not None and lifetime > 0:
        return min(configured, lifetime / 2)
    return configured


def _aware_utc(value: datetime | None, name: str = "expires_at") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (use datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class Tokens:
    """An access token and what came with it. Immutable; ``repr`` never shows secrets.

    Only ``access_token`` is required. ``expires_at`` is an aware UTC datetime; when it is
    ``None`` the access token's JWT ``exp`` claim is used, if it has one (C21, C62).
    """

    access_token: str = field(repr=False)
    """The bearer token sent to the API."""
    refresh_token: str | None = field(default=None, repr=False)
    """The refresh token, when the grant issued one (``offline_access``)."""
    id_token: str | None = field(default=None, repr=False)
    """The OIDC id token, when ``openid`` was requested."""
    token_type: str = "Bearer"
    """The token type; always ``Bearer`` for EarthScope."""
    scope: str | None = None
    """The granted scope, space separated, when known."""
    expires_at: datetime | None = None
    """When the access token expires (aware, UTC), when known."""
    refresh_rejected_at: datetime | None = None
    """When the identity provider rejected ``refresh_token`` (``invalid_grant``: revoked or
    expired); ``None`` while it is not known to be dead. Recorded by the token manager so that
    every later command (``status`` included) knows the session is over."""

    def __post_init__(self) -> None:
        if not isinstance(self.access_token, str) or not self.access_token:
            raise ValueError("access_token must be a non-empty string")
        for name in ("refresh_token", "id_token", "scope"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None")
        object.__setattr__(self, "expires_at", _aware_utc(self.expires_at))
        object.__setattr__(
            self, "refresh_rejected_at", _aware_utc(self.refresh_rejected_at, "refresh_rejected_at")
        )

    def __repr__(self) -> str:
        refresh = f"<{fingerprint(self.refresh_token)}>" if self.refresh_token else None
        return (
            f"Tokens(access_token=<{fingerprint(self.access_token)}>, "
            f"refresh_token={refresh}, "
            f"id_token={'<set>' if self.id_token else None}, scope={self.scope!r}, "
            f"expires_at={self.expires_at.isoformat() if self.expires_at else None})"
        )

    __str__ = __repr__

    # -- claims (unverified) -------------------------------------------------------------

    @property
    def access_claims(self) -> dict[str, Any] | None:
        """The access token's JWT claims, unverified; ``None`` for an opaque token."""
        return decode_jwt_claims(self.access_token)

    @property
    def id_claims(self) -> dict[str, Any] | None:
        """The id token's claims, unverified; ``None`` when there is no (decodable) id token."""
        return decode_jwt_claims(self.id_token)

    @property
    def subject(self) -> str | None:
        """The ``sub`` claim of the id token or, failing that, of the access token."""
        for claims in (self.id_claims, self.access_claims):
            if claims and isinstance(claims.get("sub"), str):
                return str(claims["sub"])
        return None

    @property
    def issued_at(self) -> datetime | None:
        """The access token's ``iat`` claim, when it is a JWT that has one."""
        return _claim_time(self.access_claims, "iat")

    @property
    def effective_expires_at(self) -> datetime | None:
        """``expires_at`` when set (trusted as is), else the access token's JWT ``exp``."""
        if self.expires_at is not None:
            return self.expires_at
        return _claim_time(self.access_claims, "exp")

    def ttl(self, *, now: datetime | None = None) -> timedelta | None:
        """Time left before the access token expires; ``None`` when unknown."""
        expires = self.effective_expires_at
        return None if expires is None else expires - (now or _utcnow())

    def is_expired(self, leeway: float = 0.0, *, now: datetime | None = None) -> bool:
        """True when the token expires within ``leeway`` seconds (C60). Unknown expiry is
        never expired: such a token is used until the API answers 401.
        """
        ttl = self.ttl(now=now)
        return ttl is not None and ttl.total_seconds() <= leeway

    # -- evolution -----------------------------------------------------------------------

    def replace(self, **changes: Any) -> Tokens:
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def rotated_from(self, previous: Tokens | None) -> Tokens:
        """These tokens, keeping ``previous``'s refresh (and id) token where this response
        omitted them (C23: a refresh response without ``refresh_token`` keeps the old one).
        """
        if previous is None:
            return self
        changes: dict[str, Any] = {}
        if self.refresh_token is None and previous.refresh_token is not None:
            changes["refresh_token"] = previous.refresh_token
        if self.id_token is None and previous.id_token is not None:
            changes["id_token"] = previous.id_token
        return self.replace(**changes) if changes else self

    # -- JSON (tokens.json of earthscope-sdk 1.x) ----------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``tokens.json`` mapping: 1.x's fields (nulls omitted) plus our extras."""
        data: dict[str, Any] = {"access_token": self.access_token}
        if self.id_token is not None:
            data["id_token"] = self.id_token
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
        data["token_type"] = self.token_type
        if self.scope is not None:
            data["scope"] = self.scope
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.timestamp()
        if self.refresh_rejected_at is not None:
            data["refresh_rejected_at"] = self.refresh_rejected_at.timestamp()
        return data

    def to_json(self) -> str:
        """Serialise to the ``tokens.json`` format (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokens:
        """Build from a ``tokens.json`` mapping; unknown fields are ignored.

        Raises ``ValueError`` (or ``TypeError``) naming the bad field; stores translate
        that into :class:`~earthscope_sdk_async.TokenStoreError`.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"token data must be a JSON object, got {type(data).__name__}")
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("token data has no access_token string")
        token_type = data.get("token_type") or "Bearer"
        if not isinstance(token_type, str):
            raise ValueError("token_type must be a string")
        return cls(
            access_token=access,
            refresh_token=data.get("refresh_token"),
            id_token=data.get("id_token"),
            token_type=token_type,
            scope=data.get("scope"),
            expires_at=_epoch(data, "expires_at"),
            refresh_rejected_at=_epoch(data, "refresh_rejected_at"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Tokens:
        """Parse the ``tokens.json`` format; raises ``ValueError`` when it is not valid
        (including JSON nested too deeply to parse)."""
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("it is JSON nested too deeply to be a token file") from None
        return cls.from_dict(data)
