"""Temporary AWS credentials issued by EarthScope (``beta/user/credentials/aws/{role}``).

:class:`AwsCredentialsRequest` names what to ask for (a role and its parameters, normalised
so that ``year=2024`` and ``year="2024"`` are one request and one cache entry, unlike
earthscope-sdk 1.9.3); :class:`AwsCredentials` is the answer. Secrets are plain strings on
the object (every consumer, boto3, s3fs or our own signer, gets the real value) but never
appear in its ``repr``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urljoin

from ._errors import ConfigError

__all__ = [
    "AwsCredentials",
    "AwsCredentialsRequest",
    "AwsTemporaryCredentials",
    "parse_aws_credentials",
    "resolve_request",
    "threshold_seconds",
]

LEGACY_ROLE = "s3-miniseed"
"""The role used when none is given (deprecated; the service plans to remove it in 2027)."""
CURRENT_ROLE = "s3-miniseed-v2"
"""The replacement for :data:`LEGACY_ROLE` (optional ``network`` and ``year`` parameters)."""


def _check_role(role: object) -> str:
    if not isinstance(role, str) or not role.strip() or "/" in role:
        raise ConfigError(
            f"role must be a non-empty role name without '/', got {role!r} "
            f"(for example {CURRENT_ROLE!r})"
        )
    return role


def _normalise(params: Mapping[str, object]) -> dict[str, str]:
    """Parameter values as the text sent on the wire (``2024`` -> ``"2024"``), keys sorted."""
    if not isinstance(params, Mapping):
        raise ConfigError(f"params must be a mapping of names to values, got {params!r}")
    out: dict[str, str] = {}
    for key in sorted(params, key=str):
        value = params[key]
        if not isinstance(key, str) or not key:
            raise ConfigError(f"parameter names must be non-empty strings, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ConfigError(
                f"parameter {key!r} must be a string or an integer, got "
                f"{type(value).__name__} (for example year=2024 or network='IU')"
            )
        out[key] = str(value)
    return out


@dataclass(frozen=True, init=False)
class AwsCredentialsRequest:
    """What to ask EarthScope for: a ``role`` and its query ``params`` (as in 1.9.3).

    ``params`` values may be strings or integers; they are normalised to text, so
    ``AwsCredentialsRequest("r", {"year": 2024})`` equals ``AwsCredentialsRequest("r",
    {"year": "2024"})`` and shares its cache entry.
    """

    role: str
    """The role name, e.g. ``s3-miniseed-v2``."""
    params: Mapping[str, str] = field(hash=False)
    """The normalised parameters (names sorted, values as text)."""

    def __init__(self, role: str, params: Mapping[str, str | int] | None = None) -> None:
        object.__setattr__(self, "role", _check_role(role))
        object.__setattr__(self, "params", _normalise(params or {}))

    def __hash__(self) -> int:
        return hash(self.cache_key())

    def cache_key(self) -> str:
        """``role``, or ``role.<12 hex digits>`` of the canonical JSON of the parameters."""
        if not self.params:
            return self.role
        canonical = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        return f"{self.role}.{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"

    def build_path(self) -> str:
        """The request path relative to the API URL."""
        return "beta/user/credentials/aws/" + quote(self.role, safe="")

    def build_url(self, api_url: str) -> str:
        """The request URL under ``api_url`` (without the query string)."""
        return urljoin(api_url if api_url.endswith("/") else api_url + "/", self.build_path())

    def build_params(self) -> dict[str, str]:
        """The query parameters to send (a copy)."""
        return dict(self.params)


def as_request(role: object, params: Mapping[str, object]) -> AwsCredentialsRequest:
    """``role`` (a name or an :class:`AwsCredentialsRequest`) with ``params`` as a request.

    Raises:
        ConfigError: a bad role or parameter, or parameters given besides a request object.
    """
    if isinstance(role, AwsCredentialsRequest):
        if params:
            raise ConfigError(
                "pass the parameters either inside the AwsCredentialsRequest or as keyword "
                f"arguments, not both (got {sorted(params)} besides the request)"
            )
        return role
    return AwsCredentialsRequest(_check_role(role), params)  # type: ignore[arg-type]


def resolve_request(
    role: object, params: Mapping[str, object], *, stacklevel: int
) -> AwsCredentialsRequest:
    """Like :func:`as_request`, but ``role=None`` means the legacy role, with a
    ``DeprecationWarning`` pointing ``stacklevel`` frames up (1: the caller of this)."""
    if role is None:
        warnings.warn(
            f"no AWS role given: using the legacy role {LEGACY_ROLE!r}, which EarthScope "
            f"plans to remove in 2027; pass role={CURRENT_ROLE!r} (with optional network= "
            "and year=) instead",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        role = LEGACY_ROLE
    return as_request(role, params)


def threshold_seconds(value: timedelta | float | None, default: float) -> float:
    """``ttl_threshold`` as seconds (``None``: ``default``)."""
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"ttl_threshold must be a timedelta or seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class AwsCredentials:
    """Temporary AWS credentials for an EarthScope role (e.g. S3 access to miniSEED).

    The fields are plain strings; the secret key and the session token never appear in
    ``repr``. ``expiration`` is an aware UTC datetime. Also exported as
    ``AwsTemporaryCredentials`` (earthscope-sdk 1.9.3's name).
    """

    aws_access_key_id: str
    """The access key id (not secret on its own)."""
    aws_secret_access_key: str = field(repr=False)
    """The secret access key."""
    aws_session_token: str = field(repr=False)
    """The session token."""
    expiration: datetime
    """When the credentials stop working (aware, UTC)."""

    def ttl_at(self, now: datetime) -> timedelta:
        """Time left before :attr:`expiration` at ``now`` (aware)."""
        return self.expiration - now

    @property
    def ttl(self) -> timedelta:
        """Time left before :attr:`expiration` (negative once expired)."""
        return self.ttl_at(datetime.now(timezone.utc))

    def is_expired(
        self, ttl_threshold: timedelta | float | None = None, *, now: datetime | None = None
    ) -> bool:
        """True when at most ``ttl_threshold`` (default 0; a timedelta or seconds) is left.

        ``now`` defaults to the current UTC time.
        """
        left = self.ttl_at(now if now is not None else datetime.now(timezone.utc))
        return left.total_seconds() <= threshold_seconds(ttl_threshold, 0.0)

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


AwsTemporaryCredentials = AwsCredentials
"""earthscope-sdk 1.9.3's name for :class:`AwsCredentials`."""


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
