"""Deriving sync methods from async ones: :func:`sync_method` and :class:`SyncFacade`.

``login = sync_method(AsyncEarthScopeClient.login)`` in a ``SyncFacade`` subclass gives a
blocking ``login`` with the same parameters, return type (for mypy, via ``ParamSpec``; at
run time, via ``__signature__``) and docstring, whose body runs ``await
<async target>.login(...)`` through the facade's portal. The facade holds no logic: only how
to reach the async target, which it resolves inside the event loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["SyncFacade", "sync_method"]

A = TypeVar("A")
P = ParamSpec("P")
T = TypeVar("T")


class SyncFacade(Generic[A]):
    """Base of the blocking proxies of an async object of type ``A``."""

    def _run_method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``await <target>.<name>(*args, **kwargs)`` in the event loop; return the result."""
        raise NotImplementedError


class sync_method(Generic[A, P, T]):  # lower case: used like ``property``
    """A blocking method calling the async method ``method`` of the facade's target.

    The signature (without ``self``), return type and docstring are the async method's.
    """

    def __init__(self, method: Callable[Concatenate[A, P], Awaitable[T]]) -> None:
        if not inspect.iscoroutinefunction(method):
            raise TypeError(f"{method!r} is not an async method")
        self.method = method
        self.name = method.__name__
        self.__doc__ = method.__doc__
        self.__signature__ = inspect.signature(method)  # with ``self``, like a function's
        self._bound_signature = _without_self(self.__signature__)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        if name != self.name:
            raise TypeError(f"{owner.__name__}.{name} must be named like {self.name}")

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> sync_method[A, P, T]: ...

    @overload
    def __get__(self, obj: SyncFacade[A], owner: type[Any]) -> Callable[P, T]: ...

    def __get__(
        self, obj: SyncFacade[A] | None, owner: type[Any]
    ) -> sync_method[A, P, T] | Callable[P, T]:
        if obj is None:
            return self
        name = self.name

        def bound(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = obj._run_method(name, args, kwargs)
            return result

        bound.__name__ = bound.__qualname__ = name
        bound.__doc__ = self.__doc__
        bound.__signature__ = self._bound_signature  # type: ignore[attr-defined]
        return bound

    def __call__(self, obj: SyncFacade[A], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call through the class, as with a function: ``Facade.method(facade, ...)``."""
        result: T = obj._run_method(self.name, args, kwargs)
        return result

    def __repr__(self) -> str:
        return f"<sync_method {self.method.__qualname__}>"


def _without_self(signature: inspect.Signature) -> inspect.Signature:
    parameters = list(signature.parameters.values())[1:]
    return signature.replace(parameters=parameters)
