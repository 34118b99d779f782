"""Scripted faults: per endpoint, FIFO, each applying to a number of matching requests."""

from __future__ import annotations

import json as jsonlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from ._log import RecordedRequest, endpoint_matches
from ._response import Response

__all__ = ["Fault", "FaultAction", "FaultQueue"]

FaultAction = Literal[
    "respond",
    "pass",
    "drop",
    "drop_after_commit",
    "truncate",
    "reset_mid_body",
    "drip",
    "drip_headers",
    "gzip",
    "overlong",
]
_ACTIONS = frozenset(get_args(FaultAction))
_NAMES = frozenset(
    {
        "discovery",
        "device_code",
        "token",
        "revoke",
        "userinfo",
        "profile",
        "files",
        "api",
        "activate",
        "unknown",
    }
)


@dataclass
class Fault:
    """One scripted fault (see :meth:`FakeEarthScope.add_fault`)."""

    endpoint: str
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float
    action: FaultAction
    times: int
    match: Callable[[RecordedRequest], bool] | None
    interval: float = 0.0
    extra: int = 0

    def applies_to(self, request: RecordedRequest) -> bool:
        """True when this fault covers ``request``."""
        if not endpoint_matches(self.endpoint, request):
            return False
        return self.match is None or bool(self.match(request))

    def response(self) -> Response:
        """The scripted response of a ``respond`` fault."""
        return Response(self.status, list(self.headers.items()), self.body)


def make_fault(
    endpoint: str,
    *,
    status: int,
    body: bytes | str | None,
    json: object | None,
    headers: Mapping[str, str] | None,
    delay: float,
    action: str,
    times: int,
    match: Callable[[RecordedRequest], bool] | None,
    interval: float = 0.0,
    extra: int = 0,
) -> Fault:
    """Validate the arguments of ``add_fault`` and build a :class:`Fault`."""
    if endpoint not in _NAMES and not endpoint.startswith("/"):
        raise ValueError(f"unknown endpoint {endpoint!r}: use one of {sorted(_NAMES)} or a /path")
    if action not in _ACTIONS:
        raise ValueError(f"unknown fault action {action!r}: use one of {sorted(_ACTIONS)}")
    if times < 1 or delay < 0 or not 100 <= status <= 599:
        raise ValueError("times must be >= 1, delay >= 0 and status a valid HTTP status")
    if interval < 0 or extra < 0:
        raise ValueError("interval and extra must be >= 0")
    if body is not None and json is not None:
        raise ValueError("give body or json, not both")
    head = {k.lower(): v for k, v in (headers or {}).items()}
    if json is not None:
        raw = jsonlib.dumps(json).encode()
        head.setdefault("content-type", "application/json")
    else:
        raw = body.encode() if isinstance(body, str) else (body or b"")
        if raw:
            head.setdefault("content-type", "text/plain; charset=utf-8")
    head.pop("content-length", None)
    return Fault(
        endpoint,
        status,
        raw,
        head,
        delay,
        action,  # type: ignore[arg-type]
        times,
        match,
        interval,
        extra,
    )


class FaultQueue:
    """Thread-safe FIFO of faults; :meth:`take` consumes one use of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Append a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """How many faults still have uses left."""
        with self._lock:
            return len(self._faults)

    def take(self, request: RecordedRequest) -> Fault | None:
        """The first fault covering ``request``, with one use consumed; else ``None``."""
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(request):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None
