"""The fake dropoff API: ``beta/dropoff/{category}`` (list), ``.../status`` (history) and
``.../summary``, over objects seeded directly or uploaded to a local S3 server.

Objects live at ``{category}/{base64 user id}/{key}`` as with the real service; each caller
sees only their own. With :meth:`DropoffRegistry.watch_s3`, every request first lists the
bucket (plain unsigned S3 ListObjectsV2 to a local server such as moto's) and records each
new object or new version (a new ETag) as a submission with status ``received``, its size
and the SHA-256 of its bytes (read once per ETag), as the real service reports them.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from ._response import Response, json_response

__all__ = ["DropoffRegistry", "FakeDropoffObject"]

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
CATEGORIES = ("miniseed", "assembled", "stationxml")


def user_prefix(sub: str) -> str:
    """The base64 user id of ``sub`` as it appears in object keys."""
    return base64.urlsafe_b64encode(sub.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class FakeDropoffObject:
    """One submission the fake dropoff reports."""

    category: str
    user: str
    path: str
    size: int
    sha256: str
    received_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    status: str = "received"
    status_message: str | None = None
    structured_messages: tuple[str, ...] = ()
    etag: str = ""

    def to_json(self) -> dict[str, Any]:
        """The API's JSON for this object."""
        return {
            "path": self.path,
            "received_at": self.received_at.isoformat(),
            "status": self.status,
            "status_message": self.status_message,
            "structured_messages": list(self.structured_messages),
            "structured_messages_were_truncated": False,
            "size": self.size,
            "hash": self.sha256,
        }


def _int(query: dict[str, str], name: str, default: int) -> int | Response:
    try:
        value = int(query.get(name, default))
    except ValueError:
        return json_response(422, {"detail": f"{name} must be an integer"})
    return value if value >= 0 else json_response(422, {"detail": f"{name} must be >= 0"})


