"""What a handler answers: status, headers and a body held in memory or streamed."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Response", "json_response", "oauth_error"]

ChunkSource = Callable[[int], Iterator[bytes]]
"""Called with a byte budget; yields at most that many body bytes, in chunks."""


@dataclass
class Response:
    """A response to send. ``stream`` (with ``length``) replaces ``body`` for big files."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: ChunkSource | None = None
    length: int | None = None

    @property
    def content_length(self) -> int:
        """The Content-Length to announce."""
        return len(self.body) if self.length is None else self.length

    def chunks(self, budget: int) -> Iterator[bytes]:
        """Yield up to ``budget`` body bytes."""
        if self.stream is not None:
            yield from self.stream(budget)
        elif budget > 0:
            yield self.body[:budget]


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response (``Cache-Control: no-store`` like every OAuth answer)."""
    head = [("content-type", "application/json"), ("cache-control", "no-store")]
    head += list((headers or {}).items())
    return Response(status, head, jsonlib.dumps(payload).encode())


def oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An OAuth error body ``{"error", "error_description"}``."""
    return json_response(status, {"error": error, "error_description": description}, headers)
