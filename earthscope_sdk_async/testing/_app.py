"""One exchange: log the request, pick a scripted fault, wait, and decide what to send."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio

from ._faults import FaultAction, FaultQueue
from ._log import API_ENDPOINTS, RecordedRequest, RequestLog
from ._response import Response, json_response
from ._routes import Router

__all__ = ["App", "Plan"]

logger = logging.getLogger(__name__)
_LATENCY_ENDPOINTS = API_ENDPOINTS | {"files"}


@dataclass(frozen=True)
class Plan:
    """What the connection does: send ``response`` (unless dropping) as ``action`` says."""

    response: Response | None
    action: FaultAction = "respond"
    interval: float = 0.0
    """Seconds between the bytes of a ``drip``/``drip_headers`` answer."""
    extra: int = 0
    """Bytes an ``overlong`` answer sends beyond the body (0: as many again)."""


class App:
    """Glue between the socket loop and the handlers."""

    def __init__(self, *, router: Router, log: RequestLog, faults: FaultQueue) -> None:
        self.router = router
        self.log = log
        self.faults = faults
        self.latency = 0.0

    async def handle(self, request: RecordedRequest) -> Plan:
        """Record ``request`` (before anything else), then plan the answer."""
        self.log.append(request)
        try:
            fault = self.faults.take(request)
        except Exception:
            logger.exception("a fault's match() raised; answering 500")
            return Plan(json_response(500, {"error": "server_error"}))
        if self.latency and request.endpoint in _LATENCY_ENDPOINTS:
            await anyio.sleep(self.latency)
        if fault is not None and fault.delay:
            await anyio.sleep(fault.delay)
        if fault is not None and fault.action == "drop":
            return Plan(None, "drop")
        if fault is not None and fault.action == "respond":
            return Plan(fault.response())
        if fault is None or fault.action == "pass":
            return Plan(self._dispatch(request))
        return Plan(self._dispatch(request), fault.action, fault.interval, fault.extra)

    def _dispatch(self, request: RecordedRequest) -> Response:
        try:
            return self.router.dispatch(request)
        except Exception:
            logger.exception(
                "fake EarthScope handler failed for %s %s", request.method, request.path
            )
            return json_response(
                500, {"error": "server_error", "error_description": "handler failed"}
            )