class DropoffRegistry:
    """Every submission, newest last; thread-safe."""

    def __init__(self) -> None:
        self._objects: list[FakeDropoffObject] = []
        self._lock = threading.Lock()
        self._s3: tuple[str, str] | None = None
        self._client: Any = None
        self._etags: dict[str, str] = {}

    def add(self, obj: FakeDropoffObject) -> None:
        """Record a submission."""
        with self._lock:
            self._objects.append(obj)

    def set_status(self, key: str, status: str, message: str | None = None) -> int:
        """Give the latest submission of every object whose path is ``key`` a new status."""
        self.sync()
        changed = 0
        with self._lock:
            latest: dict[tuple[str, str, str], int] = {}
            for i, obj in enumerate(self._objects):
                if obj.path == key:
                    latest[(obj.category, obj.user, obj.path)] = i
            for i in latest.values():
                self._objects[i] = replace(self._objects[i], status=status, status_message=message)
                changed += 1
        return changed

    def snapshot(self) -> list[FakeDropoffObject]:
        """Every submission so far (after looking at the watched bucket)."""
        self.sync()
        with self._lock:
            return list(self._objects)

    def watch_s3(self, endpoint_url: str, bucket: str, s3_client: Any = None) -> None:
        """Report the objects uploaded to ``bucket`` on the S3 server at ``endpoint_url``.

        ``s3_client`` (a boto3 S3 client, for a server that checks signatures) reads the
        bucket; without one, unsigned requests do.
        """
        self._s3 = (endpoint_url.rstrip("/"), bucket)
        self._client = s3_client

    # -- S3 --------------------------------------------------------------------------------

    def sync(self) -> None:
        """Record the watched bucket's new objects (a new ETag is a new submission)."""
        if self._s3 is None:
            return
        endpoint, bucket = self._s3
        listed = self._list_with_client(bucket) if self._client else self._list(endpoint, bucket)
        for key, etag, size in listed:
            if self._etags.get(key) == etag:
                continue
            parts = key.split("/", 2)
            if len(parts) != 3 or parts[0] not in CATEGORIES:
                continue
            if self._client is not None:
                body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
                digest = hashlib.sha256(body.read()).hexdigest()
            else:
                digest = self._sha256(f"{endpoint}/{quote(bucket)}/{quote(key)}")
            self._etags[key] = etag
            self.add(FakeDropoffObject(parts[0], parts[1], parts[2], size, digest, etag=etag))

    def _list_with_client(self, bucket: str) -> list[tuple[str, str, int]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [
            (item["Key"], item["ETag"], int(item["Size"]))
            for page in pages
            for item in page.get("Contents", [])
        ]

    @staticmethod
    def _list(endpoint: str, bucket: str) -> list[tuple[str, str, int]]:
        found: list[tuple[str, str, int]] = []
        token = ""
        while True:
            query = {"list-type": "2", **({"continuation-token": token} if token else {})}
            url = f"{endpoint}/{quote(bucket)}?{urlencode(query)}"
            with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - local server
                root = ET.fromstring(answer.read())  # noqa: S314
            for item in root.iter(_NS + "Contents"):
                found.append(
                    (
                        item.findtext(_NS + "Key") or "",
                        item.findtext(_NS + "ETag") or "",
                        int(item.findtext(_NS + "Size") or 0),
                    )
                )
            if root.findtext(_NS + "IsTruncated") != "true":
                return found
            token = root.findtext(_NS + "NextContinuationToken") or ""

    @staticmethod
    def _sha256(url: str) -> str:
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - local server
            while chunk := answer.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    # -- the API ---------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, str], sub: str) -> Response:
        """Answer ``GET /beta/dropoff/...`` for the user ``sub``."""
        rest = path[len("/beta/dropoff/") :].strip("/").split("/")
        category, action = rest[0], rest[1] if len(rest) > 1 else ""
        if category not in CATEGORIES or len(rest) > 2 or action not in ("", "status", "summary"):
            return json_response(404, {"detail": f"Not found: {path}"})
        mine = [o for o in self.snapshot() if o.category == category and o.user == user_prefix(sub)]
        if action == "summary":
            return self._summary(mine, query)
        if action == "status":
            if not query.get("key"):
                return json_response(422, {"detail": "key is required"})
            return self._page([o for o in mine if o.path == query["key"]][::-1], query)
        return self._page(self._latest(self._filter(mine, query)), query)

    @staticmethod
    def _latest(objects: list[FakeDropoffObject]) -> list[FakeDropoffObject]:
        latest: dict[str, FakeDropoffObject] = {}
        for obj in objects:
            latest[obj.path] = obj
        return sorted(latest.values(), key=lambda o: o.path)

    @staticmethod
    def _filter(objects: list[FakeDropoffObject], query: dict[str, str]) -> list[FakeDropoffObject]:
        prefix, status = query.get("prefix", ""), query.get("status")
        before, after = query.get("submitted_before"), query.get("submitted_after")
        found = []
        for obj in objects:
            if not obj.path.startswith(prefix) or (status and obj.status != status):
                continue
            when = obj.received_at
            if before and when >= datetime.fromisoformat(before):
                continue
            if after and when <= datetime.fromisoformat(after):
                continue
            found.append(obj)
        return found

    def _page(self, objects: list[FakeDropoffObject], query: dict[str, str]) -> Response:
        offset, limit = _int(query, "offset", 0), _int(query, "limit", 100)
        if isinstance(offset, Response):
            return offset
        if isinstance(limit, Response):
            return limit
        items = objects[offset : offset + limit]
        return json_response(
            200,
            {
                "items": [o.to_json() for o in items],
                "offset": offset,
                "limit": limit,
                "has_next": offset + limit < len(objects),
            },
        )

    def _summary(self, objects: list[FakeDropoffObject], query: dict[str, str]) -> Response:
        counts: dict[str, int] = {}
        for obj in self._latest(self._filter(objects, query)):
            counts[obj.status] = counts.get(obj.status, 0) + 1
        items = [{"status": s, "count": c} for s, c in sorted(counts.items())]
        return json_response(200, {"items": items})
