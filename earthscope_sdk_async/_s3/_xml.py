"""Reading S3's XML answers: ListObjectsV2 pages and error documents.

S3's XML is parsed with the standard library's expat-based parser, which (Python >= 3.7.1,
expat >= 2.4.1) expands no external entities and limits entity amplification.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["ListPage", "S3Object", "parse_error", "parse_list_page"]


@dataclass(frozen=True)
class S3Object:
    """One listed object: its key, size in bytes and ETag (quotes removed)."""

    key: str
    size: int
    etag: str | None


@dataclass(frozen=True)
class ListPage:
    """One ListObjectsV2 page; ``next_token`` is ``None`` on the last page."""

    objects: tuple[S3Object, ...]
    next_token: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    found = _children(element, name)
    return found[0].text if found else None


def _root(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - see the module docstring


def parse_list_page(body: bytes) -> ListPage:
    """Parse a ListObjectsV2 answer.

    Raises:
        ValueError: not a ListBucketResult, or an entry without a key or a size.
    """
    try:
        root = _root(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    if _local(root.tag) != "ListBucketResult":
        raise ValueError(f"expected a ListBucketResult, got {_local(root.tag)}")
    objects = []
    for entry in _children(root, "Contents"):
        key, size = _text(entry, "Key"), _text(entry, "Size")
        if key is None or size is None or not size.strip().isdigit():
            raise ValueError("an entry has no Key or no numeric Size")
        etag = _text(entry, "ETag")
        objects.append(S3Object(key, int(size), etag.strip('"') if etag else None))
    truncated = (_text(root, "IsTruncated") or "false").strip().lower() == "true"
    token = _text(root, "NextContinuationToken") if truncated else None
    if truncated and not token:
        raise ValueError("a truncated page without NextContinuationToken")
    return ListPage(tuple(objects), token)


def parse_error(body: bytes) -> tuple[str | None, str | None]:
    """S3's error ``Code`` and ``Message`` from an error document (``None`` if absent)."""
    try:
        root = _root(body)
    except ET.ParseError:
        return None, None
    if _local(root.tag) != "Error":
        return None, None
    return _text(root, "Code"), _text(root, "Message")
