"""The error tree, WWW-Authenticate parsing (C47) and ApiError translation."""

from __future__ import annotations

import httpx
import pytest

import earthscope_sdk_async as es
from earthscope_sdk_async._api_errors import api_error_from_response, raise_for_api_status
from earthscope_sdk_async._www_authenticate import bearer_error


def test_every_error_is_an_earthscope_error() -> None:
    errors = [getattr(es, name) for name in es.__all__ if name.endswith("Error")]
    assert len(errors) >= 12
    for cls in errors:
        assert issubclass(cls, es.EarthScopeError), cls
    assert issubclass(es.ConfigError, ValueError)
    for cls in (
        es.LoginRequiredError,
        es.AccessDeniedError,
        es.DeviceCodeExpiredError,
        es.InvalidClientError,
        es.InvalidResponseError,
        es.OAuthServerError,
        es.RateLimitError,
    ):
        assert issubclass(cls, es.OAuthError)


def test_retryable_flags() -> None:
    assert es.TransportError("x").retryable
    assert es.OAuthServerError("x").retryable
    assert not es.LoginRequiredError("x").retryable
    assert es.ApiError("x", status_code=503).retryable
    assert es.ApiError("x", status_code=429).retryable
    assert not es.ApiError("x", status_code=404).retryable


def test_oauth_error_carries_fields() -> None:
    err = es.RateLimitError("slow", status_code=429, error="too_many_attempts", retry_after=3.0)
    assert (err.status_code, err.error, err.retry_after) == (429, "too_many_attempts", 3.0)
    assert "too_many_attempts" in repr(err)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="api", error="invalid_token", error_description="expired, sorry"',
            (True, "invalid_token"),
        ),
        ("bearer ERROR=Invalid_Token", (True, "invalid_token")),
        ('Bearer error="insufficient_scope", scope="a b"', (True, "insufficient_scope")),
        ('Basic realm="x", Bearer realm="y"', (True, None)),
        ('Bearer realm="quoted \\" error=\\"invalid_token\\""', (True, None)),
        ("Bearer", (True, None)),
        ('Basic realm="x"', (False, None)),
        ("", (False, None)),
        (None, (False, None)),
    ],
)
def test_c47_www_authenticate_parsing(
    header: str | None, expected: tuple[bool, str | None]
) -> None:
    assert bearer_error(header) == expected


def _response(
    status: int, content: bytes = b"", headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "https://api.earthscope.org/beta/x?sig=SECRETSIG")
    return httpx.Response(status, content=content, headers=headers, request=request)


def test_api_error_from_json_detail_with_request_id() -> None:
    err = api_error_from_response(
        _response(404, b'{"detail": "no such user"}', {"x-request-id": "req-1"})
    )
    assert err.status_code == 404
    assert err.detail == "no such user"
    assert err.request_id == "req-1"
    assert "no such user" in str(err)
    assert "req-1" in str(err)
    assert "SECRETSIG" not in str(err)
    assert err.url == "https://api.earthscope.org/beta/x"


def test_api_error_from_html_body_is_an_excerpt() -> None:
    err = api_error_from_response(_response(502, b"<html>" + b"x" * 5000 + b"</html>"))
    assert err.detail is not None and len(err.detail) <= 300
    assert err.retryable


def test_api_error_from_message_and_empty_body() -> None:
    assert api_error_from_response(_response(400, b'{"message": "bad"}')).detail == "bad"
    assert api_error_from_response(_response(500)).detail is None
    assert api_error_from_response(httpx.Response(418)).url is None


def test_raise_for_api_status() -> None:
    ok = _response(200, b"{}")
    assert raise_for_api_status(ok) is ok
    with pytest.raises(es.ApiError) as info:
        raise_for_api_status(_response(401))
    assert info.value.status_code == 401
