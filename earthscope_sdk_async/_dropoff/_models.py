"""Typed, frozen models of the dropoff API (``beta/dropoff/...``) and of uploads.

The names and fields are earthscope-sdk 1.9.3's (``DropoffObject``, ``DropoffSummary``,
``Page``, ``UploadStatus``, ``UploadResult``, ``DropoffCategory``); they are frozen
dataclasses here, parsed from the API's JSON by the ``parse_*`` functions, which raise
``ValueError`` naming the bad field.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

__all__ = [
    "DropoffCategory",
    "DropoffObject",
    "DropoffStatusCount",
    "DropoffSummary",
    "Page",
    "UploadResult",
    "UploadStatus",
    "parse_object",
    "parse_page",
    "parse_summary",
]

T = TypeVar("T")


class DropoffCategory(str, enum.Enum):
    """What is dropped off: ``miniseed`` data, ``assembled`` data or ``stationxml`` metadata."""

    miniSEED = "miniseed"
    assembled = "assembled"
    stationxml = "stationxml"

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` of uploads in this category (none for assembled)."""
        return _CONTENT_TYPES[self.value]


_CONTENT_TYPES = {
    "miniseed": "application/vnd.fdsn.mseed",
    "stationxml": "application/xml",
    "assembled": None,
}


@dataclass(frozen=True)
class DropoffObject:
    """One submitted object, as the dropoff service reports it."""

    path: str
    """The object key as given at upload (without the category and user prefix)."""
    received_at: datetime
    """When the service received it (aware)."""
    status: str
    """The processing status (e.g. ``received``, ``accepted``, ``rejected``)."""
    size: int
    """Size in bytes."""
    sha256: str
    """Hex SHA-256 of the object's bytes (the API's ``hash``)."""
    status_message: str | None = None
    """A human-readable message about the status, if any."""
    structured_messages: tuple[str, ...] = ()
    """Detailed processing messages."""
    structured_messages_were_truncated: bool = False
    """True when the service cut :attr:`structured_messages` short."""


@dataclass(frozen=True)
class DropoffStatusCount:
    """How many objects have one status."""

    status: str
    """The status."""
    count: int
    """The number of objects with it."""


@dataclass(frozen=True)
class DropoffSummary:
    """Object counts per status (the API's ``items``)."""

    status_counts: tuple[DropoffStatusCount, ...]
    """One entry per status."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results: ``items`` from ``offset``, at most ``limit``; ``has_next`` says
    whether more follow (ask again with ``offset + limit``)."""

    items: tuple[T, ...]
    """The results on this page."""
    offset: int
    """The offset this page starts at."""
    limit: int
    """The page size asked for."""
    has_next: bool = False
    """Whether another page follows."""


@dataclass(frozen=True)
class UploadStatus:
    """Progress of one object's upload, passed to ``progress_cb``."""

    key: str
    """The object key (as given by the caller)."""
    bytes_done: int
    """Bytes uploaded so far (``bytes_resumed`` included)."""
    bytes_buffered: int
    """Bytes read from the source so far (includes ``bytes_done``)."""
    total_bytes: int | None
    """The object's size (``None`` for a stream of unknown size)."""
    complete: bool
    """Whether the upload has completed."""
    bytes_resumed: int = 0
    """Bytes uploaded by an earlier, interrupted run and not sent again."""


@dataclass(frozen=True)
class UploadResult:
    """A completed upload."""

    bucket: str
    """The S3 bucket."""
    key: str
    """The full S3 object key (``{category}/{user}/{key}``)."""
    size: int
    """Bytes uploaded."""
    sha256: str | None = field(default=None)
    """Hex SHA-256 of the uploaded bytes, as the service reports it (``DropoffObject.sha256``)."""


def _text(data: Mapping[str, Any], name: str, *, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string")
    return value


def _int(data: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"field {name!r} must be an integer")
    return value


def _datetime(data: Mapping[str, Any], name: str) -> datetime:
    text = _text(data, name)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"field {name!r} is not an ISO 8601 date-time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _object(data: object) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def parse_object(data: object) -> DropoffObject:
    """A :class:`DropoffObject` from the API's JSON."""
    obj = _object(data)
    messages = obj.get("structured_messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise ValueError("field 'structured_messages' must be a list of strings")
    return DropoffObject(
        path=_text(obj, "path"),
        received_at=_datetime(obj, "received_at"),
        status=_text(obj, "status"),
        size=_int(obj, "size"),
        sha256=_text(obj, "hash"),
        status_message=_text(obj, "status_message", optional=True),
        structured_messages=tuple(messages),
        structured_messages_were_truncated=bool(obj.get("structured_messages_were_truncated")),
    )


def parse_page(data: object, item: Callable[[object], T]) -> Page[T]:
    """A :class:`Page` from the API's JSON, each item parsed by ``item``."""
    obj = _object(data)
    items = obj.get("items")
    if not isinstance(items, list):
        raise ValueError("field 'items' must be a list")
    has_next = obj.get("has_next", False)
    if not isinstance(has_next, bool):
        raise ValueError("field 'has_next' must be a boolean")
    return Page(
        items=tuple(item(i) for i in items),
        offset=_int(obj, "offset"),
        limit=_int(obj, "limit"),
        has_next=has_next,
    )


def parse_summary(data: object) -> DropoffSummary:
    """A :class:`DropoffSummary` from the API's JSON (``{"items": [{status, count}]}``)."""
    items = _object(data).get("items")
    if not isinstance(items, list):
        raise ValueError("field 'items' must be a list")
    counts = []
    for item in items:
        entry = _object(item)
        counts.append(DropoffStatusCount(status=_text(entry, "status"), count=_int(entry, "count")))
    return DropoffSummary(status_counts=tuple(counts))
