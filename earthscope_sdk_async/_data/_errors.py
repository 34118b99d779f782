"""The errors of query plans: a limit was reached; both carry what was fetched so far."""

from __future__ import annotations

from typing import Any

from .._errors import EarthScopeError

__all__ = ["MemoryLimitExceededError", "QueryPlanLimitError", "TimeoutExceededError"]


class QueryPlanLimitError(EarthScopeError):
    """A query plan stopped at one of its limits.

    ``partial_table`` holds the rows fetched before it stopped (a ``pyarrow.Table`` with the
    plan's schema, possibly empty); ``successful_request_count`` /
    ``total_request_count`` say how far it got.
    """

    def __init__(
        self, message: str, *, partial_table: Any, successful_request_count: int,
        total_request_count: int,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.partial_table = partial_table
        self.successful_request_count = successful_request_count
        self.total_request_count = total_request_count


class MemoryLimitExceededError(QueryPlanLimitError, MemoryError):
    """The data fetched exceeded ``with_memory_limit(bytes)``; the rest was cancelled."""


class TimeoutExceededError(QueryPlanLimitError, TimeoutError):
    """The plan ran longer than ``with_timeout(seconds)``; the rest was cancelled."""
