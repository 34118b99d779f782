"""S3's error answers as :class:`S3Error` (code, message, request id, with a hint)."""

from __future__ import annotations

import httpx

from .._errors import S3Error
from ._xml import parse_error

__all__ = ["REFUSED_CREDENTIALS", "credentials_refused", "s3_error"]

REFUSED_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidToken",
        # right after a rotation the old keys may be gone, or a signature made with them
        # may be refused: new credentials settle it (once; a real mismatch fails again)
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    }
)
"""S3 error codes that new credentials may cure: refresh and retry the request once."""


def credentials_refused(code: str | None) -> bool:
    """Whether S3's error ``code`` says the credentials (not the request) were refused, so
    new credentials and one more try may succeed (downloads, listings and uploads alike)."""
    return code in REFUSED_CREDENTIALS


_HINTS = {
    "SignatureDoesNotMatch": "the request signature was refused: check s3_region and that the "
    "credentials were not altered",
    "InvalidAccessKeyId": "the access key is unknown to S3: the credentials may belong to "
    "another endpoint, or were revoked",
    "ExpiredToken": "the AWS credentials expired: run again (they are refreshed)",
    "InvalidToken": "the session token is invalid: run again for new credentials",
    "AccessDenied": "the role does not grant access here: check the role and its parameters "
    "(e.g. network and year for s3-miniseed-v2)",
    "NoSuchKey": "there is no such object",
    "NoSuchBucket": "there is no such bucket",
}


def s3_error(response: httpx.Response, url: str, *, bucket: str, key: str) -> S3Error:
    """The :class:`S3Error` for an unsuccessful ``response`` to a request about ``url``
    (an ``s3://`` URL, named in the message). The body must have been read."""
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = b""
    code, message = parse_error(body) if body else (None, None)
    request_id = response.headers.get("x-amz-request-id")
    method = response.request.method if _has_request(response) else "GET"
    text = f"S3 answered {response.status_code} {code or response.reason_phrase} for {method} {url}"
    if message:
        text += f": {message[:200]}"
    hint = _HINTS.get(code or "")
    if hint:
        text += f" ({hint})"
    if request_id:
        text += f" (request id {request_id})"
    return S3Error(
        text,
        code=code,
        bucket=bucket,
        key=key,
        status_code=response.status_code,
        detail=message,
        request_id=request_id,
        url=url,
    )


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018
    except RuntimeError:
        return False
    return True
