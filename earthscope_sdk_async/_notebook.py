"""Jupyter support: is this a notebook kernel, and rich output for it.

IPython is never imported here: a notebook kernel has already imported it, so it is looked
up in ``sys.modules`` (scripts and the command line pay nothing).
"""

from __future__ import annotations

import html
import sys
from typing import Any

__all__ = ["display_html", "in_notebook", "new_display"]


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (notebook, JupyterLab, VS Code, nbclient), where rich
    output is rendered; False in a terminal IPython or a plain interpreter."""
    shell = _shell()
    if shell is None:
        return False
    config = getattr(shell, "config", None)
    return type(shell).__name__ == "ZMQInteractiveShell" or (
        isinstance(config, dict) and "IPKernelApp" in config
    )


def _display() -> Any:
    from IPython.display import display  # type: ignore[import-not-found,unused-ignore]

    return display


def display_html(html_text: str, plain: str) -> None:
    """Show ``html_text`` in the notebook; ``plain`` is the text form (saved with it)."""
    _display()({"text/html": html_text, "text/plain": plain}, raw=True)


def new_display(html_text: str, plain: str) -> Any:
    """Show an output that can be updated in place; returns its handle (``.update``)."""
    return _display()({"text/html": html_text, "text/plain": plain}, raw=True, display_id=True)


escape = html.escape
