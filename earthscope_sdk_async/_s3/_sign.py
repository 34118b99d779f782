"""SigV4-sign httpx requests for S3 with botocore's signer (``S3SigV4Auth``; the ``s3`` extra).

Stable interface (shared with the dropoff uploads):

- :func:`sign_request` signs one ``httpx.Request`` in place with given credentials;
- :class:`S3Auth` is an ``httpx.Auth`` that signs every attempt afresh with credentials from
  a :class:`CredentialSource` (so a retry after a refresh carries the new keys), and
  replaces the client's bearer auth for that request (the EarthScope token never goes to S3).

Only the headers S3 needs are signed (host, ``x-amz-*``, ``range``, ``content-md5``,
``content-type``), so connection-level headers a proxy may rewrite cannot break a signature.
No cryptography is written here: botocore computes the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Generator
from types import SimpleNamespace
from typing import Any, Protocol, runtime_checkable

import httpx

from .._client._aws import AwsCredentials
from .._errors import ConfigError

__all__ = ["CredentialSource", "S3Auth", "UNSIGNED_PAYLOAD", "sign_request"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""The ``x-amz-content-sha256`` of a request whose body is not part of the signature."""

_SIGNED = ("host", "range", "content-md5", "content-type")
_OUTPUT = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


@runtime_checkable
class CredentialSource(Protocol):
    """Something that hands out current AWS credentials (refreshing them as needed)."""

    async def get(self) -> AwsCredentials:
        """Credentials valid for a while yet."""
        ...


def _botocore() -> Any:
    try:
        from botocore import auth, awsrequest, credentials
    except ImportError:  # pragma: no cover - the s3 extra is part of the test extra
        raise ConfigError(
            "S3 requests are signed with botocore: pip install 'earthscope-sdk-async[s3]'"
        ) from None
    return SimpleNamespace(auth=auth, awsrequest=awsrequest, credentials=credentials)


def _payload_hash(request: httpx.Request, sign_payload: bool) -> str:
    if not sign_payload:
        return UNSIGNED_PAYLOAD
    try:
        body = request.content
    except httpx.RequestNotRead:
        raise ConfigError(
            "cannot sign the payload of a streaming request body; use sign_payload=False"
        ) from None
    return hashlib.sha256(body).hexdigest()


def sign_request(
    request: httpx.Request,
    credentials: AwsCredentials,
    *,
    region: str,
    sign_payload: bool = False,
) -> httpx.Request:
    """Add SigV4 headers (``Authorization``, ``X-Amz-Date``, ``X-Amz-Security-Token``,
    ``X-Amz-Content-SHA256``) for S3 in ``region`` to ``request``; returns it.

    ``sign_payload=True`` puts the SHA-256 of the (already read) body into the signature;
    otherwise the body is sent as ``UNSIGNED-PAYLOAD`` (S3 accepts both; over HTTPS the body
    is protected by TLS). Any bearer ``Authorization`` header is replaced.

    Raises:
        ConfigError: botocore is not installed (the ``s3`` extra), or ``sign_payload`` for
            a streaming body.
    """
    bc = _botocore()
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() in _SIGNED or name.lower().startswith("x-amz-")
    }
    headers.pop("x-amz-security-token", None)
    headers["X-Amz-Content-SHA256"] = _payload_hash(request, sign_payload)
    aws = bc.awsrequest.AWSRequest(method=request.method, url=str(request.url), headers=headers)
    aws.context["client_config"] = SimpleNamespace(s3={"payload_signing_enabled": sign_payload})
    signer = bc.auth.S3SigV4Auth(
        bc.credentials.Credentials(
            credentials.aws_access_key_id,
            credentials.aws_secret_access_key,
            credentials.aws_session_token,
        ),
        "s3",
        region,
    )
    signer.add_auth(aws)
    for name in _OUTPUT:
        value = aws.headers.get(name)
        if value is not None:
            request.headers[name] = value
    return request


class S3Auth(httpx.Auth):
    """``httpx.Auth`` signing each request (each attempt) for S3 with fresh credentials.

    Pass it as ``auth=`` on the request: it replaces the client's EarthScope bearer auth.
    """

    def __init__(
        self, source: CredentialSource, *, region: str, sign_payload: bool = False
    ) -> None:
        self.source = source
        self.region = region
        self.sign_payload = sign_payload

    def __repr__(self) -> str:
        return f"S3Auth(region={self.region!r})"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        credentials = await self.source.get()
        yield sign_request(request, credentials, region=self.region, sign_payload=self.sign_payload)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise ConfigError("S3Auth needs an httpx.AsyncClient (credentials are fetched async)")
