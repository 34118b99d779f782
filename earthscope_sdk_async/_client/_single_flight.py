"""A small async cache with single-flight fills: concurrent misses share one fetch.

Each key has its own lock; a caller that waited on the lock while another filled the key
takes that fresh value instead of fetching again, even when asked to bypass the cache
(``force``). Locks live per event loop (an ``anyio`` ``RunVar``), values in plain dicts, so
a cache may be used from several loops in turn. Failures are not cached.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

import anyio
from anyio.lowlevel import RunVar

from .._clock import Clock

__all__ = ["SingleFlightCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_LOCKS: RunVar[WeakKeyDictionary[object, dict[object, anyio.Lock]]] = RunVar(
    "earthscope_single_flight_locks"
)


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    fresh_until: float  # clock.monotonic()
    generation: int


class SingleFlightCache(Generic[K, V]):
    """Values by key, each fresh for the time its fetch said; one fetch per key at a time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}
        self._generations: dict[K, int] = {}

    def __repr__(self) -> str:
        return f"SingleFlightCache(entries={len(self._entries)})"

    def clear(self) -> None:
        """Forget every cached value."""
        self._entries.clear()

    def fresh(self, key: K) -> V | None:
        """The cached value for ``key`` if still fresh, else ``None``."""
        entry = self._entries.get(key)
        if entry is None or self._clock.monotonic() >= entry.fresh_until:
            return None
        return entry.value

    async def get(
        self,
        key: K,
        fetch: Callable[[], Awaitable[tuple[V, float]]],
        *,
        force: bool = False,
    ) -> V:
        """The value for ``key``: cached if fresh (unless ``force``), else fetched once.

        ``fetch`` returns the value and how many seconds it stays fresh (<= 0: not cached
        for later callers, but still shared with those waiting right now).
        """
        seen = self._generations.get(key, 0)
        if not force:
            hit = self.fresh(key)
            if hit is not None:
                return hit
        async with self._lock(key):
            entry = self._entries.get(key)
            if entry is not None and entry.generation != seen:
                return entry.value  # filled while we waited: share that flight
            if not force and (hit := self.fresh(key)) is not None:
                return hit
            value, keep = await fetch()
            self._store(key, value, keep)
            return value

    def _store(self, key: K, value: V, keep: float) -> None:
        now = self._clock.monotonic()
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        fresh_until = now + keep if math.isfinite(keep) else math.inf
        self._entries = {k: e for k, e in self._entries.items() if e.fresh_until > now}
        self._entries[key] = _Entry(value, fresh_until, generation)

    def _lock(self, key: K) -> anyio.Lock:
        try:
            by_cache = _LOCKS.get()
        except LookupError:
            by_cache = WeakKeyDictionary()
            _LOCKS.set(by_cache)
        locks = by_cache.setdefault(self, {})
        lock = locks.get(key)
        if lock is None:
            for stale in [k for k, v in locks.items() if not v.locked() and k not in self._entries]:
                del locks[stale]
            lock = locks[key] = anyio.Lock()
        return lock
