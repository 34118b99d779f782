"""Temporary AWS credentials issued by EarthScope (``beta/user/credentials/aws/{role}``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["AwsCredentials", "parse_aws_credentials"]


@dataclass(frozen=True)
class AwsCredentials:
    """Temporary AWS credentials for an EarthScope role (e.g. S3 access to miniSEED).

    ``expiration`` is an aware UTC datetime. The secret key and the session token never
    appear in ``repr``.
    """

    aws_access_key_id: str
    """The access key id (not secret on its own)."""
    aws_secret_access_key: str = field(repr=False)
    """The secret access key."""
    aws_session_token: str = field(repr=False)
    """The session token."""
    expiration: datetime
    """When the credentials stop working (aware, UTC)."""

    @property
    def ttl(self) -> timedelta:
        """Time left before :attr:`expiration` (negative once expired)."""
        return self.expiration - datetime.now(timezone.utc)

    @property
    def boto_metadata(self) -> dict[str, str]:
        """The mapping botocore's ``RefreshableCredentials.create_from_metadata`` expects
        (``access_key``, ``secret_key``, ``token``, ``expiry_time`` in ISO 8601), as in
        earthscope-sdk 1.x."""
        return {
            "access_key": self.aws_access_key_id,
            "secret_key": self.aws_secret_access_key,
            "token": self.aws_session_token,
            "expiry_time": self.expiration.isoformat(),
        }


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        got = "missing" if value is None else f"a {type(value).__name__}"
        raise ValueError(f"field {name!r} must be a non-empty string ({got})")
    return value


def _expiration(data: dict[str, Any]) -> datetime:
    value = data.get("expiration")
    if not isinstance(value, str) or not value:
        got = "missing" if value is None else f"a {type(value).__name__}"
        raise ValueError(f"field 'expiration' must be an ISO 8601 date-time string ({got})")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("field 'expiration' is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def parse_aws_credentials(data: object) -> AwsCredentials:
    """Build :class:`AwsCredentials` from the API's JSON; ``ValueError`` names the bad field
    (never its value: it may be a secret)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return AwsCredentials(
        aws_access_key_id=_string(data, "aws_access_key_id"),
        aws_secret_access_key=_string(data, "aws_secret_access_key"),
        aws_session_token=_string(data, "aws_session_token"),
        expiration=_expiration(data),
    )
