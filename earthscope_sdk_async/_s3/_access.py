"""S3 access for one download batch: credentials, signing, routing and prefix listing.

:class:`S3Access` ties the pieces together for :meth:`AsyncEarthScopeClient.download`:
``route`` sends each ``s3://`` item through the one download engine as a signed request to
its endpoint (credentials refreshed before they expire, per attempt); ``expand`` replaces
each ``s3://bucket/prefix/`` item by the objects listed under it, lazily, page by page. List
requests go through the client's requester (the one retry engine and shared pause).
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._aws import AwsCredentialsRequest
from .._download._route import Route
from .._download._types import DownloadResult
from .._errors import ConfigError, EarthScopeError
from ._credentials import AwsCredentialsSource, S3Credentials
from ._errors import s3_error
from ._list import list_objects
from ._sign import S3Auth
from ._url import S3Endpoint, S3Location, is_s3_url, parse_s3_url

if TYPE_CHECKING:
    from .._download import DownloadItem, DownloadSource
    from .._http import Requester

__all__ = ["S3Access", "object_url"]


def object_url(bucket: str, key: str) -> str:
    """``s3://bucket/key`` with the key percent-encoded (so any key round-trips)."""
    return f"s3://{bucket}/{quote(key, safe='/~')}"


class S3Access:
    """Signed access to S3 for one role and its parameters."""

    def __init__(
        self,
        requester: Requester,
        user: AwsCredentialsSource,
        request: AwsCredentialsRequest,
    ) -> None:
        settings = requester.settings
        self.requester = requester
        self.endpoint = S3Endpoint(settings.s3_region, settings.s3_endpoint_url)
        self.credentials = S3Credentials(user, request)
        self.auth = S3Auth(self.credentials, region=self.endpoint.region)

    def __repr__(self) -> str:
        return f"S3Access({self.credentials!r}, endpoint={self.endpoint!r})"

    def route(self, url: str) -> Route:
        """The signed request for an ``s3://`` item (other URLs go as they are).

        Raises:
            ConfigError: a malformed ``s3://`` URL, or a prefix (which ``expand`` lists).
        """
        if not is_s3_url(url):
            return Route(url)
        location = parse_s3_url(url)
        if location.is_prefix:
            raise ConfigError(f"{url} is a prefix, not an object")
        error = functools.partial(s3_error, url=url, bucket=location.bucket, key=location.key)
        return Route(self.endpoint.object_url(location), self.auth, error)

    async def _page(self, location: S3Location, url: str, query: Mapping[str, str]) -> bytes:
        error = functools.partial(
            s3_error, url=location.url, bucket=location.bucket, key=location.key
        )
        response = await self.requester.request(
            "GET", url, params=query, auth=self.auth, error=error
        )
        return response.content

    def objects(self, location: S3Location) -> AsyncIterator[tuple[str, str]]:
        """``(s3 URL, key relative to the prefix)`` of every object under ``location``."""
        fetch = functools.partial(self._page, location)

        async def walk() -> AsyncIterator[tuple[str, str]]:
            async for found in list_objects(fetch, self.endpoint, location):
                yield object_url(location.bucket, found.key), found.key[len(location.key) :]

        return walk()

    async def expand(self, items: DownloadSource) -> AsyncIterator[DownloadItem | DownloadResult]:
        """``items`` with every ``s3://bucket/prefix/`` (or ``(prefix, folder)``) replaced by
        the objects under it, saved under their key relative to the prefix (in ``folder``).

        A listing that fails (after the retries) becomes that prefix's failed
        :class:`DownloadResult` (after the objects listed before the failure): the batch
        goes on with the other items, as it does for a malformed URL."""
        if isinstance(items, AsyncIterable):
            async for item in items:
                async for out in self._expand_one(item):
                    yield out
        else:
            for item in items:
                async for out in self._expand_one(item):
                    yield out

    async def _expand_one(self, item: DownloadItem) -> AsyncIterator[DownloadItem | DownloadResult]:
        url, folder = (item, None) if isinstance(item, str) else (item[0], item[1])
        if not is_s3_url(url) or not _is_prefix(url):
            yield item
            return
        location = parse_s3_url(url)
        try:
            async for object_url_, relative in self.objects(location):
                yield (object_url_, relative if folder is None else os.path.join(folder, relative))
        except EarthScopeError as exc:  # this prefix fails alone; the other items go on
            yield DownloadResult(url, None, "failed", error=exc)


def _is_prefix(url: str) -> bool:
    try:
        return parse_s3_url(url).is_prefix
    except ValueError:
        return False  # malformed: the item fails alone when routed
