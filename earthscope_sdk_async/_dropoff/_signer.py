"""The S3 request signer of uploads: SigV4 with the ``s3-dropoff`` temporary credentials.

Signing itself is the S3 package's (``earthscope_sdk_async._s3``); this adapter only feeds
it the dropoff credentials and refreshes them when S3 says they expired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._s3api import Signer
    from ._service import CredentialsSource

__all__ = ["botocore_signer"]


class _CredentialsSigner:
    def __init__(self, credentials: CredentialsSource, region: str) -> None:
        self._credentials = credentials
        self._region = region

    async def sign(self, request: httpx.Request) -> None:
        from .._s3._sign import sign_request

        credentials = await self._credentials(False)
        sign_request(request, credentials, region=self._region)

    async def refresh(self) -> None:
        await self._credentials(True)


def botocore_signer(credentials: CredentialsSource, region: str) -> Signer:
    """A :class:`Signer` over ``credentials`` for ``region``."""
    return _CredentialsSigner(credentials, region)
