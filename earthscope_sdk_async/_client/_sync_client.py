"""EarthScopeClient: the blocking facade of :class:`AsyncEarthScopeClient`.

One :class:`~earthscope_sdk_async._portal.PortalThread` (an event loop in a daemon thread)
per client. The :class:`AsyncEarthScopeClient` is created and closed inside that loop, and
every method is derived from its async twin with :func:`sync_method`: no behaviour lives
here, only the way across threads. Works from plain scripts, from many threads at once, and
from a thread whose own event loop is running (Jupyter). Ctrl-C while a call waits cancels
the underlying coroutine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

from .._auth import EarthScopeAuth
from .._aws import AwsCredentials, AwsCredentialsRequest, resolve_request
from .._clock import Clock
from .._dropoff._service import DropoffService
from .._errors import ClientClosedError
from .._facade import SyncFacade, sync_method
from .._manager import TokenManager
from .._portal import PortalThread
from .._retry import RetryPolicy
from .._s3._tools import TOOL_THRESHOLD, ObstoreCredentials, boto3_session, s3fs_storage_options
from .._settings import Settings
from .._stores import TokenStore
from ._async_client import AsyncEarthScopeClient
from ._user import UserService

if TYPE_CHECKING:
    from .._data import SyncDataService, SyncDiscoveryService
    from .._dropoff import DropoffOptions

__all__ = ["EarthScopeClient", "SyncDropoffService", "SyncUserService"]


_Run: TypeAlias = "Callable[[str, tuple[Any, ...], dict[str, Any]], Any]"
"""Runs ``await <async client>.<dotted name>(*args, **kwargs)`` in the client's loop."""


class SyncUserService(SyncFacade[UserService]):
    """``client.user`` of :class:`EarthScopeClient`: the :class:`UserService` methods, sync."""

    def __init__(self, client: EarthScopeClient, run: _Run) -> None:
        self._client = client
        self._run = run

    def __repr__(self) -> str:
        return f"SyncUserService({self._client!r})"

    def _run_method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._run("user." + name, args, kwargs)

    get_profile = sync_method(UserService.get_profile)
    get_userinfo = sync_method(UserService.get_userinfo)
    lookup_anon = sync_method(UserService.lookup_anon)
    get_aws_credentials = sync_method(UserService.get_aws_credentials)

    # -- S3 tools (sync only; glue around get_aws_credentials, no behaviour of their own) --

    def _fetcher(self, role: object, params: dict[str, str | int]) -> Callable[[], AwsCredentials]:
        request = resolve_request(role, params, stacklevel=3)

        def fetch() -> AwsCredentials:
            return self.get_aws_credentials(role=request, ttl_threshold=TOOL_THRESHOLD)

        return fetch

    def get_boto3_session(
        self, *, role: str | AwsCredentialsRequest | None = None, **params: str | int
    ) -> Any:
        """A ``boto3.Session`` with EarthScope credentials for ``role`` and ``params`` that
        refresh themselves before they expire (needs the ``boto3`` extra); its clients may
        be used from any thread. For a non-AWS endpoint pass
        ``endpoint_url=client.settings.s3_endpoint_url`` to ``session.client("s3", ...)``.

        Raises:
            ConfigError: boto3 is not installed, or a bad role or parameter.
            AwsRoleDeniedError: EarthScope refused credentials for the role.
        """
        fetch = self._fetcher(role, params)
        return boto3_session(fetch, region=self._client.settings.s3_region)

    def get_s3fs_storage_options(
        self, *, role: str | AwsCredentialsRequest | None = None, **params: str | int
    ) -> dict[str, Any]:
        """``storage_options`` for s3fs/fsspec, xarray and Dask readers in this process,
        with credentials that refresh themselves (needs the ``s3fs`` extra). The endpoint
        and region come from the settings.

        Raises:
            ConfigError: s3fs is not installed, or a bad role or parameter.
            AwsRoleDeniedError: EarthScope refused credentials for the role.
        """
        fetch = self._fetcher(role, params)
        settings = self._client.settings
        return s3fs_storage_options(
            fetch, region=settings.s3_region, endpoint_url=settings.s3_endpoint_url
        )

    def get_obstore_credential_provider(
        self, *, role: str | AwsCredentialsRequest | None = None, **params: str | int
    ) -> ObstoreCredentials:
        """An obstore ``credential_provider`` (sync) for ``role`` and ``params``:
        ``obstore.store.S3Store(bucket, region=..., credential_provider=provider)``.

        Raises:
            ConfigError: a bad role or parameter.
        """
        return ObstoreCredentials(self._fetcher(role, params))


class SyncDropoffService(SyncFacade[DropoffService]):
    """``client.dropoff`` of :class:`EarthScopeClient`: the :class:`DropoffService` methods,
    sync (callbacks run in the client's loop thread)."""

    def __init__(self, client: EarthScopeClient, run: _Run) -> None:
        self._client = client
        self._run = run

    def __repr__(self) -> str:
        return f"SyncDropoffService({self._client!r})"

    def _run_method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._run("dropoff." + name, args, kwargs)

    list_objects = sync_method(DropoffService.list_objects)
    list_all_objects = sync_method(DropoffService.list_all_objects)
    get_object_history = sync_method(DropoffService.get_object_history)
    get_all_object_history = sync_method(DropoffService.get_all_object_history)
    get_summary = sync_method(DropoffService.get_summary)
    put_object = sync_method(DropoffService.put_object)
    put_objects = sync_method(DropoffService.put_objects)


