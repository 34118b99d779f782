"""UserService (``client.user``): profile, OIDC userinfo, anonymized ids, AWS credentials.

No HTTP code of its own: every request goes through the client's :class:`Requester` (auth, retries,
error translation). Userinfo (C50, C51) and AWS credentials are cached with single-flight
fills, so concurrent callers share one request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._errors import ConfigError, InvalidResponseError
from ._aws import AwsCredentials, parse_aws_credentials
from ._json import decode_json, invalid_response, json_object
from ._single_flight import SingleFlightCache

if TYPE_CHECKING:
    from .._http import Requester

__all__ = ["UserService"]


def _strings(name: str, values: Sequence[str]) -> list[str]:
    if isinstance(values, (str, bytes)) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{name} must be a sequence of strings (e.g. a list), got {values!r}")
    return list(values)


def _role_path(role: str) -> str:
    if not isinstance(role, str) or not role.strip() or "/" in role:
        raise ConfigError(
            f"role must be a non-empty role name without '/', got {role!r} "
            "(for example 's3-miniseed')"
        )
    return "beta/user/credentials/aws/" + quote(role, safe="")


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

    async def get_profile(self) -> dict[str, Any]:
        """The user's EarthScope profile (``GET beta/user/profile``).

        Raises:
            ApiError: the API refused, failed, or did not answer a JSON object.
        """
        response = await self._requester.request("GET", "beta/user/profile")
        return json_object(response, "user profile")

    async def get_userinfo(self, *, refresh: bool = False) -> dict[str, Any]:
        """The OIDC userinfo claims of the signed-in user (``GET {domain}userinfo``).

        Cached per access token for ``userinfo_ttl`` seconds (C51); ``refresh=True``
        bypasses the cache. Concurrent callers share one request.

        Raises:
            ConfigError: ``settings.scope`` lacks ``openid``, which userinfo needs (C50).
            InvalidResponseError: the answer's ``sub`` is missing or differs from the held
                id token's (C50).
            ApiError: the identity provider refused or failed.
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
            self._check_subject(info)
            return info, self.userinfo_ttl

        return dict(await self._userinfo.get(key, fetch, force=refresh))

    def _check_subject(self, info: dict[str, Any]) -> None:
        sub = info.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidResponseError(
                "userinfo answered without a 'sub' claim; the identity provider is "
                "misbehaving, try again later",
                status_code=200,
            )
        tokens = self._requester.tokens.tokens
        claims = tokens.id_claims if tokens is not None else None
        expected = claims.get("sub") if claims else None
        if isinstance(expected, str) and expected != sub:
            raise InvalidResponseError(
                "userinfo describes another user than the held id token (the 'sub' claims "
                "differ, C50); log out and log in again",
                status_code=200,
                error="sub_mismatch",
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
        self, role: str = "s3-miniseed", *, force: bool = False
    ) -> AwsCredentials:
        """Temporary AWS credentials for ``role`` (``GET beta/user/credentials/aws/{role}``).

        Reused until ``aws_refresh_margin`` seconds before they expire; ``force=True``
        fetches new ones. Concurrent callers for one role share one request.

        Raises:
            ConfigError: ``role`` is empty or contains ``/``.
            ApiError: the API refused or failed, or a field is missing or ill-typed (the
                message names it).
        """
        path = _role_path(role)

        async def fetch() -> tuple[AwsCredentials, float]:
            response = await self._requester.request("GET", path)
            try:
                credentials = parse_aws_credentials(decode_json(response, "AWS credentials"))
            except ValueError as exc:
                raise invalid_response(response, "AWS credentials", str(exc)) from None
            left = (credentials.expiration - self._requester.clock.now()).total_seconds()
            return credentials, left - self.aws_refresh_margin

        return await self._aws.get(role, fetch, force=force)
