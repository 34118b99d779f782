"""OAuth 2.0 flows over an ``httpx.AsyncClient``: device, client credentials, refresh, revoke.

The flows know nothing of token stores, clients or the CLI: they take the HTTP client,
the settings and (for tests) a clock, and return :class:`~earthscope_sdk_async.Tokens` or
raise the typed errors of :mod:`earthscope_sdk_async._errors`.
"""

from __future__ import annotations

from ._client_credentials import ClientCredentialsFlow as ClientCredentialsFlow
from ._device import DeviceCodeFlow as DeviceCodeFlow
from ._device_code import DeviceCode as DeviceCode
from ._device_code import Prompt as Prompt
from ._refresh import refresh_tokens as refresh_tokens
from ._revoke import revoke_token as revoke_token

__all__ = [
    "ClientCredentialsFlow",
    "DeviceCode",
    "DeviceCodeFlow",
    "Prompt",
    "refresh_tokens",
    "revoke_token",
]
