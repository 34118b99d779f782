"""The device authorization response (C4-C7) and how it is shown to the user (C6)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .._redact import printable
from .._urls import openable_url
from ._response import Reply
from ._token_response import optional_string, required_string, seconds_field

__all__ = ["DEFAULT_INTERVAL", "DeviceCode", "Prompt", "parse_device_code", "print_prompt"]

DEFAULT_INTERVAL = 5.0
"""Seconds between polls when the server does not say (C5, RFC 8628 §3.2)."""


@dataclass(frozen=True, kw_only=True)
class DeviceCode:
    """A device authorization: what the user is shown, and what polling needs.

    ``device_code`` is a secret and never appears in ``repr`` (C6, C54). ``deadline`` is on
    the flow's monotonic clock (C7, C61).
    """

    device_code: str = field(repr=False)
    """The code the SDK polls with; never shown to the user."""
    user_code: str
    """The code the user confirms in the browser."""
    verification_uri: str
    """Where the user goes to approve the login."""
    verification_uri_complete: str | None = None
    """``verification_uri`` with the user code filled in, when the server sent one."""
    expires_in: float
    """Seconds the codes are valid for, from the server."""
    interval: float = DEFAULT_INTERVAL
    """Minimum seconds between polls (C5: 5 when the server does not say)."""
    deadline: float
    """``clock.monotonic()`` at which the codes expire (C7)."""


Prompt = Callable[[DeviceCode], Awaitable[None] | None]
"""Shows the user where to go: a plain or ``async`` function taking the :class:`DeviceCode`."""


def parse_device_code(reply: Reply, *, received_at: float) -> DeviceCode:
    """Validate a successful device authorization ``reply`` (C4, C5, C7).

    What the user is shown is made safe here, at the boundary: the user code loses control
    and escape characters, ``verification_uri`` must be a URL a browser may open (``https``,
    or ``http`` to a loopback host), and an unsafe ``verification_uri_complete`` is dropped.
    """
    expires_in = seconds_field(reply, "expires_in", required=True)
    interval = seconds_field(reply, "interval", required=False)
    if expires_in is None or expires_in <= 0:
        raise reply.invalid("has a non-positive 'expires_in'")
    user_code = printable(required_string(reply, "user_code"), limit=64)
    if not user_code:
        raise reply.invalid("has a 'user_code' without any printable character")
    verification_uri = openable_url(required_string(reply, "verification_uri"))
    if verification_uri is None:
        raise reply.invalid(
            "has a 'verification_uri' that is not an https URL (refusing to show or open it)"
        )
    return DeviceCode(
        device_code=required_string(reply, "device_code"),
        user_code=user_code,
        verification_uri=verification_uri,
        verification_uri_complete=openable_url(optional_string(reply, "verification_uri_complete")),
        expires_in=expires_in,
        interval=DEFAULT_INTERVAL if interval is None else interval,
        deadline=received_at + expires_in,
    )


def print_prompt(code: DeviceCode) -> None:
    """The default prompt: print the verification URL and user code to stderr (C6)."""
    url = code.verification_uri_complete or code.verification_uri
    minutes = max(1, round(code.expires_in / 60))
    print(
        f"To sign in to EarthScope, open {url} in a browser\n"
        f"and confirm the code {code.user_code} (valid for about {minutes} min).",
        file=sys.stderr,
        flush=True,
    )
