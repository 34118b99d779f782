"""Turn an engine error into a 0.2.1 exception, keeping what the engine knew."""

from __future__ import annotations

from typing import TypeVar

from .._errors import EarthScopeError

__all__ = ["wrap"]

E = TypeVar("E", bound=EarthScopeError)

_FIELDS = ("status_code", "error", "error_description")


def wrap(cls: type[E], message: str, cause: EarthScopeError) -> E:
    """A ``cls(message)`` carrying ``cause``'s ``retryable`` flag and OAuth fields.

    Raise it ``from cause`` so the engine error stays reachable as ``__cause__``.
    """
    error = cls(message)
    error.retryable = cause.retryable
    for name in _FIELDS:
        setattr(error, name, getattr(cause, name, None))
    return error