class EarthScopeClient(SyncFacade[AsyncEarthScopeClient]):
    """The blocking EarthScope client: the methods of :class:`AsyncEarthScopeClient`, sync.

    Use it as a context manager (or call :meth:`close`). The arguments are those of
    :class:`AsyncEarthScopeClient` but ``http_client`` (an ``httpx.AsyncClient`` belongs to
    the loop that uses it, and this loop is the client's own). Nothing happens until the
    first call (or ``with``), which starts the client's event loop thread and creates the
    async client in it. One client may be shared by many threads, and used from a thread
    whose own event loop runs (Jupyter). Callbacks such as a ``login`` prompt (a plain
    function is fine) run in the loop thread. Ctrl-C during a call cancels it.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: TokenStore | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        dropoff: DropoffOptions | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "store": store,
            "clock": clock,
            "retry": retry,
            "dropoff": dropoff,
        }
        self._explicit_settings = settings
        self._portal = PortalThread(name="earthscope-client")
        self._async: AsyncEarthScopeClient | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._user = SyncUserService(self, self._run_method)
        self._discover: SyncDiscoveryService | None = None
        self._data: SyncDataService | None = None
        self._dropoff = SyncDropoffService(self, self._run_method)

    def __repr__(self) -> str:
        client = self._async
        settings = client.settings if client is not None else self._explicit_settings
        state = "closed" if self._closed else "open" if client is not None else "not started"
        if settings is None:
            return f"EarthScopeClient({state})"
        where = f"profile={settings.profile!r}, api_url={settings.api_url!r}"
        return f"EarthScopeClient({where}, {state})"

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> EarthScopeClient:
        self._target()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the async client in its loop, then stop the loop thread; idempotent.

        Calls still running in other threads are cancelled; every later call raises
        :class:`ClientClosedError`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            client = self._async
        try:
            if client is not None and self._portal.started:
                self._portal.call(client.aclose)
        finally:
            self._portal.stop()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    # -- the async client ------------------------------------------------------------------

    @property
    def async_client(self) -> AsyncEarthScopeClient:
        """The :class:`AsyncEarthScopeClient` behind this facade (lives in its loop thread)."""
        return self._target()

    @property
    def user(self) -> SyncUserService:
        """The signed-in user's endpoints (profile, userinfo, anonymized ids, AWS credentials)."""
        return self._user

    @property
    def discover(self) -> SyncDiscoveryService:
        """Find networks, stations, sessions and streams (blocking)."""
        if self._discover is None:
            from .._data import SyncDiscoveryService

            self._discover = SyncDiscoveryService(self._run_method)
        return self._discover

    @property
    def data(self) -> SyncDataService:
        """GNSS data products as Arrow tables: blocking plans (``plan.fetch()``)."""
        if self._data is None:
            from .._data import SyncDataService

            self._data = SyncDataService(lambda: self._target().data, self._call)
        return self._data

    def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self._target()
        return self._portal.call(func, *args, **kwargs)

    @property
    def dropoff(self) -> SyncDropoffService:
        """Dropoff: list, inspect and upload miniSEED, assembled data and StationXML."""
        return self._dropoff

    @property
    def settings(self) -> Settings:
        """The resolved :class:`Settings`."""
        return self._target().settings

    @property
    def tokens(self) -> TokenManager:
        """The :class:`TokenManager` (async; ``cached_access_token()`` is sync)."""
        return self._target().tokens

    @property
    def auth(self) -> EarthScopeAuth:
        """The :class:`EarthScopeAuth` (usable with ``httpx.Client`` and ``httpx.AsyncClient``)."""
        return self._target().auth

    def _target(self) -> AsyncEarthScopeClient:
        client = self._async
        if client is None or self._closed:
            with self._lock:
                if self._closed:
                    raise ClientClosedError("this EarthScopeClient is closed; create a new one")
                if self._async is None:
                    self._async = self._portal.call(self._open)
                client = self._async
        return client

    async def _open(self) -> AsyncEarthScopeClient:
        client = AsyncEarthScopeClient(self._explicit_settings, **self._options)
        return await client.__aenter__()

    def _run_method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self._portal.call(_await_method, self._target(), name, args, kwargs)

    # -- authentication --------------------------------------------------------------------

    login = sync_method(AsyncEarthScopeClient.login)
    logout = sync_method(AsyncEarthScopeClient.logout)
    get_access_token = sync_method(AsyncEarthScopeClient.get_access_token)
    refresh = sync_method(AsyncEarthScopeClient.refresh)

    # -- files -----------------------------------------------------------------------------

    download = sync_method(AsyncEarthScopeClient.download)


async def _await_method(
    target: object, path: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``await target.<path>(*args, **kwargs)``; ``path`` may be dotted (``user.get_profile``),
    and is resolved here, in the loop thread, so lazily created services are created there."""
    for name in path.split("."):
        target = getattr(target, name)
    return await target(*args, **kwargs)  # type: ignore[operator]
