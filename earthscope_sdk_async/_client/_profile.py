"""The signed-in user's EarthScope profile (``GET beta/user/profile``) as a typed value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

__all__ = ["UserProfile", "parse_user_profile"]

_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "country_code",
    "institution",
    "work_sector",
    "user_id",
    "primary_email",
)


@dataclass(frozen=True)
class UserProfile:
    """The user's EarthScope profile, with earthscope-sdk 1.9.3's ``UserProfile`` fields.

    Every field is required in the API's answer (``region_code`` may be ``null``); fields the
    API adds later are kept, untyped, in :attr:`raw` (the whole answer, read-only).
    """

    first_name: str
    """Given name."""
    last_name: str
    """Family name."""
    country_code: str
    """ISO 3166 country code, e.g. ``US``."""
    region_code: str | None
    """Region (state, province) code, when the user gave one."""
    institution: str
    """The user's institution."""
    work_sector: str
    """Work sector, e.g. ``academic``."""
    user_id: str
    """The EarthScope user id (the token's ``sub``)."""
    primary_email: str
    """The user's primary e-mail address."""
    created_at: datetime
    """When the profile was created (aware; UTC when the API sent no offset)."""
    updated_at: datetime
    """When the profile was last changed (aware; UTC when the API sent no offset)."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The API's whole answer, read-only: every field, including ones newer than this model."""


def _text(data: Mapping[str, Any], name: str, *, nullable: bool = False) -> Any:
    if name not in data:
        raise ValueError(f"field {name!r} is missing")
    value = data[name]
    if isinstance(value, str) or (nullable and value is None):
        return value
    kind = "a string or null" if nullable else "a string"
    raise ValueError(f"field {name!r} must be {kind}, got {type(value).__name__}")


def _when(data: Mapping[str, Any], name: str) -> datetime:
    value = _text(data, name)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"field {name!r} is not an ISO 8601 date-time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def parse_user_profile(data: object) -> UserProfile:
    """Build a :class:`UserProfile` from the API's JSON; ``ValueError`` names the bad field."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    texts = {name: _text(data, name) for name in _TEXT_FIELDS}
    return UserProfile(
        **texts,
        region_code=_text(data, "region_code", nullable=True),
        created_at=_when(data, "created_at"),
        updated_at=_when(data, "updated_at"),
        raw=MappingProxyType(dict(data)),
    )
