"""Self-refreshing AWS credentials for S3 requests, over the user service's cache.

Stable interface (shared with the dropoff uploads): :class:`S3Credentials` ``(source,
request, refresh_margin=...)``; ``await get()`` returns credentials with more than
``refresh_margin`` seconds left, refreshing them through ``client.user.get_aws_credentials``
(one cache and one single-flight fill per role and parameters for the whole client, so a
thousand concurrent signatures cost one request when keys run out); ``await refresh()``
forces new ones (e.g. after S3 answered ``ExpiredToken``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import anyio

from .._aws import AwsCredentials, AwsCredentialsRequest

__all__ = ["AwsCredentialsSource", "S3Credentials"]

DEFAULT_REFRESH_MARGIN = 300.0
"""Seconds before expiry at which credentials are replaced (a long S3 transfer keeps going)."""


class AwsCredentialsSource(Protocol):
    """The part of the user service :class:`S3Credentials` needs (``client.user``)."""

    async def get_aws_credentials(
        self,
        /,
        *,
        role: str | AwsCredentialsRequest | None = None,
        force: bool = False,
        ttl_threshold: timedelta | float | None = None,
    ) -> AwsCredentials:
        """Credentials for ``role``, cached until ``ttl_threshold`` before they expire."""
        ...


class S3Credentials:
    """Credentials for one role and its parameters, always with time to spare.

    A :class:`~earthscope_sdk_async._s3._sign.CredentialSource` for :class:`S3Auth`.
    """

    def __init__(
        self,
        source: AwsCredentialsSource,
        request: AwsCredentialsRequest,
        *,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self.source = source
        self.request = request
        self.refresh_margin = refresh_margin
        self._refreshing = anyio.Lock()

    def __repr__(self) -> str:
        return f"S3Credentials(role={self.request.role!r}, params={dict(self.request.params)!r})"

    async def get(self) -> AwsCredentials:
        """Credentials with more than ``refresh_margin`` seconds left (cached, single flight)."""
        return await self.source.get_aws_credentials(
            role=self.request, ttl_threshold=self.refresh_margin
        )

    async def refresh(self, *, stale: AwsCredentials | None = None) -> AwsCredentials:
        """New credentials, whatever the cache holds; given the ``stale`` ones S3 refused,
        credentials another request already fetched in their place are used instead (a batch
        whose every request is refused at once refreshes once, not once per request)."""
        async with self._refreshing:  # one refresh at a time: the others then see its result
            if stale is not None:
                current = await self.get()
                if _keys(current) != _keys(stale):
                    return current
            return await self.source.get_aws_credentials(
                role=self.request, force=True, ttl_threshold=self.refresh_margin
            )


def _keys(credentials: AwsCredentials) -> tuple[str, str]:
    return credentials.aws_access_key_id, credentials.aws_session_token
