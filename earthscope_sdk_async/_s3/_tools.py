"""Self-refreshing EarthScope credentials for the S3 tools people use.

boto3 and aioboto3 sessions get botocore's refreshable credentials whose refresh calls back
into the client's credential cache; s3fs/fsspec (Dask, xarray) get storage options holding
such a session; obstore gets a credential provider. Each tool is an optional extra, imported
only here, only when asked for. Refreshes ask for credentials with at least
:data:`TOOL_THRESHOLD` seconds left, more than botocore's refresh windows (15 and 10 minutes
before expiry), so a refresh always yields credentials botocore accepts as fresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .._aws import AwsCredentials
from .._errors import ConfigError

__all__ = [
    "TOOL_THRESHOLD",
    "AsyncObstoreCredentials",
    "ObstoreCredentials",
    "aioboto3_session",
    "boto3_session",
    "s3fs_storage_options",
]

TOOL_THRESHOLD = 1200.0
"""Seconds of validity a refresh for a tool asks for (botocore refreshes 15 min ahead)."""

SyncFetch = Callable[[], AwsCredentials]
AsyncFetch = Callable[[], Awaitable[AwsCredentials]]


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"{module} is not installed: pip install 'earthscope-sdk-async[{extra}]'"
        ) from None


def _refreshable(cls: Any, credentials: AwsCredentials, refresh: Callable[[], Any]) -> Any:
    return cls.create_from_metadata(
        metadata=credentials.boto_metadata, refresh_using=refresh, method="earthscope"
    )


def boto3_session(fetch: SyncFetch, *, region: str) -> Any:
    """A ``boto3.Session`` whose credentials come from ``fetch`` and refresh themselves."""
    boto3 = _need("boto3", "boto3")
    botocore_session = _need("botocore.session", "boto3")
    botocore_credentials = _need("botocore.credentials", "boto3")

    def refresh() -> dict[str, str]:
        return fetch().boto_metadata

    session = botocore_session.get_session()
    session._credentials = _refreshable(
        botocore_credentials.RefreshableCredentials, fetch(), refresh
    )
    return boto3.Session(botocore_session=session, region_name=region)


def _aio_botocore_session(fetch: AsyncFetch | SyncFetch, first: AwsCredentials) -> Any:
    aio_session = _need("aiobotocore.session", "aioboto3")
    aio_credentials = _need("aiobotocore.credentials", "aioboto3")

    async def refresh() -> dict[str, str]:
        got = fetch()
        credentials = got if isinstance(got, AwsCredentials) else await got
        return credentials.boto_metadata

    session = aio_session.get_session()
    session._credentials = _refreshable(aio_credentials.AioRefreshableCredentials, first, refresh)
    return session


async def aioboto3_session(fetch: AsyncFetch, *, region: str) -> Any:
    """An ``aioboto3.Session`` whose credentials come from ``fetch`` and refresh themselves
    (in the event loop that uses the session)."""
    aioboto3 = _need("aioboto3", "aioboto3")
    session = _aio_botocore_session(fetch, await fetch())
    return aioboto3.Session(botocore_session=session, region_name=region)


def s3fs_storage_options(
    fetch: SyncFetch, *, region: str, endpoint_url: str | None
) -> dict[str, Any]:
    """``storage_options`` for s3fs/fsspec (``fsspec.filesystem("s3", **options)``,
    ``xarray.open_dataset(..., storage_options=options)``, Dask readers): an aiobotocore
    session with refreshable credentials, refreshed by calling ``fetch`` (blocking, about
    once an hour) in s3fs's own event loop thread."""
    _need("s3fs", "s3fs")
    session = _aio_botocore_session(fetch, fetch())
    client_kwargs: dict[str, Any] = {"region_name": region}
    if endpoint_url is not None:
        client_kwargs["endpoint_url"] = endpoint_url
    return {"session": session, "client_kwargs": client_kwargs}


def _obstore_dict(credentials: AwsCredentials) -> dict[str, Any]:
    return {
        "access_key_id": credentials.aws_access_key_id,
        "secret_access_key": credentials.aws_secret_access_key,
        "token": credentials.aws_session_token,
        "expires_at": credentials.expiration,
    }


class ObstoreCredentials:
    """An obstore ``credential_provider`` (sync): ``S3Store(bucket,
    credential_provider=provider)``; obstore calls it again before the keys expire."""

    def __init__(self, fetch: SyncFetch) -> None:
        self._fetch = fetch

    def __repr__(self) -> str:
        return "ObstoreCredentials()"

    def __call__(self) -> dict[str, Any]:
        """The current credentials in obstore's ``S3Credential`` shape."""
        return _obstore_dict(self._fetch())


class AsyncObstoreCredentials:
    """An obstore ``credential_provider`` (async, for obstore's async API under asyncio)."""

    def __init__(self, fetch: AsyncFetch) -> None:
        self._fetch = fetch

    def __repr__(self) -> str:
        return "AsyncObstoreCredentials()"

    async def __call__(self) -> dict[str, Any]:
        """The current credentials in obstore's ``S3Credential`` shape."""
        return _obstore_dict(await self._fetch())
