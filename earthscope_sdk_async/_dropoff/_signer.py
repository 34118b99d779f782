"""The S3 request signer of uploads: SigV4 with the ``s3-dropoff`` temporary credentials.

Signing is the S3 package's (:func:`earthscope_sdk_async._s3._sign.sign_request`, botocore's
signer) and so are the self-refreshing credentials (:class:`S3Credentials`); this adapter
only joins them, so each attempt is signed with credentials that have time to spare.
"""

from __future__ import annotations

import httpx

from .._s3._credentials import S3Credentials
from .._s3._sign import sign_request
from ._s3api import Signer

__all__ = ["botocore_signer"]


class _CredentialsSigner:
    def __init__(self, credentials: S3Credentials, region: str) -> None:
        self._credentials = credentials
        self._region = region

    def __repr__(self) -> str:
        return f"Signer({self._credentials!r}, region={self._region!r})"

    async def sign(self, request: httpx.Request) -> None:
        sign_request(request, await self._credentials.get(), region=self._region)

    async def refresh(self) -> None:
        await self._credentials.refresh()


def botocore_signer(credentials: S3Credentials, region: str) -> Signer:
    """A :class:`Signer` over ``credentials`` for ``region``."""
    return _CredentialsSigner(credentials, region)
