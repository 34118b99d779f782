"""The fake's AWS credentials service (``GET beta/user/credentials/aws/{role}``).

Roles it knows answer keys (random ones, or minted by a ``minter`` such as an S3 test
server's STS); any other role answers 403, like a role the user may not assume. Every
issue is recorded (role, parameters, access key id) for tests to inspect.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["AwsIssue", "AwsMinter", "AwsRoles", "DEFAULT_ROLES"]

DEFAULT_ROLES = frozenset({"s3-miniseed", "s3-miniseed-v2", "s3-dropoff"})

AwsMinter = Callable[[str, Mapping[str, str], float], Mapping[str, str]]
"""``minter(role, params, lifetime)`` -> ``aws_access_key_id``, ``aws_secret_access_key``,
``aws_session_token`` (and optionally ``expiration``, ISO 8601)."""


@dataclass(frozen=True)
class AwsIssue:
    """One set of credentials the fake handed out."""

    role: str
    params: dict[str, str]
    access_key_id: str
    expiration: datetime


class AwsRoles:
    """Which roles exist, how long their credentials last, and who mints the keys."""

    def __init__(self) -> None:
        self.roles: set[str] = set(DEFAULT_ROLES)
        """Role names that answer credentials; others answer 403."""
        self.lifetime: float = 3600.0
        """Seconds the issued credentials last (``expiration`` = now + lifetime)."""
        self.minter: AwsMinter | None = None
        """Mints real keys (e.g. for an S3 test server); ``None``: random keys."""
        self.clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        """The fake's idea of now, for ``expiration``."""
        self._issued: list[AwsIssue] = []
        self._lock = threading.Lock()

    @property
    def issued(self) -> list[AwsIssue]:
        """Every issue so far, oldest first (a copy)."""
        with self._lock:
            return list(self._issued)

    def issue(self, role: str, params: Mapping[str, str]) -> dict[str, str] | None:
        """The JSON body for ``role`` with ``params``, or ``None`` for an unknown role."""
        if role not in self.roles:
            return None
        expiration = self.clock() + timedelta(seconds=self.lifetime)
        if self.minter is not None:
            keys = dict(self.minter(role, dict(params), self.lifetime))
        else:
            keys = {
                "aws_access_key_id": "ASIA" + secrets.token_hex(8).upper(),
                "aws_secret_access_key": secrets.token_urlsafe(30),
                "aws_session_token": secrets.token_urlsafe(60),
            }
        body = {"expiration": expiration.isoformat(timespec="seconds"), **keys, "role": role}
        when = datetime.fromisoformat(body["expiration"].replace("Z", "+00:00"))
        with self._lock:
            self._issued.append(AwsIssue(role, dict(params), body["aws_access_key_id"], when))
        return body
