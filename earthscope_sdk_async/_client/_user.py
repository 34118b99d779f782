"""UserService (``client.user``): profile, OIDC userinfo, anonymized ids, AWS credentials.

No HTTP code of its own: every request goes through the client's :class:`Requester` (auth, retries,
error translation). Userinfo (C50, C51) and AWS credentials are cached with single-flight
fills, so concurrent callers share one request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._aws import (
    CURRENT_ROLE,
    AwsCredentials,
    AwsCredentialsRequest,
    parse_aws_credentials,
    resolve_request,
    threshold_seconds,
)
from .._errors import ApiError, AwsRoleDeniedError, ConfigError
from .._http._json import decode_json, invalid_response, json_object
from .._s3._tools import TOOL_THRESHOLD, AsyncObstoreCredentials, aioboto3_session
from ._profile import UserProfile, parse_user_profile
from ._single_flight import SingleFlightCache

if TYPE_CHECKING:
    import httpx

    from .._http import Requester

__all__ = ["UserService"]


def _strings(name: str, values: Sequence[str]) -> list[str]:
    if isinstance(values, (str, bytes)) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{name} must be a sequence of strings (e.g. a list), got {values!r}")
    return list(values)


class UserService:
    """The signed-in user's endpoints; reach it as ``client.user``.

    ``anon_lookup_path`` is the path (relative to ``api_url``) of the anonymized-id lookup;
    ``userinfo_ttl`` how long userinfo is cached per access token (Auth0 allows 5 calls per
    minute per user, C51); AWS credentials are reused until ``aws_refresh_margin`` seconds
    before they expire.
    """

    def __init__(
        self,
        requester: Requester,
        *,
        anon_lookup_path: str = "user/anon/",
        userinfo_ttl: float = 60.0,
        aws_refresh_margin: float = 300.0,
    ) -> None:
        self._requester = requester
        self.anon_lookup_path = anon_lookup_path
        self.userinfo_ttl = userinfo_ttl
        self.aws_refresh_margin = aws_refresh_margin
        self._userinfo: SingleFlightCache[str, dict[str, Any]] = SingleFlightCache(requester.clock)
        self._aws: SingleFlightCache[str, AwsCredentials] = SingleFlightCache(requester.clock)

    def __repr__(self) -> str:
        return f"UserService({self._requester!r})"

    def clear_cache(self) -> None:
        """Forget cached userinfo and AWS credentials (done on login and logout)."""
        self._userinfo.clear()
        self._aws.clear()

    async def get_profile(self) -> UserProfile:
        """The user's EarthScope profile (``GET beta/user/profile``), typed as in
        earthscope-sdk 1.9.3; fields newer than the model are in ``profile.raw``.

        Raises:
            ApiError: the API refused or failed, or its answer is not a usable profile (not
                a JSON object, or a field missing or ill-typed: the message names it).
        """
        response = await self._requester.request("GET", "beta/user/profile")
        try:
            return parse_user_profile(decode_json(response, "user profile"))
        except ValueError as exc:
            raise invalid_response(response, "user profile", str(exc)) from None

    async def get_userinfo(self, *, refresh: bool = False) -> dict[str, Any]:
        """The OIDC userinfo claims of the signed-in user (``GET {domain}userinfo``).

        Cached per access token for ``userinfo_ttl`` seconds (C51); ``refresh=True``
        bypasses the cache. Concurrent callers share one request.

        Raises:
            ConfigError: ``settings.scope`` lacks ``openid``, which userinfo needs (C50).
            ApiError: the identity provider refused or failed, or its answer is unusable
                (not a JSON object; ``sub`` missing or differing from the held id token's, C50).
        """
        settings = self._requester.settings
        if "openid" not in settings.scope.split():
            raise ConfigError(
                f"userinfo needs the 'openid' scope (C50), but the configured scope is "
                f"{settings.scope!r}: add openid (e.g. ES_OAUTH2__SCOPE='openid profile email "
                "offline_access') and log in again"
            )
        token = await self._requester.tokens.get_access_token()
        key = hashlib.sha256(token.encode()).hexdigest()

        async def fetch() -> tuple[dict[str, Any], float]:
            response = await self._requester.request(
                "GET", settings.userinfo_url, headers={"Authorization": f"Bearer {token}"}
            )
            info = json_object(response, "userinfo")
            self._check_subject(response, info)
            return info, self.userinfo_ttl

        return dict(await self._userinfo.get(key, fetch, force=refresh))

    def _check_subject(self, response: httpx.Response, info: dict[str, Any]) -> None:
        sub = info.get("sub")
        if not isinstance(sub, str) or not sub:
            raise invalid_response(response, "userinfo", "it has no 'sub' claim")
        tokens = self._requester.tokens.tokens
        claims = tokens.id_claims if tokens is not None else None
        expected = claims.get("sub") if claims else None
        if isinstance(expected, str) and expected != sub:
            raise invalid_response(
                response,
                "userinfo",
                "it describes another user than the held id token (the 'sub' claims differ, "
                "C50); log out and log in again",
            )

    async def lookup_anon(self, *, ids: Sequence[str] = (), emails: Sequence[str] = ()) -> Any:
        """Anonymized ids for user ids and e-mail addresses (``POST user/anon/``).

        Returns the decoded JSON answer as is.

        Raises:
            ConfigError: ``ids`` or ``emails`` is not a sequence of strings.
            ApiError: the API refused, failed, or did not answer JSON.
        """
        body = {"ids": _strings("ids", ids), "emails": _strings("emails", emails)}
        response = await self._requester.request("POST", self.anon_lookup_path, json=body)
        return decode_json(response, "anonymized id lookup")

    async def get_aws_credentials(
        self,
        /,
        *,
        role: str | AwsCredentialsRequest | None = None,
        force: bool = False,
        ttl_threshold: timedelta | float | None = None,
        **params: str | int,
    ) -> AwsCredentials:
        """Temporary AWS credentials for ``role`` (``GET beta/user/credentials/aws/{role}``).

        ``params`` (strings or integers, e.g. ``network="IU", year=2024`` for
        ``s3-miniseed-v2``) go in the query string; ``role`` may also be an
        :class:`AwsCredentialsRequest` carrying them. Credentials are cached per role and
        parameters, normalised (``year=2024`` and ``year="2024"`` share one entry), and
        reused until ``ttl_threshold`` (a timedelta or seconds; default
        ``aws_refresh_margin``, 5 minutes) before they expire; ``force=True`` fetches new
        ones. Concurrent callers for one key share one request.

        Without ``role``, the legacy role ``s3-miniseed`` is used and a
        ``DeprecationWarning`` is emitted: EarthScope plans to remove that role in 2027,
        use ``role="s3-miniseed-v2"`` (with optional ``network`` and ``year``).

        Raises:
            ConfigError: ``role`` is empty or contains ``/``, a parameter is not a string or
                an integer, or parameters are given besides an ``AwsCredentialsRequest``.
            AwsRoleDeniedError: EarthScope refused (403): the role is unknown or not allowed.
            ApiError: the API refused or failed otherwise, or a field is missing or
                ill-typed (the message names it).
        """
        request = resolve_request(role, params, stacklevel=2)
        margin = threshold_seconds(ttl_threshold, self.aws_refresh_margin)
        key = request.cache_key()
        hit = self._aws.fresh(key)
        if not force and hit is not None and not hit.is_expired(margin, now=self._now()):
            return hit
        return await self._aws.get(key, lambda: self._fetch_aws(request), force=True)

    def aws_fetcher(
        self, request: AwsCredentialsRequest, *, ttl_threshold: float = TOOL_THRESHOLD
    ) -> Callable[[], Awaitable[AwsCredentials]]:
        """A coroutine function returning credentials for ``request`` with at least
        ``ttl_threshold`` seconds left, from this service's cache (for S3 tools)."""

        async def fetch() -> AwsCredentials:
            return await self.get_aws_credentials(role=request, ttl_threshold=ttl_threshold)

        return fetch

    async def get_aioboto3_session(
        self, /, *, role: str | AwsCredentialsRequest | None = None, **params: str | int
    ) -> Any:
        """An ``aioboto3.Session`` with EarthScope credentials for ``role`` and ``params``
        that refresh themselves before they expire (needs the ``aioboto3`` extra).

        Use it in the event loop that called this (the async client's loop). For a
        non-AWS endpoint pass ``endpoint_url=client.settings.s3_endpoint_url`` to
        ``session.client("s3", ...)``. Without ``role``: the legacy role, with a
        ``DeprecationWarning`` (see :meth:`get_aws_credentials`).

        Raises:
            ConfigError: aioboto3 is not installed, or a bad role or parameter.
            AwsRoleDeniedError: EarthScope refused credentials for the role.
        """
        request = resolve_request(role, params, stacklevel=2)
        region = self._requester.settings.s3_region
        return await aioboto3_session(self.aws_fetcher(request), region=region)

    async def get_obstore_credential_provider(
        self, /, *, role: str | AwsCredentialsRequest | None = None, **params: str | int
    ) -> AsyncObstoreCredentials:
        """An async obstore ``credential_provider`` for ``role`` and ``params``:
        ``obstore.store.S3Store(bucket, region=..., credential_provider=provider)``.

        Raises:
            ConfigError: a bad role or parameter.
        """
        request = resolve_request(role, params, stacklevel=2)
        return AsyncObstoreCredentials(self.aws_fetcher(request))

    def _now(self) -> datetime:
        return self._requester.clock.now()

    async def _fetch_aws(self, request: AwsCredentialsRequest) -> tuple[AwsCredentials, float]:
        try:
            response = await self._requester.request(
                "GET", request.build_path(), params=request.build_params() or None
            )
        except ApiError as exc:
            if exc.status_code != 403 or isinstance(exc, AwsRoleDeniedError):
                raise
            raise AwsRoleDeniedError(
                f"EarthScope refused AWS credentials for role {request.role!r} (403): the "
                "role is unknown, or your account may not assume it with these parameters. "
                f"Check the role name (for miniSEED: {CURRENT_ROLE!r}) and your access.",
                role=request.role,
                status_code=403,
                detail=exc.detail,
                request_id=exc.request_id,
                url=exc.url,
            ) from exc
        try:
            credentials = parse_aws_credentials(decode_json(response, "AWS credentials"))
        except ValueError as exc:
            raise invalid_response(response, "AWS credentials", str(exc)) from None
        # Kept until they expire; each caller judges freshness with its own threshold.
        return credentials, credentials.ttl_at(self._now()).total_seconds()
