"""One HTTP connection pool per event loop, closed when its loop ends.

An ``httpx.AsyncClient`` holds sockets that belong to the event loop that opened them. To
let one :class:`AsyncEarthScopeClient` be used from several event loops in turn (two
``asyncio.run`` calls, or asyncio then trio), the pool is bound to the loop it is first used
in; used from another loop, the client makes a new pool. The old pool is closed by its own
loop when that loop finishes: binding primes an async generator whose ``finally`` closes
the pool, and both asyncio (``shutdown_asyncgens``) and trio finalize pending async
generators before their loop stops. Nothing here keeps a reference to a loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from weakref import WeakKeyDictionary, ref

import anyio
import httpx
from anyio.lowlevel import RunVar

from .._loop import running_asyncio_loop

__all__ = [
    "LoopBinding",
    "asyncio_loop_ref",
    "bind_to_current_loop",
    "bound_here",
    "running_asyncio_loop",
]

_BOUND: RunVar[WeakKeyDictionary[object, httpx.AsyncClient]] = RunVar("earthscope_http_pools")

LoopBinding = AsyncGenerator[None, None]
"""The primed async generator that closes a pool when its loop finalizes it."""


def _registry() -> WeakKeyDictionary[object, httpx.AsyncClient] | None:
    """This loop's ``owner -> pool`` map; ``None`` outside any event loop."""
    try:
        return _BOUND.get()
    except LookupError:
        registry: WeakKeyDictionary[object, httpx.AsyncClient] = WeakKeyDictionary()
        _BOUND.set(registry)
        return registry
    except RuntimeError:  # no event loop running in this thread (sniffio found none)
        return None


def bound_here(owner: object, pool: httpx.AsyncClient) -> bool | None:
    """True when ``pool`` is ``owner``'s pool for the running loop, False when it is not,
    ``None`` when no event loop is running (nothing can be known)."""
    registry = _registry()
    if registry is None:
        return None
    return registry.get(owner) is pool


def _none() -> None:
    return None


def asyncio_loop_ref() -> Callable[[], object]:
    """A weak reference to the running asyncio loop (a callable returning ``None`` when
    there is none, or once the loop is gone): what a pool was bound to, for the quick
    check. A loop is never ``None``, so a ``None`` from it never matches a running loop."""
    loop = running_asyncio_loop()
    return _none if loop is None else ref(loop)


async def _close_when_finalized(pool: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await pool.aclose()


def bind_to_current_loop(owner: object, pool: httpx.AsyncClient) -> LoopBinding | None:
    """Make ``pool`` ``owner``'s pool for the running loop; return the binding (keep a
    reference: the loop only holds it weakly) or ``None`` outside any event loop.

    Closing the binding (``await binding.aclose()``, on the same loop) closes the pool.
    """
    registry = _registry()
    if registry is None:
        return None
    registry[owner] = pool
    binding = _close_when_finalized(pool)
    step = binding.asend(None)  # run to the first ``yield``: registers the loop's hooks
    try:
        step.send(None)
    except StopIteration:
        pass
    else:  # pragma: no cover - the generator never awaits before its first yield
        raise RuntimeError("pool binding did not start")
    return binding
