"""Expand ``s3://bucket/prefix/`` into its objects with ListObjectsV2, page by page.

Pages are fetched one at a time, as the consumer asks for items (a prefix of a million keys
is never held in memory); each page is asked for with the previous page's continuation
token. Fetching (signing, retries) is the caller's: :func:`list_objects` takes a
``fetch_page(url, params)`` coroutine returning the response body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from .._errors import S3Error
from ._url import S3Endpoint, S3Location
from ._xml import S3Object, parse_list_page

__all__ = ["FetchPage", "list_objects"]

FetchPage = Callable[[str, Mapping[str, str]], Awaitable[bytes]]
"""``fetch_page(bucket_url, query)`` -> the body of a successful ListObjectsV2 answer."""


async def list_objects(
    fetch_page: FetchPage,
    endpoint: S3Endpoint,
    location: S3Location,
    *,
    page_size: int = 1000,
) -> AsyncIterator[S3Object]:
    """Every object under ``location.key`` (a prefix), in S3's (lexicographic) order.

    "Directory marker" objects (keys ending in ``/``) are left out.

    Raises:
        S3Error: a page could not be understood (as well as what ``fetch_page`` raises).
    """
    url = endpoint.bucket_url(location.bucket)
    token: str | None = None
    while True:
        query = {"list-type": "2", "max-keys": str(page_size)}
        if location.key:
            query["prefix"] = location.key
        if token is not None:
            query["continuation-token"] = token
        body = await fetch_page(url, query)
        try:
            page = parse_list_page(body)
        except ValueError as exc:
            raise S3Error(
                f"listing {location.url}: S3 answered something unusable ({exc})",
                status_code=200,
                bucket=location.bucket,
                key=location.key,
            ) from None
        for found in page.objects:
            if not found.key.endswith("/"):
                yield found
        if page.next_token is None:
            return
        token = page.next_token
