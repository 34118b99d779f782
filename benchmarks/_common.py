"""Shared pieces of the benchmarks: a result row and small statistics."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Result", "median"]


@dataclass(frozen=True)
class Result:
    """One measured value; ``target`` is ``None`` for values reported for context only."""

    measure: str
    value: float
    unit: str
    target: str | None = None
    check: Callable[[float], bool] | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        """PASS/FAIL against the target, or ``-`` when there is none."""
        if self.check is None:
            return "-"
        return "PASS" if self.check(self.value) else "FAIL"


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return float(statistics.median(values))
