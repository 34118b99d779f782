"""Test helpers for users and for our own tests: a fake EarthScope on 127.0.0.1.

:class:`FakeEarthScope` is a real HTTP/1.1 server (an Auth0-like identity provider, the
EarthScope API and a bearer-protected file server) with scriptable device logins, refresh
token rotation and reuse detection, faults and a request log. The pytest plugin adds the
``fake_earthscope`` and ``fake_earthscope_settings`` fixtures; ``python -m
earthscope_sdk_async.testing serve`` runs it as a separate process (for benchmarks).

Why h11 over anyio sockets, in a thread, rather than an ASGI app under uvicorn (or
``httpx.MockTransport``/respx): the fake must misbehave the way networks do. Owning the
socket lets it drop a connection before any response (RST), commit a refresh-token rotation
and then drop the connection, send fewer body bytes than ``Content-Length`` and close, or
reset mid-body; uvicorn always answers (a 500 at worst) and only runs on asyncio. Its own
daemon thread and event loop keep it serving whatever the caller does: asyncio or trio tests,
plain sync code, or a sync facade blocking its thread. h11 already ships with httpx.

This package only imports the leaf modules of the SDK (settings, tokens, clock, errors).
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:  # imported lazily (below) so that loading the pytest plugin stays cheap
    from .._clock import ScaledClock as ScaledClock
    from ._aws import AwsIssue as AwsIssue
    from ._aws import AwsRoles as AwsRoles
    from ._device import DeviceCodeInfo as DeviceCodeInfo
    from ._fake import FakeEarthScope as FakeEarthScope
    from ._log import RecordedRequest as RecordedRequest

__all__ = [
    "AwsIssue",
    "AwsRoles",
    "DeviceCodeInfo",
    "FakeEarthScope",
    "RecordedRequest",
    "ScaledClock",
]

_HOMES = {
    "AwsIssue": ".testing._aws",
    "AwsRoles": ".testing._aws",
    "DeviceCodeInfo": ".testing._device",
    "FakeEarthScope": ".testing._fake",
    "RecordedRequest": ".testing._log",
    "ScaledClock": "._clock",
}


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, "earthscope_sdk_async"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
