"""The OAuth endpoints: device authorization, token (three grants) and revocation."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from ._device import DeviceCodes
from ._idp import TokenAuthority
from ._log import RecordedRequest
from ._response import Response, json_response, oauth_error

__all__ = ["DEVICE_GRANT", "OAuthEndpoints"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_POLL_STATUS = {
    "authorization_pending": 403,
    "slow_down": 429,
    "access_denied": 403,
    "expired_token": 403,
    "invalid_grant": 403,
}
_POLL_TEXT = {
    "authorization_pending": "User has yet to authorize device code.",
    "slow_down": "You are polling faster than allowed. Try again in 5 seconds.",
    "access_denied": "User cancelled the confirmation prompt or consent page.",
    "expired_token": "The device_code has expired.",
    "invalid_grant": "Invalid or expired device code.",
}


def _missing(name: str) -> Response:
    return oauth_error(400, "invalid_request", f"Missing required parameter: {name}")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class OAuthEndpoints:
    """Handlers for ``oauth/device/code``, ``oauth/token`` and ``oauth/revoke``."""

    def __init__(
        self,
        *,
        authority: TokenAuthority,
        devices: DeviceCodes,
        client_id: str,
        machine_clients: Mapping[str, str],
    ) -> None:
        self.authority = authority
        self.devices = devices
        self.client_id = client_id
        self.machine_clients = dict(machine_clients)

    def _known(self, client_id: str) -> bool:
        return client_id == self.client_id or client_id in self.machine_clients

    # -- device authorization --------------------------------------------------------------

    def device_authorization(self, request: RecordedRequest, base_url: str) -> Response:
        """``POST oauth/device/code`` (RFC 8628 §3.1-3.2)."""
        params = request.params
        client_id = params.get("client_id")
        if not client_id:
            return _missing("client_id")
        if client_id != self.client_id:
            return oauth_error(401, "invalid_client", "Unknown client or client not allowed.")
        code = self.devices.create(client_id, params.get("scope", ""), params.get("audience"))
        uri = base_url + "activate"
        return json_response(
            200,
            {
                "device_code": code.device_code,
                "user_code": code.user_code,
                "verification_uri": uri,
                "verification_uri_complete": f"{uri}?user_code={code.user_code}",
                "expires_in": _int_ish(self.devices.expires_in),
                "interval": _int_ish(code.interval),
            },
        )

    # -- token -----------------------------------------------------------------------------

    def token(self, request: RecordedRequest) -> Response:
        """``POST oauth/token``."""
        grant = request.params.get("grant_type")
        if not grant:
            return _missing("grant_type")
        if grant == DEVICE_GRANT:
            return self._device_grant(request)
        if grant == "client_credentials":
            return self._client_credentials(request)
        if grant == "refresh_token":
            return self._refresh(request)
        return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")

    def _device_grant(self, request: RecordedRequest) -> Response:
        params = request.params
        for name in ("device_code", "client_id"):
            if not params.get(name):
                return _missing(name)
        if not self._known(params["client_id"]):
            return oauth_error(401, "invalid_client", "Unknown client.")
        outcome, code = self.devices.poll(
            params["device_code"], params["client_id"], request.started
        )
        try:
            if outcome != "ok" or code is None:
                return oauth_error(_POLL_STATUS[outcome], outcome, _POLL_TEXT[outcome])
            payload = self.authority.user_tokens(
                client_id=code.client_id,
                sub="auth0|fake-user",
                scope=code.scope,
                audience=code.audience,
            )
            return json_response(200, payload)
        finally:
            if code is not None:
                self.devices.responded(code)

    def _client_credentials(self, request: RecordedRequest) -> Response:
        params = request.params
        has_header = "authorization" in request.headers
        if has_header and request.basic_auth is None:
            return oauth_error(400, "invalid_request", "Malformed Authorization header.")
        if request.basic_auth and ("client_secret" in params):
            return oauth_error(
                400, "invalid_request", "Use only one client authentication method (C29)."
            )
        if request.basic_auth:
            client_id, secret = request.basic_auth
            if params.get("client_id", client_id) != client_id:
                return oauth_error(400, "invalid_request", "client_id mismatch.")
        else:
            client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        if not client_id:
            return _missing("client_id")
        if client_id == self.client_id:
            return oauth_error(
                403,
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client.",
            )
        expected = self.machine_clients.get(client_id)
        if expected is None:
            return oauth_error(401, "invalid_client", "Unknown client.")
        if not secret or not _same(secret, expected):
            return oauth_error(401, "access_denied", "Unauthorized")
        return self._machine_audience(client_id, params)

    def _machine_audience(self, client_id: str, params: Mapping[str, str]) -> Response:
        audience = params.get("audience")
        if not audience:
            return oauth_error(403, "access_denied", "No audience parameter was provided.")
        if audience != self.authority.audience:
            return oauth_error(
                403, "access_denied", f"Client has not been granted scopes for {audience}"
            )
        payload = self.authority.machine_tokens(
            client_id=client_id, audience=audience, scope=params.get("scope", "")
        )
        return json_response(200, payload)

    def _refresh(self, request: RecordedRequest) -> Response:
        params = request.params
        for name in ("refresh_token", "client_id"):
            if not params.get(name):
                return _missing(name)
        if not self._known(params["client_id"]):
            return oauth_error(401, "invalid_client", "Unknown client.")
        return self.authority.refresh(
            params["refresh_token"], params["client_id"], params.get("scope")
        )

    # -- revocation ------------------------------------------------------------------------

    def revoke(self, request: RecordedRequest) -> Response:
        """``POST oauth/revoke`` (RFC 7009): 200 with an empty body, known token or not."""
        params = request.params
        client_id, secret = request.basic_auth or (
            params.get("client_id"),
            params.get("client_secret"),
        )
        token = params.get("token")
        if not client_id:
            return _missing("client_id")
        if not token:
            return _missing("token")
        if not self._known(client_id):
            return oauth_error(401, "invalid_client", "Unknown client.")
        expected = self.machine_clients.get(client_id)
        if expected is not None and (not secret or not _same(secret, expected)):
            return oauth_error(401, "invalid_client", "Client authentication failed.")
        self.authority.revoke(token)
        return Response(200, [("cache-control", "no-store")])


def _int_ish(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
