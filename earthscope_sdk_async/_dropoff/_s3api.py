"""The five S3 multipart calls over httpx, signed, retried through the client's budget.

CreateMultipartUpload, UploadPart, CompleteMultipartUpload, ListParts and
AbortMultipartUpload (path-style URLs). Every attempt is built and signed afresh, so a retry
after the credentials were refreshed carries the new ones; an ``ExpiredToken`` answer
refreshes the credentials and retries at once. Retries follow the client's
:class:`RetryPolicy` (attempts and total time) and honour its shared pause: a 503
``SlowDown`` pauses every request of the client, API calls included.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from .._clock import Clock
from .._retry import (
    Failure,
    RetryPolicy,
    RetryRules,
    SharedPause,
    retry,
    retryable_status,
    retryable_transport,
)
from .._retry_after import retry_after_seconds
from .._s3._errors import credentials_refused
from .._s3._url import S3Endpoint, S3Location
from ._errors import UploadError

__all__ = ["Body", "MultipartApi", "PartInfo", "Signer"]

Body = bytes | Callable[[], AsyncIterator[bytes]]
"""A request body: bytes, or a factory of async iterators (one per attempt)."""

logger = logging.getLogger(__name__)

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_RULES = RetryRules(say_attempts=False)  # UploadError carries the key; its message suffices


class Signer(Protocol):
    """Signs S3 requests with the current temporary credentials."""

    async def sign(self, request: httpx.Request) -> None:
        """Add the SigV4 headers to ``request`` (refreshing credentials if they expire soon)."""
        ...

    async def refresh(self) -> None:
        """Fetch new credentials now (S3 said the current ones expired)."""
        ...


@dataclass(frozen=True)
class PartInfo:
    """A part S3 holds: number, ETag (quoted, as S3 sends it), size and CRC64NVME (or "")."""

    number: int
    etag: str
    size: int
    crc64nvme: str = ""


def _find(root: ET.Element, name: str) -> str | None:
    node = root.find(_NS + name)
    if node is None:
        node = root.find(name)
    return None if node is None else (node.text or "")


def _s3_error(response: httpx.Response) -> tuple[str, str]:
    """S3's error ``(Code, Message)`` from an XML error body (empty strings when absent)."""
    try:
        root = ET.fromstring(response.content)  # noqa: S314
    except ET.ParseError:
        return "", ""
    return _find(root, "Code") or "", _find(root, "Message") or ""


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MultipartApi:
    """S3 multipart calls for one bucket at ``endpoint``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        endpoint: S3Endpoint,
        bucket: str,
        signer: Signer,
        policy: RetryPolicy,
        pause: SharedPause,
        clock: Clock,
    ) -> None:
        self.http = http
        self.endpoint = endpoint
        self.bucket = bucket
        self.signer = signer
        self.policy = policy
        self.pause = pause
        self.clock = clock

    def url(self, key: str) -> str:
        """The object's URL."""
        return self.endpoint.object_url(S3Location(self.bucket, key))

    async def create(self, key: str, *, content_type: str | None) -> str:
        """Start an upload with CRC64NVME (full-object) checksums; return its upload id."""
        headers = {"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "FULL_OBJECT"}
        if content_type:
            headers["content-type"] = content_type
        response = await self._send("POST", key, {"uploads": ""}, headers, b"")
        upload_id = _find(ET.fromstring(response.content), "UploadId")  # noqa: S314
        if not upload_id:
            raise UploadError(
                f"S3 answered CreateMultipartUpload for {key!r} without an upload id", key=key
            )
        return upload_id

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: Body, size: int, crc64nvme: str
    ) -> str:
        """Send part ``number`` (``size`` bytes: bytes, or a factory of async iterators
        streaming them, called once per attempt); S3 checks it against ``crc64nvme``
        (base64). Returns its ETag."""
        params = {"partNumber": str(number), "uploadId": upload_id}
        headers = {
            "content-length": str(size),
            "x-amz-checksum-crc64nvme": crc64nvme,
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",  # integrity: the CRC64NVME checksum
        }
        response = await self._send("PUT", key, params, headers, body)
        etag = response.headers.get("etag")
        if not etag:
            raise UploadError(f"S3 answered part {number} of {key!r} without an ETag", key=key)
        echoed = response.headers.get("x-amz-checksum-crc64nvme")
        if echoed and echoed != crc64nvme:
            raise UploadError(
                f"part {number} of {key!r} arrived corrupted (S3's CRC64NVME {echoed} != "
                f"ours {crc64nvme}); run the upload again",
                key=key,
                retryable=True,
            )
        return str(etag)

    async def complete(
        self, key: str, upload_id: str, parts: Sequence[tuple[int, str, str]], crc64nvme: str
    ) -> None:
        """Assemble ``(number, etag, crc64nvme)`` parts; S3 checks the whole object's CRC."""
        body = ["<CompleteMultipartUpload>"]
        for number, etag, crc in sorted(parts):
            body.append(
                f"<Part><PartNumber>{number}</PartNumber><ETag>{_xml_escape(etag)}</ETag>"
                f"<ChecksumCRC64NVME>{crc}</ChecksumCRC64NVME></Part>"
            )
        body.append("</CompleteMultipartUpload>")
        headers = {
            "content-type": "application/xml",
            "x-amz-checksum-crc64nvme": crc64nvme,
            "x-amz-checksum-type": "FULL_OBJECT",
        }
        await self._send("POST", key, {"uploadId": upload_id}, headers, "".join(body).encode())

    async def list_parts(self, key: str, upload_id: str) -> dict[int, PartInfo] | None:
        """The parts S3 holds for the upload (every page); ``None`` if S3 no longer knows it."""
        parts: dict[int, PartInfo] = {}
        marker = "0"
        while True:
            params = {"uploadId": upload_id, "part-number-marker": marker}
            try:
                response = await self._send("GET", key, params, {}, b"")
            except UploadError as exc:
                if exc.status_code == 404:
                    return None
                raise
            root = ET.fromstring(response.content)  # noqa: S314
            for node in list(root.iter(_NS + "Part")) + list(root.iter("Part")):
                info = PartInfo(
                    int(_find(node, "PartNumber") or 0),
                    _find(node, "ETag") or "",
                    int(_find(node, "Size") or 0),
                    _find(node, "ChecksumCRC64NVME") or "",
                )
                parts[info.number] = info
            if (_find(root, "IsTruncated") or "false").lower() != "true":
                return parts
            marker = _find(root, "NextPartNumberMarker") or ""
            if not marker:
                return parts

    async def abort(self, key: str, upload_id: str) -> None:
        """Abandon the upload (S3 frees its parts); an unknown upload is fine."""
        try:
            await self._send("DELETE", key, {"uploadId": upload_id}, {}, b"")
        except UploadError as exc:
            if exc.status_code != 404:
                raise

    # -- sending ---------------------------------------------------------------------------

    async def _build(
        self,
        method: str,
        key: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: Body,
    ) -> tuple[httpx.Request, AsyncIterator[bytes] | None]:
        content = body if isinstance(body, bytes) else body()
        request = self.http.build_request(
            method, self.url(key), params=params, headers=headers, content=content
        )
        await self.signer.sign(request)
        return request, None if isinstance(content, bytes) else content

    async def _attempt(
        self, request: httpx.Request, stream: AsyncIterator[bytes] | None
    ) -> httpx.Response:
        try:
            return await self.http.send(request)
        finally:  # a streamed body cut short by a failure is closed now, not at collection
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    async def _send(
        self,
        method: str,
        key: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: Body,
    ) -> httpx.Response:
        """Send with retries through the client's one retry engine (policy, shared pause)."""
        refreshed = False

        async def attempt() -> httpx.Response | Failure:
            nonlocal refreshed
            request, stream = await self._build(method, key, params, headers, body)
            try:
                response = await self._attempt(request, stream)
            except httpx.HTTPError as exc:
                error = UploadError(
                    f"{method} of {key!r} to S3 failed: {type(exc).__name__} (network problem)",
                    key=key,
                    retryable=True,
                )
                error.__cause__ = exc
                # every multipart call may be replayed: parts and completion are keyed by the
                # upload id, and a replayed create only leaves an unused upload id behind
                return Failure(error, retryable_transport("PUT", exc))
            failed = not response.is_success or (
                method == "POST" and b"<Error>" in response.content[:512]
            )  # CompleteMultipartUpload may answer 200 with an error in the body
            if not failed:
                return response
            code, message = _s3_error(response)
            answer = f"{response.status_code} {code} {message}".rstrip()
            error = UploadError(
                f"S3 refused {method} of {key!r}: {answer}",
                key=key,
                retryable=response.status_code >= 500 or response.status_code == 429,
                status_code=response.status_code,
            )
            if credentials_refused(code) and not refreshed:
                logger.debug("S3 credentials expired: refreshing and retrying")
                refreshed = True
                await self.signer.refresh()
                return Failure(error, retryable=True, immediate=True)
            after = retry_after_seconds(response.headers, now=self.clock.now())
            status = response.status_code
            retry = response.is_success or retryable_status(
                "PUT", status, has_retry_after=after is not None
            )
            return Failure(error, retry, after, rate_limited=status in (429, 503))

        def paused() -> UploadError:
            return UploadError(
                f"{method} of {key!r} was not sent: the client is paused by a rate limit "
                "for longer than the retry policy allows; run the upload again later",
                key=key,
                retryable=True,
            )

        return await retry(
            attempt,
            policy=self.policy,
            clock=self.clock,
            what=f"S3 {method} {key}",
            pause=self.pause,
            paused=paused,
            rules=_RULES,
        )
