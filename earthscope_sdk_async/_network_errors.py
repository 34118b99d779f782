"""Network failures in words: what happened, and which setting to check.

One wording for every place that turns a network failure into a
:class:`~earthscope_sdk_async.TransportError` (the identity provider's flows, API calls,
downloads), and one for giving up after retries. Imports only the standard library and httpx.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

import httpx

__all__ = ["API_SETTING", "IDP_SETTING", "gave_up_after", "network_failure", "what_happened"]

IDP_SETTING = "ES_OAUTH2__DOMAIN (oauth2.domain in the profile)"
"""The setting that decides where the identity provider is."""
API_SETTING = "ES_RESOURCES__API_URL (resources.api_url in the profile)"
"""The setting that decides where the EarthScope API is."""

_DNS_TEXT: tuple[str, ...] = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "temporary failure in name resolution",
    "no address associated",
)


def gave_up_after(attempts: int) -> str:
    """The one wording for a failure that survived retries: ``gave up after 4 attempts``."""
    return f"gave up after {attempts} attempts"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, its causes and contexts, and the members of exception groups among them
    (trio reports every failed connection attempt in a group)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        members = getattr(current, "exceptions", None)
        if isinstance(members, tuple):
            todo += [e for e in members if isinstance(e, BaseException)]


def _timeout(exc: BaseException) -> str | None:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out while connecting"
    if isinstance(exc, httpx.ReadTimeout):
        return "timed out waiting for the answer"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError, socket.timeout)):
        return "timed out"
    return None


def _os_error(exc: BaseException) -> str | None:
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "connection refused: nothing is listening at that address"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed: the host name could not be resolved"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    return None


def _by_text(exc: BaseException) -> str | None:
    text = str(exc).lower()
    if "connection refused" in text or "connect call failed" in text:
        return "connection refused: nothing is listening at that address"
    if any(part in text for part in _DNS_TEXT):
        return "DNS lookup failed: the host name could not be resolved"
    if "certificate verify failed" in text:
        return "TLS certificate verification failed"
    if "ssl" in text or "tls" in text:
        return "TLS handshake failed"
    return None


def what_happened(exc: BaseException) -> str:
    """``connection refused``, ``DNS lookup failed``, ``TLS ...``, ``timed out ...`` with the
    failure's class name, e.g. ``connection refused (ConnectError)``; never the failure's
    message (it could quote a URL with a signature)."""
    name = type(exc).__name__
    for link in _chain(exc):
        words = _timeout(link) or _os_error(link)
        if words:
            return f"{words} ({name})"
    for link in _chain(exc):  # some backends keep only the text of the OS error
        words = _by_text(link)
        if words:
            return f"{words} ({name})"
    return f"{name} (network problem)"


def network_failure(what: str, exc: BaseException, *, setting: str) -> str:
    """The message for a request ``what`` that failed with ``exc``: what happened, and the
    connection and ``setting`` to check. (The retry engine appends :func:`gave_up_after`.)"""
    return f"{what} failed: {what_happened(exc)}; check your connection and {setting}"
