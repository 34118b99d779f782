"""The request log: every request the fake receives, recorded before it is answered."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

__all__ = ["RecordedRequest", "RequestLog", "classify_endpoint", "endpoint_matches"]

_EXACT = {
    "/.well-known/openid-configuration": "discovery",
    "/oauth/device/code": "device_code",
    "/oauth/token": "token",
    "/oauth/revoke": "revoke",
    "/userinfo": "userinfo",
    "/activate": "activate",
    "/beta/user/profile": "profile",
}
API_ENDPOINTS = frozenset({"profile", "api"})


def classify_endpoint(path: str) -> str:
    """The endpoint name of a request path (see :meth:`FakeEarthScope.add_fault`)."""
    if path in _EXACT:
        return _EXACT[path]
    if path.startswith("/files/"):
        return "files"
    if path.startswith(("/beta/", "/user/", "/api/")):
        return "api"
    return "unknown"


def endpoint_matches(name: str, request: RecordedRequest) -> bool:
    """True when ``name`` (an endpoint name, ``"api"``, or a literal ``/path``) covers it."""
    if name.startswith("/"):
        return request.path == name
    if name == "api":
        return request.endpoint in API_ENDPOINTS
    return request.endpoint == name


def _parse_basic(value: str | None) -> tuple[str, str] | None:
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True)
        user, sep, password = decoded.decode("utf-8").partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not sep:
        return None
    return unquote_plus(user), unquote_plus(password)


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], Any]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), None
        except UnicodeDecodeError:
            return {}, None
    if kind.endswith("json") and body:
        try:
            return {}, json.loads(body)
        except ValueError:
            return {}, None
    return {}, None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (header names are lower case)."""

    method: str
    path: str
    query: dict[str, str]
    endpoint: str
    headers: dict[str, str] = field(repr=False)
    form: dict[str, str] = field(repr=False)
    json: Any = field(repr=False)
    body: bytes = field(repr=False)
    started: float
    grant_type: str | None
    basic_auth: tuple[str, str] | None = field(repr=False)
    query_items: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Every query parameter in order (repeated keys kept; ``query`` keeps the last)."""

    def query_list(self, key: str) -> list[str]:
        """Every value of the query parameter ``key``, in order."""
        return [v for k, v in self.query_items if k == key]

    @classmethod
    def build(
        cls, *, method: str, target: str, headers: dict[str, str], body: bytes, started: float
    ) -> RecordedRequest:
        """Parse a raw request into a record."""
        path, _, query = target.partition("?")
        form, json_body = _parse_body(headers.get("content-type", ""), body)
        grant = form.get("grant_type")
        if grant is None and isinstance(json_body, dict):
            value = json_body.get("grant_type")
            grant = value if isinstance(value, str) else None
        return cls(
            method=method,
            path=path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            endpoint=classify_endpoint(path),
            headers=headers,
            form=form,
            json=json_body,
            body=body,
            started=started,
            grant_type=grant,
            basic_auth=_parse_basic(headers.get("authorization")),
            query_items=tuple(parse_qsl(query, keep_blank_values=True)),
        )

    @property
    def params(self) -> dict[str, str]:
        """Form fields, or the string fields of a JSON object body."""
        if self.form or not isinstance(self.json, dict):
            return dict(self.form)
        return {k: str(v) for k, v in self.json.items() if isinstance(v, (str, int, float))}


class RequestLog:
    """A thread-safe, append-only list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, request: RecordedRequest) -> None:
        """Record a request."""
        with self._lock:
            self._items.append(request)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()

    def count(self, endpoint: str, *, grant_type: str | None = None) -> int:
        """How many requests hit ``endpoint`` (optionally with that ``grant_type``)."""
        return sum(
            1
            for r in self.snapshot()
            if endpoint_matches(endpoint, r) and (grant_type is None or r.grant_type == grant_type)
        )
