"""DropoffService (``client.dropoff``): list, inspect and upload dropoff objects.

The API calls (``beta/dropoff/{category}...``) go through the client's
:class:`~earthscope_sdk_async._http.Requester`; uploads go to S3 with
temporary credentials for the ``s3-dropoff`` role (see :mod:`._upload`). Names and
arguments are earthscope-sdk 1.9.3's; the page methods return one page, as there, and
:meth:`iter_objects` / :meth:`list_all_objects` (and their history twins) follow every page.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx

from .._checks import check_count
from .._download._progress import ProgressOption, Tracker, resolve_progress
from .._errors import ConfigError, EarthScopeError, LoginRequiredError
from .._http._json import decode_json, invalid_response
from .._retry import RetryPolicy
from ._errors import UploadBatchError
from ._files import UploadCandidate, coerce_category
from ._models import (
    DropoffCategory,
    DropoffObject,
    DropoffSummary,
    Page,
    UploadResult,
    parse_object,
    parse_page,
    parse_summary,
)
from ._options import DropoffOptions
from ._s3api import MultipartApi, Signer
from ._source import Body, open_source
from ._state import state_path
from ._upload import ObjectUpload, StatusCallback

if TYPE_CHECKING:
    from .._http import Requester
    from .._s3._credentials import S3Credentials

__all__ = ["DropoffService", "SignerFactory"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
SignerFactory = Callable[["S3Credentials", str], Signer]
"""Builds the S3 request signer from a credentials source and the bucket's region."""

_PAGE = 100


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def _page_args(offset: int, limit: int) -> dict[str, int]:
    if not (type(offset) is int and offset == 0):  # 0: the one valid offset below 1
        check_count("offset", offset)
    return {"offset": offset, "limit": check_count("limit", limit)}


