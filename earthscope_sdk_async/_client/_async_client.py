"""AsyncEarthScopeClient: settings + token manager + auth + one HTTP pool + services."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from .._auth import EarthScopeAuth
from .._aws import AwsCredentialsRequest, as_request
from .._clock import Clock, SystemClock
from .._download import (
    ChecksumOption,
    DownloadReport,
    DownloadResult,
    DownloadSource,
    ProgressOption,
    run_download,
)
from .._download._batch import DownloadItem, check_source
from .._download._route import Router, direct
from .._errors import ClientClosedError, ConfigError
from .._flows import Prompt
from .._http import Requester
from .._http._pool import chosen_backend, new_http_client
from .._manager import TokenManager
from .._retry import RetryPolicy, SharedPause
from .._s3._access import S3Access
from .._settings import Settings
from .._stores import FileTokenStore, TokenStore
from .._tokens import Tokens
from .._version import __version__
from ._legacy_store import LegacyFallbackStore
from ._loop_pool import (
    LoopBinding,
    asyncio_loop_ref,
    bind_to_current_loop,
    bound_here,
    running_asyncio_loop,
)
from ._prompt import default_prompt
from ._user import UserService

if TYPE_CHECKING:
    from .._data import DataService
    from .._discover import DiscoveryService
    from .._dropoff import DropoffOptions, DropoffService

__all__ = ["AsyncEarthScopeClient"]

logger = logging.getLogger(__name__)

USER_AGENT = f"earthscope-sdk-async/{__version__}"


def default_store(settings: Settings) -> TokenStore:
    """``~/.earthscope/<profile>/tokens.json`` (the file earthscope-sdk 1.x and ``es`` use),
    falling back read-only to earthscope-cli 0.x's ``sso_tokens.json`` while it is missing."""
    return LegacyFallbackStore(FileTokenStore(settings.tokens_file), settings.legacy_tokens_file)


