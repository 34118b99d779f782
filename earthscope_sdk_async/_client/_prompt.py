"""The default device-login prompt: the URL and the user code, and a browser if one opens.

In a Jupyter notebook the prompt is rich output (a clickable link that fills the code in, and
the code), not text on stderr; elsewhere it is plain text on stderr (stdout stays the
program's own).
"""

from __future__ import annotations

import os
import sys
import webbrowser

from .._flows import DeviceCode
from .._notebook import display_html, escape, in_notebook
from .._redact import printable
from .._urls import openable_url

__all__ = ["browser_available", "default_prompt", "prompt_html", "prompt_text"]


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


def prompt_text(code: DeviceCode) -> str:
    """The prompt as plain text: the page, the code, and the link that fills the code in.
    Server text is shown without control characters."""
    text = (
        f"To log in to EarthScope, open {printable(code.verification_uri)}\n"
        f"and enter the code:  {printable(code.user_code)}"
    )
    complete = openable_url(code.verification_uri_complete)
    if complete:
        text += f"\n(or open {printable(complete)}, which fills the code in)"
    return text


def prompt_html(code: DeviceCode) -> str:
    """The prompt for a notebook: a link to the page that fills the code in, and the code.
    Only an ``https`` (or loopback ``http``) URL becomes a link."""
    target = openable_url(code.verification_uri_complete) or openable_url(code.verification_uri)
    page = escape(printable(code.verification_uri))
    shown = escape(printable(target)) if target else page
    link = (
        f'<a href="{shown}" target="_blank" rel="noopener noreferrer">{shown}</a>'
        if target
        else page
    )
    return (
        '<div class="earthscope-login" style="padding:0.5em 0">'
        f"To log in to EarthScope, open {link}<br>"
        f'and check that it shows the code <code style="font-size:1.3em">'
        f"{escape(printable(code.user_code))}</code> (or enter it at {page}).</div>"
    )


def default_prompt(code: DeviceCode) -> None:
    """Show ``verification_uri`` and ``user_code`` (C6): a clickable link in a notebook,
    text on stderr elsewhere; open the browser if possible.

    Server text is printed without control characters, and only ``https`` (or loopback
    ``http``) URLs are opened, even for a :class:`DeviceCode` built by hand.
    """
    url = openable_url(code.verification_uri_complete) or openable_url(code.verification_uri)
    if in_notebook():
        display_html(prompt_html(code), prompt_text(code))
    else:
        print(f"\n{prompt_text(code)}\n", file=sys.stderr, flush=True)
    if url is not None and browser_available():
        webbrowser.open(url, new=2)