class DropoffService:
    """Dropoff: submit miniSEED, assembled data and StationXML; reach it as ``client.dropoff``.

    ``options`` (default: :meth:`DropoffOptions.from_env`) says where uploads go;
    ``credentials`` hands out the ``s3-dropoff`` AWS credentials, refreshed before they
    expire (the client's are cached by ``client.user``); ``signer_factory`` builds the SigV4
    signer of S3 requests (default: botocore's, through ``_s3._sign``).
    """

    def __init__(
        self,
        requester: Requester,
        *,
        credentials: S3Credentials,
        signer_factory: SignerFactory | None = None,
        options: DropoffOptions | None = None,
    ) -> None:
        self._requester = requester
        self._credentials = credentials
        self._signer_factory = signer_factory
        self.options = options if options is not None else DropoffOptions.from_env()
        """Bucket, endpoint, part size and concurrency of uploads."""
        self._event_hooks: dict[str, list[Callable[[Any], Awaitable[None]]]] = {
            "request": [],
            "response": [],
        }

    def __repr__(self) -> str:
        return f"DropoffService(bucket={self.options.bucket!r})"

    # -- the API ---------------------------------------------------------------------------

    def _category(self, category: DropoffCategory | str | None) -> DropoffCategory:
        return coerce_category(category or self.options.category)

    async def _get(
        self, path: str, params: dict[str, Any], what: str, parse: Callable[[object], T]
    ) -> T:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        response = await self._requester.request("GET", path, params=query)
        try:
            return parse(decode_json(response, what))
        except ValueError as exc:
            raise invalid_response(response, what, str(exc)) from None

    async def list_objects(
        self,
        *,
        category: DropoffCategory | str | None = None,
        prefix: str | None = None,
        offset: int = 0,
        limit: int = 100,
        submitted_before: datetime | None = None,
        submitted_after: datetime | None = None,
        status: str | None = None,
    ) -> Page[DropoffObject]:
        """One page of your dropoff objects (``GET beta/dropoff/{category}``).

        Only one page: check ``page.has_next`` and ask again with ``offset + limit``, or use
        :meth:`iter_objects` / :meth:`list_all_objects` for every page. Naive datetimes are
        taken as UTC.

        Raises:
            ConfigError: no or an unknown category, or a bad offset/limit.
            ApiError: the API refused or failed, or answered something unexpected.
        """
        kind = self._category(category)
        params = {
            **_page_args(offset, limit),
            "prefix": prefix,
            "status": status,
            "submitted_before": _when(submitted_before),
            "submitted_after": _when(submitted_after),
        }
        return await self._get(
            f"beta/dropoff/{kind.value}", params, "dropoff objects", _parse_objects
        )

    async def get_object_history(
        self,
        *,
        key: str,
        category: DropoffCategory | str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[DropoffObject]:
        """One page of the submissions of ``key`` (``GET beta/dropoff/{category}/status``).

        Raises:
            ConfigError: no or an unknown category, an empty key, or a bad offset/limit.
            ApiError: the API refused or failed, or answered something unexpected.
        """
        if not isinstance(key, str) or not key:
            raise ConfigError(f"key must be a non-empty string, got {key!r}")
        kind = self._category(category)
        params = {**_page_args(offset, limit), "key": key}
        return await self._get(
            f"beta/dropoff/{kind.value}/status", params, "dropoff object history", _parse_objects
        )

    async def get_summary(
        self,
        *,
        category: DropoffCategory | str | None = None,
        prefix: str | None = None,
        submitted_before: datetime | None = None,
        submitted_after: datetime | None = None,
    ) -> DropoffSummary:
        """How many of your objects have each status (``GET beta/dropoff/{category}/summary``).

        Raises:
            ConfigError: no or an unknown category.
            ApiError: the API refused or failed, or answered something unexpected.
        """
        kind = self._category(category)
        params = {
            "prefix": prefix,
            "submitted_before": _when(submitted_before),
            "submitted_after": _when(submitted_after),
        }
        return await self._get(
            f"beta/dropoff/{kind.value}/summary", params, "dropoff summary", parse_summary
        )

    async def iter_objects(
        self,
        *,
        category: DropoffCategory | str | None = None,
        prefix: str | None = None,
        submitted_before: datetime | None = None,
        submitted_after: datetime | None = None,
        status: str | None = None,
        page_size: int = _PAGE,
    ) -> AsyncIterator[DropoffObject]:
        """Every object :meth:`list_objects` would list, page after page (lazily)."""
        offset = 0
        while True:
            page = await self.list_objects(
                category=category,
                prefix=prefix,
                offset=offset,
                limit=page_size,
                submitted_before=submitted_before,
                submitted_after=submitted_after,
                status=status,
            )
            for item in page.items:
                yield item
            if not page.has_next:
                return
            offset += page_size

    async def list_all_objects(
        self,
        *,
        category: DropoffCategory | str | None = None,
        prefix: str | None = None,
        submitted_before: datetime | None = None,
        submitted_after: datetime | None = None,
        status: str | None = None,
        page_size: int = _PAGE,
    ) -> list[DropoffObject]:
        """Every object :meth:`list_objects` would list, all pages, as one list.

        Raises:
            ConfigError: no or an unknown category.
            ApiError: a page request failed (nothing is returned then: never a silent
                partial list).
        """
        return [
            item
            async for item in self.iter_objects(
                category=category,
                prefix=prefix,
                submitted_before=submitted_before,
                submitted_after=submitted_after,
                status=status,
                page_size=page_size,
            )
        ]

    async def get_all_object_history(
        self, *, key: str, category: DropoffCategory | str | None = None, page_size: int = _PAGE
    ) -> list[DropoffObject]:
        """Every submission of ``key``, all pages, as one list.

        Raises:
            ConfigError: no or an unknown category, or an empty key.
            ApiError: a page request failed (nothing is returned then).
        """
        found: list[DropoffObject] = []
        offset = 0
        while True:
            page = await self.get_object_history(
                key=key, category=category, offset=offset, limit=page_size
            )
            found.extend(page.items)
            if not page.has_next:
                return found
            offset += page_size

    # -- uploads ---------------------------------------------------------------------------

    async def _user_prefix(self, kind: DropoffCategory) -> str:
        tokens = await self._requester.tokens.get_tokens()
        subject = tokens.subject
        if not subject:
            raise LoginRequiredError(
                "uploading needs your user id, but the stored tokens carry none; log in again"
            )
        user = base64.urlsafe_b64encode(subject.encode()).decode().rstrip("=")
        return f"{kind.value}/{user}/"

    def _signer(self) -> Signer:
        factory = self._signer_factory
        if factory is None:
            from ._signer import botocore_signer

            factory = botocore_signer
        return factory(self._credentials, self.options.region)

    async def put_object(
        self,
        body: Body,
        *,
        key: str,
        category: DropoffCategory | str | None,
        part_concurrency: int | None = None,
        part_size: int | None = None,
        retry_settings: RetryPolicy | None = None,
        progress_cb: StatusCallback | None = None,
        progress: ProgressOption = None,
    ) -> UploadResult:
        """Upload ``body`` as ``key`` (resumable for a path; see :meth:`put_objects`).

        Raises:
            ConfigError: a bad option, an unknown category, or a body of no supported kind.
            PartSizeError: the body is too large for S3 multipart.
            UploadError: the upload failed (running it again resumes a path's upload).
        """
        results = await self._put_many(
            [(body, key)],
            category=category,
            object_concurrency=1,
            part_concurrency=part_concurrency,
            part_size=part_size,
            retry_settings=retry_settings,
            progress_cb=progress_cb,
            progress=progress,
        )
        return results[0]

    async def put_objects(
        self,
        *,
        objects: Iterable[tuple[Body, str] | UploadCandidate],
        category: DropoffCategory | str | None,
        object_concurrency: int | None = None,
        part_concurrency: int | None = None,
        part_size: int | None = None,
        retry_settings: RetryPolicy | None = None,
        progress_cb: StatusCallback | None = None,
        progress: ProgressOption = None,
    ) -> list[UploadResult]:
        """Upload many objects: ``(body, key)`` pairs and/or :class:`UploadCandidate` values
        (failed candidates are skipped with a warning, never uploaded).

        Each object goes to ``{category}/{your base64 user id}/{key}`` in the dropoff bucket
        by S3 multipart upload: ``object_concurrency`` objects at a time, ``part_concurrency``
        parts in flight over all of them (each part read from disk when its turn comes, so
        memory stays near ``part_concurrency x part_size``). Every part carries its
        CRC64NVME, the completed object its full-object CRC64NVME, and each result the
        SHA-256 the service will report. Part failures are retried with ``retry_settings``
        (default: the client's retry policy, its shared 429/503 pause included). Uploads of
        paths are resumable: a state file per object records each sent part, so running
        the same upload again after a crash or Ctrl-C sends only the missing parts.
        ``progress_cb`` (sync or async) gets an :class:`UploadStatus` per object as parts
        complete; ``progress=True`` shows a bar over the whole batch (a callable gets the
        batch's ``DownloadProgress``).

        Returns the results in input order (skipped candidates left out).

        Raises:
            ConfigError: a bad option or an unknown category.
            UploadBatchError: some uploads failed (``results`` holds the others).
        """
        return await self._put_many(
            list(objects),
            category=category,
            object_concurrency=object_concurrency,
            part_concurrency=part_concurrency,
            part_size=part_size,
            retry_settings=retry_settings,
            progress_cb=progress_cb,
            progress=progress,
        )

    async def _put_many(
        self,
        items: Sequence[tuple[Body, str] | UploadCandidate],
        *,
        category: DropoffCategory | str | None,
        object_concurrency: int | None,
        part_concurrency: int | None,
        part_size: int | None,
        retry_settings: RetryPolicy | None,
        progress_cb: StatusCallback | None,
        progress: ProgressOption,
    ) -> list[UploadResult]:
        kind = self._category(category)
        options = self.options.replace(
            **{
                k: v
                for k, v in {
                    "part_size": part_size,
                    "part_concurrency": part_concurrency,
                    "object_concurrency": object_concurrency,
                }.items()
                if v is not None
            }
        )
        if retry_settings is not None and not isinstance(retry_settings, RetryPolicy):
            raise ConfigError("retry_settings must be a RetryPolicy")
        pairs = _usable(items)
        keys = [key for _, key in pairs]
        if len(set(keys)) != len(keys):
            from ._errors import DuplicateDestinationError

            dup = next(k for k in keys if keys.count(k) > 1)
            raise DuplicateDestinationError(
                f"two objects of this batch have the same key {dup!r}; give each a distinct key"
            )
        prefix = await self._user_prefix(kind)
        callback, bar = resolve_progress(progress, label="upload")
        tracker = Tracker(callback, len(pairs))
        requester = self._requester
        results: list[UploadResult | None] = [None] * len(pairs)
        failures: list[tuple[str, EarthScopeError]] = []
        limits = httpx.Limits(
            max_connections=options.part_concurrency + 2,
            max_keepalive_connections=options.part_concurrency + 2,
        )
        timeout = httpx.Timeout(120.0, connect=requester.settings.timeout_connect)
        try:
            hooks = {name: list(found) for name, found in self._event_hooks.items()}
            async with httpx.AsyncClient(limits=limits, timeout=timeout, event_hooks=hooks) as http:
                api = MultipartApi(
                    http,
                    endpoint=options.endpoint,
                    bucket=options.bucket,
                    signer=self._signer(),
                    policy=retry_settings or requester.policy,
                    pause=requester.pause,
                    clock=requester.clock,
                )
                slots = anyio.Semaphore(options.part_concurrency)
                objects = anyio.Semaphore(options.object_concurrency)
                state_dir = Path(
                    options.state_dir or requester.settings.tokens_file.parent / "dropoff"
                )

                async def one(index: int, body: Body, key: str) -> None:
                    async with objects:
                        s3_key = prefix + key.lstrip("/")
                        try:
                            upload = ObjectUpload(
                                api,
                                open_source(body),
                                key=key,
                                s3_key=s3_key,
                                content_type=kind.content_type,
                                part_size=options.part_size,
                                slots=slots,
                                state_file=state_path(state_dir, options.bucket, s3_key),
                                on_status=progress_cb,
                                on_bytes=tracker.add_bytes,
                            )
                            results[index] = await upload.run()
                        except EarthScopeError as exc:
                            logger.debug("upload of %s failed: %s", key, exc)
                            failures.append((key, exc))
                        finally:
                            tracker.file_done()

                async with anyio.create_task_group() as tg:
                    for index, (body, key) in enumerate(pairs):
                        tg.start_soon(one, index, body, key)
            tracker.finish()
        finally:
            if bar is not None:
                bar.close()
        done = tuple(r for r in results if r is not None)
        if failures:
            if len(pairs) == 1:
                raise failures[0][1]
            raise UploadBatchError(
                f"{len(failures)} of {len(pairs)} uploads failed; run the same upload again to "
                f"resume them (first: {failures[0][0]}: {failures[0][1]})",
                results=done,
                failures=tuple(failures),
            )
        return list(done)


def _parse_objects(data: object) -> Page[DropoffObject]:
    return parse_page(data, parse_object)


def _usable(items: Sequence[tuple[Body, str] | UploadCandidate]) -> list[tuple[Body, str]]:
    pairs: list[tuple[Body, str]] = []
    for item in items:
        if isinstance(item, UploadCandidate):
            if not item.ok:
                logger.warning("skipping %s: %s", item.path, item.error)
                continue
            pairs.append((item.path, item.key))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
            if not item[1].strip("/"):
                raise ConfigError(f"an object key must not be empty, got {item[1]!r}")
            pairs.append(item)
        else:
            raise ConfigError(
                f"objects must be (body, key) pairs or UploadCandidates, got {item!r:.80}"
            )
    return pairs
