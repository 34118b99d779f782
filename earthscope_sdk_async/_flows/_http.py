"""POST a form to the identity provider; the one place httpx exceptions become ours.

Bodies are form-encoded (C26: credentials never go in URLs), ``Accept: application/json``,
timeouts come from the settings (per read, and an overall deadline,
``token_request_timeout``, so that a server trickling its answer cannot hold us), redirects
are not followed (a token request must not be replayed to another host) and the HTTP
client's own auth is bypassed. Logs name the endpoint,
grant and status only (C54).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from urllib.parse import quote_plus

import anyio
import httpx

from .._errors import InvalidResponseError, TransportError
from .._network_errors import IDP_SETTING, network_failure
from .._settings import Settings

__all__ = [
    "CLIENT_CREDENTIALS_GRANT",
    "DEVICE_CODE_GRANT",
    "REFRESH_TOKEN_GRANT",
    "add_client_secret",
    "post_form",
    "timeout_for",
]

log = logging.getLogger(__name__)

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_CREDENTIALS_GRANT = "client_credentials"
REFRESH_TOKEN_GRANT = "refresh_token"


def timeout_for(settings: Settings) -> httpx.Timeout:
    """The per-request timeout built from the settings."""
    connect = settings.timeout_connect
    read = settings.timeout_read
    write = float(getattr(settings, "timeout_write", read))
    pool = float(getattr(settings, "timeout_pool", connect))
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)


def _basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: Basic of the form-urlencoded id and secret (C28)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def add_client_secret(settings: Settings, form: dict[str, str]) -> dict[str, str]:
    """Authenticate a confidential client: put the secret in ``form`` or return a Basic header.

    Exactly one of the two is used (C29). Returns the extra request headers; a public client
    (no secret) gets neither.
    """
    secret = settings.client_secret
    if secret is None:
        return {}
    if settings.client_auth_method == "client_secret_basic":
        form.pop("client_id", None)
        return {"Authorization": _basic_credentials(settings.client_id, secret)}
    form["client_id"] = settings.client_id
    form["client_secret"] = secret
    return {}


async def post_form(
    http: httpx.AsyncClient,
    settings: Settings,
    url: str,
    form: Mapping[str, str],
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    deadline: float | None = None,
) -> httpx.Response:
    """POST ``form`` to ``url`` and return the (fully read) response.

    ``what`` names the request in logs and errors (e.g. ``"token request (refresh_token)"``).
    The whole exchange (connect, send, headers, body) must finish within ``deadline``
    seconds (default ``settings.token_request_timeout``). Network failures and a missed
    deadline raise :class:`TransportError`; nothing from the form or the body ever appears
    in a log line or message.
    """
    request_headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    request_headers.update(headers or {})
    limit = settings.token_request_timeout if deadline is None else max(0.0, deadline)
    log.debug("POST %s: %s", url, what)
    try:
        request = http.build_request(
            "POST", url, data=dict(form), headers=request_headers, timeout=timeout_for(settings)
        )
        with anyio.move_on_after(limit) as scope:
            response = await http.send(request, auth=None, follow_redirects=False)
        if scope.cancelled_caught:
            log.debug("POST %s: %s missed its %s s deadline", url, what, limit)
            raise TransportError(
                f"{what} to {url} did not complete within {limit:g} s (the server is too slow "
                "or stalled); try again later, or raise token_request_timeout"
            )
    except httpx.TransportError as exc:
        log.debug("POST %s: %s failed: %s", url, what, type(exc).__name__)
        raise TransportError(network_failure(f"{what} to {url}", exc, setting=IDP_SETTING)) from exc
    except httpx.DecodingError as exc:
        raise InvalidResponseError(
            f"{what} to {url}: the response body could not be decoded ({type(exc).__name__})"
        ) from exc
    log.debug("POST %s: %s answered HTTP %d", url, what, response.status_code)
    return response
