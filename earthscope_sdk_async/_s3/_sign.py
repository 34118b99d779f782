"""SigV4-sign httpx requests for S3 with botocore's signer (``S3SigV4Auth``; the ``s3`` extra).

Stable interface (shared with the dropoff uploads):

- :func:`sign_request` signs one ``httpx.Request`` in place with given credentials;
- :class:`S3Auth` is an ``httpx.Auth`` that signs every attempt afresh with credentials from
  a :class:`CredentialSource` (so a retry after a refresh carries the new keys), and
  replaces the client's bearer auth for that request (the EarthScope token never goes to S3).
  When S3 refuses the credentials (:func:`credentials_refused`: expired, or rotated under
  us) and the source is :class:`Refreshable`, it refreshes them and sends the request once
  more (at most once per request).

Only the headers S3 needs are signed (host, ``x-amz-*``, ``range``, ``content-md5``,
``content-type``), so connection-level headers a proxy may rewrite cannot break a signature.
No cryptography is written here: botocore computes the signature.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import AsyncGenerator, Generator
from types import SimpleNamespace
from typing import Any, Protocol, runtime_checkable

import httpx

from .._aws import AwsCredentials
from .._errors import ConfigError
from ._errors import credentials_refused
from ._xml import parse_error

logger = logging.getLogger(__name__)

__all__ = ["CredentialSource", "Refreshable", "S3Auth", "UNSIGNED_PAYLOAD", "sign_request"]

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


@runtime_checkable
class Refreshable(Protocol):
    """A :class:`CredentialSource` that can also replace credentials S3 refused."""

    async def get(self) -> AwsCredentials:
        """Credentials valid for a while yet."""
        ...

    async def refresh(self, *, stale: AwsCredentials | None = None) -> AwsCredentials:
        """Credentials other than ``stale`` (fetched anew unless already replaced)."""
        ...


@functools.lru_cache(maxsize=1)
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
    aws.context["client_config"] = _CONFIG[sign_payload]
    _signer(credentials, region).add_auth(aws)
    for name in _OUTPUT:
        value = aws.headers.get(name)
        if value is not None:
            request.headers[name] = value
    return request


_CONFIG = {flag: SimpleNamespace(s3={"payload_signing_enabled": flag}) for flag in (False, True)}


@functools.lru_cache(maxsize=16)
def _signer(credentials: AwsCredentials, region: str) -> Any:
    """The botocore signer for ``credentials`` in ``region``, built once per key set (signing is
    synchronous, so one signer serves every concurrent request)."""
    bc = _botocore()
    keys = bc.credentials.Credentials(
        credentials.aws_access_key_id,
        credentials.aws_secret_access_key,
        credentials.aws_session_token,
    )
    return bc.auth.S3SigV4Auth(keys, "s3", region)


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
        response = yield sign_request(
            request, credentials, region=self.region, sign_payload=self.sign_payload
        )
        if response.status_code not in (400, 403) or not isinstance(self.source, Refreshable):
            return
        await response.aread()  # an error document: small
        code, _ = parse_error(response.content) if response.content else (None, None)
        if not credentials_refused(code):
            return
        # expired, or rotated under us: new credentials, and this request once more
        logger.debug("S3 refused the credentials (%s): refreshing and signing again", code)
        fresh = await self.source.refresh(stale=credentials)
        yield sign_request(request, fresh, region=self.region, sign_payload=self.sign_payload)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise ConfigError("S3Auth needs an httpx.AsyncClient (credentials are fetched async)")
