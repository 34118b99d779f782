"""``earthscope_sdk.user.user`` of 0.2.1 (plus 0.2.0's ``lookup_anon``).

``API_BASE_URL`` is read from the environment variable of that name when this module is
first imported (default ``https://www.earthscope.org/api/v0``) and from this module's
attribute at each call, as in 0.2.1. Failures raise :class:`UserRequestError`, a
``RuntimeError`` (as in 0.2.1) that is also an :class:`~earthscope_sdk_async.ApiError`.
"""

from __future__ import annotations

import os
import typing

import httpx

from ... import _api_errors
from ... import _errors as _es
from ..._urls import safe_url as _safe_url
from .. import _engine

__all__ = ["API_BASE_URL", "UserRequestError", "get_user", "lookup_anon"]

API_BASE_URL = os.environ.get("API_BASE_URL", "https://www.earthscope.org/api/v0")
"""The EarthScope API root (no trailing slash)."""


class UserRequestError(_es.ApiError, RuntimeError):
    """An EarthScope user API call failed: ``status_code``, ``detail`` and ``url`` say how."""


def _answer(response: httpx.Response) -> typing.Any:
    if response.is_success:
        try:
            return response.json()
        except (ValueError, RecursionError):
            problem = "the answer is not JSON"
            error = UserRequestError(
                f"EarthScope API answered {response.status_code} for {response.request.method} "
                f"{_safe_url(response.request.url)} but {problem}; try again later",
                status_code=response.status_code,
                detail=problem,
            )
            raise error from None
    found = _api_errors.api_error_from_response(response)
    raise UserRequestError(
        str(found),
        status_code=found.status_code,
        detail=found.detail,
        request_id=found.request_id,
        url=found.url,
    )


def get_user(access_token: str) -> typing.Any:
    """The user's profile: ``GET {API_BASE_URL}/user`` with the bearer ``access_token``.

    Raises:
        UserRequestError: the API refused or failed, or did not answer JSON.
        TransportError: the network failed.
        ConfigError: ``API_BASE_URL`` is not https (plain http only for loopback hosts).
    """
    url = f"{API_BASE_URL}/user"
    return _answer(_engine.run(_engine.api_request, "GET", url, access_token))


def lookup_anon(access_token: str, ids: list[str], emails: list[str]) -> typing.Any:
    """Anonymized ids for user ``ids`` and ``emails``: ``POST {API_BASE_URL}/user/anon/``
    with the JSON body ``{"ids": ids, "emails": emails}``.

    0.2.0 posted to ``{API_BASE_URL}/api/user/anon/`` next to its ``{API_BASE_URL}/api/user/``
    profile endpoint; 0.2.1 moved the profile to ``{API_BASE_URL}/user``, and the lookup
    follows it (see docs/migration.md). Raises as :func:`get_user`.
    """
    url = f"{API_BASE_URL}/user/anon/"
    body = {"ids": list(ids), "emails": list(emails)}
    return _answer(_engine.run(_engine.api_request, "POST", url, access_token, body))
