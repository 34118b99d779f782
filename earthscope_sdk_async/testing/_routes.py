"""Routing: one handler per endpoint; bearer checks for userinfo, the API and files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ._aws import AwsRoles
from ._catalogue import Catalogue
from ._dropoff import DropoffRegistry
from ._files import FileStore
from ._idp import AccessRecord, TokenAuthority
from ._log import RecordedRequest
from ._oauth import DEVICE_GRANT, OAuthEndpoints
from ._response import Response, json_response

__all__ = ["Router"]

_ACTIVATE = b"<!doctype html><title>Fake EarthScope</title><p>Enter your code to activate.</p>"


def _unauthorized(error: str | None, description: str) -> Response:
    challenge = 'Bearer realm="fake-earthscope"'
    if error:
        challenge += f', error="{error}", error_description="{description}"'
    return json_response(401, {"detail": description}, {"www-authenticate": challenge})


class Router:
    """Maps a recorded request to a :class:`Response` (synchronously, no I/O)."""

    def __init__(
        self,
        *,
        oauth: OAuthEndpoints,
        authority: TokenAuthority,
        files: FileStore,
        catalogue: Catalogue | None = None,
        dropoff: DropoffRegistry | None = None,
        aws: AwsRoles | None = None,
    ) -> None:
        self.dropoff = dropoff if dropoff is not None else DropoffRegistry()
        self.oauth = oauth
        self.aws = aws if aws is not None else AwsRoles()
        self.authority = authority
        self.files = files
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        self._bodies: Any = None  # the data products' body cache, made on first use
        self.base_url = ""

    def dispatch(self, request: RecordedRequest) -> Response:
        """Answer ``request``."""
        method, path = request.method, request.path
        routes: dict[str, tuple[tuple[str, ...], Callable[[RecordedRequest], Response]]] = {
            "discovery": (("GET",), self._discovery),
            "device_code": (("POST",), lambda r: self.oauth.device_authorization(r, self.base_url)),
            "token": (("POST",), self.oauth.token),
            "revoke": (("POST",), self.oauth.revoke),
            "userinfo": (("GET", "POST"), self._userinfo),
            "activate": (
                ("GET",),
                lambda r: Response(200, [("content-type", "text/html")], _ACTIVATE),
            ),
            "profile": (("GET",), self._bearer(self._profile)),
            "files": (("GET", "HEAD"), self._bearer(self._file)),
        }
        if request.endpoint == "api":
            return self._api(request)
        if request.endpoint not in routes:
            return json_response(404, {"detail": f"Not found: {path}"})
        methods, handler = routes[request.endpoint]
        if method not in methods:
            return json_response(
                405, {"detail": "Method not allowed"}, {"allow": ", ".join(methods)}
            )
        return handler(request)

    # -- auth ------------------------------------------------------------------------------

    def authenticate(self, request: RecordedRequest, audience: str) -> AccessRecord | Response:
        """The access record of the request's bearer token, or the 401 to answer (C46-C48)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized(None, "Authentication required")
        found = self.authority.check_bearer(token.strip(), audience)
        return _unauthorized("invalid_token", found) if isinstance(found, str) else found

    def _bearer(
        self, handler: Callable[[RecordedRequest, AccessRecord], Response]
    ) -> Callable[[RecordedRequest], Response]:
        def guarded(request: RecordedRequest) -> Response:
            found = self.authenticate(request, self.authority.audience)
            return found if isinstance(found, Response) else handler(request, found)

        return guarded

    # -- handlers --------------------------------------------------------------------------

    def _discovery(self, request: RecordedRequest) -> Response:
        base = self.base_url
        return json_response(
            200,
            {
                "issuer": base,
                "authorization_endpoint": base + "authorize",
                "token_endpoint": base + "oauth/token",
                "device_authorization_endpoint": base + "oauth/device/code",
                "revocation_endpoint": base + "oauth/revoke",
                "userinfo_endpoint": base + "userinfo",
                "grant_types_supported": [DEVICE_GRANT, "client_credentials", "refresh_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "response_types_supported": ["code"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "id_token_signing_alg_values_supported": ["HS256"],
            },
        )

    def _userinfo(self, request: RecordedRequest) -> Response:
        found = self.authenticate(request, self.authority.userinfo_url)
        if isinstance(found, Response):
            return found
        if "openid" not in found.scope.split():
            challenge = 'Bearer error="insufficient_scope", scope="openid"'
            return json_response(
                403, {"detail": "openid scope required"}, {"www-authenticate": challenge}
            )
        return json_response(
            200,
            {
                "sub": found.sub,
                "email": found.email,
                "email_verified": True,
                "name": "Fake User",
                "given_name": "Fake",
                "family_name": "User",
                "nickname": "fake-user",
            },
        )

    def _profile(self, request: RecordedRequest, who: AccessRecord) -> Response:
        return json_response(
            200,
            {
                "user_id": who.sub,
                "email": who.email,
                "primary_email": who.email,
                "first_name": "Fake",
                "last_name": "User",
                "country_code": "US",
                "region_code": "CO",
                "institution": "Fake University",
                "work_sector": "academic",
                "user_type": "researcher",
                "created_at": "2024-01-15T12:00:00Z",
                "updated_at": "2025-06-01T08:30:00Z",
            },
        )

    def _file(self, request: RecordedRequest, who: AccessRecord) -> Response:
        return self.files.serve(unquote(request.path[len("/files/") :]), request.headers)

    def _api(self, request: RecordedRequest) -> Response:
        path = request.path
        if path.startswith("/beta/user/credentials/aws/") and request.method == "GET":
            return self._bearer(self._aws)(request)
        if path.startswith("/beta/dropoff/") and request.method == "GET":
            return self._bearer(lambda r, who: self.dropoff.handle(r.path, r.query, who.sub))(
                request
            )
        if path.rstrip("/") == "/user/anon" and request.method == "POST":
            return self._bearer(self._anon)(request)
        if path.startswith("/beta/discover/datasource/") and request.method == "GET":
            return self._bearer(self._datasources)(request)
        if path.startswith("/beta/data-products/gnss/") and request.method == "GET":
            return self._bearer(self._data)(request)
        if path.rstrip("/") == "/api/v0/user" and request.method == "GET":  # earthscope-sdk 0.2.1
            return self._bearer(self._profile)(request)
        return json_response(404, {"detail": f"Not found: {path}"})

    def _datasources(self, request: RecordedRequest, who: AccessRecord) -> Response:
        kind = request.path.rstrip("/").rsplit("/", 1)[-1]
        query: dict[str, list[str]] = {}
        for key, value in request.query_items:
            query.setdefault(key, []).append(value)
        try:
            page = self.catalogue.page(kind, query)
        except ValueError:
            return json_response(422, {"detail": "limit and offset must be integers"})
        if page is None:
            return json_response(404, {"detail": f"Unknown datasource kind {kind!r}"})
        return json_response(200, page)

    def _data(self, request: RecordedRequest, who: AccessRecord) -> Response:
        from ._gnss import BodyCache, is_data_path, serve_data

        if not is_data_path(request.path):
            return json_response(404, {"detail": f"Not found: {request.path}"})
        if self._bodies is None:
            self._bodies = BodyCache(self.catalogue.body_cache_bytes)
        return serve_data(self.catalogue, self._bodies, request)

    def _aws(self, request: RecordedRequest, who: AccessRecord) -> Response:
        role = unquote(request.path.rsplit("/", 1)[-1])
        body = self.aws.issue(role, request.query)
        if body is None:
            return json_response(403, {"detail": f"Not authorized to assume role {role!r}"}, {})
        return json_response(200, body)

    def _anon(self, request: RecordedRequest, who: AccessRecord) -> Response:
        body: Any = request.json if isinstance(request.json, dict) else {}
        ids, emails = body.get("ids") or [], body.get("emails") or []
        if not isinstance(ids, list) or not isinstance(emails, list):
            return json_response(422, {"detail": "ids and emails must be lists"})

        def anon(value: object) -> str:
            return hashlib.sha256(str(value).encode()).hexdigest()[:16]

        found = [{"id": i, "anon_id": anon(i)} for i in ids]
        found += [{"email": e, "anon_id": anon(e)} for e in emails]
        return json_response(200, found)
