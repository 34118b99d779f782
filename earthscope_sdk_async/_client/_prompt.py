"""The default device-login prompt: print the URL and the user code, open a browser if any."""

from __future__ import annotations

import os
import sys
import webbrowser

from .._flows import DeviceCode
from .._redact import printable
from .._urls import openable_url

__all__ = ["default_prompt", "browser_available"]


def browser_available() -> bool:
    """True when a web browser can plausibly open here (not over SSH, not headless)."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def default_prompt(code: DeviceCode) -> None:
    """Show ``verification_uri`` and ``user_code`` (C6) on stderr; open the browser if possible.

    Server text is printed without control characters, and only ``https`` (or loopback
    ``http``) URLs are opened, even for a :class:`DeviceCode` built by hand.
    """
    url = openable_url(code.verification_uri_complete) or openable_url(code.verification_uri)
    print(
        f"\nTo log in to EarthScope, open {printable(code.verification_uri)}\n"
        f"and enter the code:  {printable(code.user_code)}\n",
        file=sys.stderr,
        flush=True,
    )
    if url is not None and browser_available():
        webbrowser.open(url, new=2)
