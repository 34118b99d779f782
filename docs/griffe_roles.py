"""A griffe extension for the API reference: Sphinx roles in docstrings become Markdown.

The package's docstrings use reST roles (``:class:`Settings```, ``:meth:`~x.Y.z```). This
turns a role whose target is a public name of ``earthscope_sdk_async`` (or of its
``testing`` package) into a cross-reference (``[Settings][earthscope_sdk_async.Settings]``)
and any other role into inline code, so that no raw ``:class:`` text reaches the site and
no cross-reference points at a page that does not exist (``mkdocs build --strict``).

Used by mkdocs.yml (``extensions: - docs/griffe_roles.py:SphinxRoles``).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

import earthscope_sdk_async
import earthscope_sdk_async.testing

_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj):`(?:(?P<text>[^`<]*?)\s*<(?P<t1>[^`>]+)>|(?P<t2>[^`]+))`"
)
_PACKAGES = {
    "earthscope_sdk_async": set(earthscope_sdk_async.__all__),
    "earthscope_sdk_async.testing": set(earthscope_sdk_async.testing.__all__),
}


def _public_id(target: str) -> str | None:
    """The identifier documented in the API reference for ``target``, if it is public."""
    for package in sorted(_PACKAGES, key=len, reverse=True):
        rest = target.removeprefix(package + ".")
        if rest == target and package != "earthscope_sdk_async":
            continue
        first = rest.split(".", 1)[0]
        if first in _PACKAGES[package] and not any(p.startswith("_") for p in rest.split(".")):
            return f"{package}.{rest}"
    return None


def _replace(match: re.Match[str]) -> str:
    raw = (match["t1"] or match["t2"]).strip()
    short = raw.startswith("~")
    target = raw.lstrip("~.")
    text = match["text"] or (target.rsplit(".", 1)[-1] if short else target)
    identifier = _public_id(target)
    if identifier is None:
        return f"`{text}`"
    return f"[`{text}`][{identifier}]"


def convert(text: str) -> str:
    """Replace every Sphinx role of ``text``."""
    return _ROLE.sub(_replace, text)


class SphinxRoles(Extension):
    """Rewrite the docstring of every loaded object."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Called by griffe for each object it loads."""
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