class AsyncEarthScopeClient:
    """The async EarthScope client. Use it as an async context manager (or call ``aclose()``).

    ``settings=None`` means :meth:`Settings.load` (environment, config file, defaults).
    ``store`` defaults to the earthscope-sdk 1.x token file of the profile (reading
    earthscope-cli 0.x's file while that one is missing). ``http_client`` lets you bring
    your own ``httpx.AsyncClient`` (the client then does not close it). ``clock`` is used
    for expiry, back-off and caches (tests pass a scaled or fake clock); ``retry`` bounds
    the retries of API calls; ``dropoff`` says where uploads go (default: from the
    ``ES_DROPOFF__*`` environment variables). The constructor does no I/O.

    The client is not bound to an event loop: it may be used in one ``asyncio.run`` and
    then another (or under trio). The connection pool it creates is per event loop and is
    closed when its loop ends (or by :meth:`aclose`).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        dropoff: DropoffOptions | None = None,
    ) -> None:
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        self.settings = settings if settings is not None else Settings.load()
        self.store = store if store is not None else default_store(self.settings)
        self.clock: Clock = clock if clock is not None else SystemClock()
        """Time source for token expiry, retry back-off and caches."""
        self.retry_policy = retry if retry is not None else RetryPolicy()
        """How API calls are retried (see :class:`RetryPolicy`)."""
        self.tokens = TokenManager(self.settings, store=self.store, clock=self.clock)
        self.auth = EarthScopeAuth(self.tokens)
        self._pause = SharedPause(self.clock)
        self.requester = Requester(
            settings=self.settings,
            http=lambda: self.http,
            tokens=self.tokens,
            clock=self.clock,
            policy=self.retry_policy,
            pause=self._pause,
        )
        """The one way this client's services reach the API (retries, shared 429 pause)."""
        self.user = UserService(self.requester)
        """The signed-in user's endpoints: profile, userinfo, anonymized ids, AWS credentials."""
        self._discover: DiscoveryService | None = None
        self._data: DataService | None = None
        self._dropoff_options = dropoff
        self._dropoff: DropoffService | None = None
        self._http = http_client
        self._owns_http = http_client is None
        self._binding: LoopBinding | None = None
        self._bound_loop: Callable[[], object] = asyncio_loop_ref()
        """The asyncio loop the pool is bound to, weakly (returns ``None`` otherwise)."""
        self._closed = False

    def __repr__(self) -> str:
        s = self.settings
        return f"AsyncEarthScopeClient(profile={s.profile!r}, api_url={s.api_url!r})"

    @property
    def dropoff(self) -> DropoffService:
        """Dropoff: list, inspect and upload miniSEED, assembled data and StationXML."""
        service = self._dropoff
        if service is None:
            from .._dropoff import DropoffOptions, DropoffService
            from .._s3._credentials import S3Credentials

            options = self._dropoff_options or DropoffOptions.from_env()
            credentials = S3Credentials(self.user, AwsCredentialsRequest(options.role))
            service = self._dropoff = DropoffService(
                self.requester, credentials=credentials, options=options
            )
        return service

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncEarthScopeClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP pool (when the client created it); idempotent. Any later call
        raises :class:`ClientClosedError`."""
        self._closed = True
        http, self._http = self._http, None
        binding, self._binding = self._binding, None
        if http is not None and self._owns_http:
            if binding is None:
                await http.aclose()
            elif bound_here(self, http):
                await binding.aclose()  # closes the pool
            # else: the pool belongs to another event loop, which closes it when it ends
        self.auth.close()
        await self.tokens.aclose()  # one last save attempt if a save failed, then close

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("this AsyncEarthScopeClient is closed; create a new one")

    @property
    def http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` carrying :attr:`auth`, the configured timeouts, our user
        agent and a keep-alive pool sized for bulk work, on the backend of
        ``settings.http_backend`` (aiohttp on asyncio when installed, else httpcore). Created
        on first use, and again when used from another event loop than the one it was made
        for."""
        self._check_open()
        if not self._owns_http:
            assert self._http is not None
            return self._http
        pool = self._http
        if pool is not None and self._binding is not None:
            loop = running_asyncio_loop()
            if loop is not None and loop is self._bound_loop():
                return pool  # the asyncio loop it is bound to (spares the registry lookup)
            if bound_here(self, pool) is False:
                logger.debug("used from another event loop: opening a new connection pool")
                pool, self._binding = None, None  # the old loop closes (or closed) the old pool
        if pool is None:
            pool = self._new_pool()
        if self._binding is None:
            self._binding = bind_to_current_loop(self, pool)
            self._bound_loop = asyncio_loop_ref()
        self._http = pool
        return pool

    def _new_pool(self) -> httpx.AsyncClient:
        s = self.settings
        return new_http_client(
            chosen_backend(s.http_backend),
            auth=self.auth,
            timeout=httpx.Timeout(s.timeout_read, connect=s.timeout_connect),
            headers={"User-Agent": USER_AGENT},
        )

    # -- services ------------------------------------------------------------------------

    @property
    def discover(self) -> DiscoveryService:
        """Find networks, stations, sessions and streams (``beta/discover``)."""
        if self._discover is None:
            from .._discover import DiscoveryService

            self._discover = DiscoveryService(self.requester)
        return self._discover

    @property
    def data(self) -> DataService:
        """GNSS data products as Arrow tables (needs the ``arrow`` extra)."""
        if self._data is None:
            from .._data import DataService

            self._data = DataService(self.requester, self.discover)
        return self._data

    # -- API requests ----------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        url_or_path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """:meth:`Requester.request` (kept for tests and callers of the old private name)."""
        return await self.requester.request(
            method, url_or_path, json=json, params=params, headers=headers, retry=retry
        )

    # -- files -----------------------------------------------------------------------------

    async def download(
        self,
        urls: DownloadSource,
        dest: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        overwrite: bool = False,
        progress: ProgressOption = None,
        retries: int | None = None,
        per_file_timeout: float | None = None,
        checksum: ChecksumOption = None,
        checksum_algorithm: str = "sha256",
        aws_role: str | AwsCredentialsRequest | None = None,
        aws_params: Mapping[str, str | int] | None = None,
        stall_timeout: float | None = 60.0,
    ) -> DownloadReport:
        """Download many files into the directory ``dest``, ``concurrency`` at a time.

        ``urls`` (an iterable or async iterable, consumed lazily) holds URLs, saved as
        ``dest/<last path segment>``, or ``(url, relative path)`` pairs; names with ``..``,
        absolute paths and the like fail that item. Each file is streamed to
        ``<name>.part``, resumed with a range request when a ``.part`` exists, and renamed
        when complete. Existing files are skipped (no request) unless ``overwrite``.
        Failures are retried like API calls (429, 5xx, network errors, truncated bodies;
        ``retries`` = attempts per file, default ``retry_policy.max_attempts``), a 429
        pausing the whole batch. ``per_file_timeout`` bounds each file, in seconds;
        ``stall_timeout`` (default 60 s, ``None``: off) fails an attempt that gets less than
        1 KiB in that many seconds (silence, or a trickle), which is then retried.
        Bodies are saved exactly as sent: a compressed ``Content-Encoding`` (sent although
        identity was asked for) is saved undecoded, and a body longer than its
        ``Content-Length`` fails without anything past that length being written.
        ``progress`` gets a :class:`DownloadProgress` at most ~10 times a second and once
        at the end; ``progress=True`` shows a bar (tqdm's when installed, which also works
        in Jupyter, else one line of text on stderr). ``checksum`` gives each URL's expected
        hex digest (a mapping, or a callable returning the digest or ``None``), computed
        with ``checksum_algorithm`` while the file streams: a mismatch deletes the
        ``.part`` file and downloads it once more from scratch, then fails the file.

        ``s3://bucket/key`` URLs (the ``s3`` extra) need ``aws_role`` (e.g.
        ``"s3-miniseed-v2"``, or an :class:`AwsCredentialsRequest`) and its ``aws_params``
        (e.g. ``{"network": "IU", "year": 2024}``): they are downloaded by the same engine,
        as SigV4-signed requests to ``settings.s3_endpoint_url`` (AWS by default) in
        ``settings.s3_region``, each attempt signed with credentials refreshed before they
        expire. An ``s3://bucket/prefix/`` item (ending in ``/``) stands for every object
        under it (listed page by page as the batch goes), saved under its key relative to
        the prefix: run the same call again to complete a mirror (complete files are
        skipped). S3's refusals are :class:`S3Error` results (``code``: ``AccessDenied``,
        ``NoSuchKey``, ``SignatureDoesNotMatch``, ...); credentials S3 refuses (expired, or
        just rotated) are refreshed and the request sent once more; a prefix whose listing
        fails is one failed result (``path=None``) and the other items go on.

        Returns a :class:`DownloadReport` (one result per item, in input order); failures
        do not raise: call ``report.raise_for_failures()`` for a :class:`DownloadError`.

        Raises:
            ConfigError: an invalid option.
            DownloadError: ``dest`` cannot be created.
            AwsRoleDeniedError: EarthScope refused AWS credentials for ``aws_role``.
            ClientClosedError: the client was closed.
        """
        self._check_open()
        check_source(urls)
        route: Router = direct
        items: AsyncIterator[DownloadItem | DownloadResult] | None = None
        if aws_role is not None:
            access = S3Access(self.requester, self.user, as_request(aws_role, aws_params or {}))
            await access.credentials.get()  # a refused role fails the call, not every item
            route, items = access.route, access.expand(urls)
        elif aws_params:
            raise ConfigError("aws_params needs aws_role (e.g. aws_role='s3-miniseed-v2')")
        async with _closing(items):
            return await run_download(
                self.requester,
                items if items is not None else urls,
                dest,
                concurrency=concurrency,
                overwrite=overwrite,
                progress=progress,
                retries=retries,
                per_file_timeout=per_file_timeout,
                checksum=checksum,
                checksum_algorithm=checksum_algorithm,
                route=route,
                stall_timeout=stall_timeout,
            )

    # -- authentication --------------------------------------------------------------------

    async def login(self, prompt: Prompt | None = None) -> Tokens:
        """Log in: the device flow (``prompt`` shows the code; by default it is printed and a
        browser opened when possible), or client credentials when a secret is configured."""
        self._check_open()
        self.user.clear_cache()
        return await self.tokens.login(prompt or default_prompt)

    async def logout(self, *, revoke: bool = True) -> bool:
        """Revoke the refresh token (unless ``revoke=False``) and delete the stored tokens.
        Returns False when server-side revocation failed (the local tokens are gone anyway)."""
        self._check_open()
        self.user.clear_cache()
        return await self.tokens.logout(revoke=revoke)

    async def get_access_token(self) -> str:
        """A valid access token, refreshed if needed (single flight)."""
        self._check_open()
        return await self.tokens.get_access_token()

    async def refresh(self, *, force: bool = True) -> Tokens:
        """Refresh the tokens now (``force=False``: only if they are not fresh)."""
        self._check_open()
        return await self.tokens.refresh(force=force)


@contextlib.asynccontextmanager
async def _closing(
    generator: AsyncIterator[DownloadItem | DownloadResult] | None,
) -> AsyncIterator[None]:
    """Close ``generator`` (an expanded source) however the download ends."""
    try:
        yield
    finally:
        if generator is not None:
            await generator.aclose()  # type: ignore[attr-defined]
