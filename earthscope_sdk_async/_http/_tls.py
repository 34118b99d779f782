"""The TLS context of the SDK's connection pools, made once per process.

httpx builds a new ``ssl.SSLContext`` (certifi's CA bundle, loaded from disk) for every
client: 15-20 ms each time. The SDK's pools all verify the same way, so they share one
context, made when the first pool that needs it is opened (an ``SSLContext`` may be used by
many connections, threads and event loops at once). ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` are
read then, as httpx reads them.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["default_context"]


@functools.cache
def default_context() -> ssl.SSLContext:
    """The default verifying context of httpx (certifi's CAs, ``SSL_CERT_*`` variables)."""
    return httpx.create_ssl_context()
