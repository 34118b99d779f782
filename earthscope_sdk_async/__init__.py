"""earthscope-sdk-async: the async-first SDK for authenticating with, and calling, EarthScope.

The public API is what this module exports; everything in ``_modules`` is private.
"""

from __future__ import annotations

from ._clock import Clock as Clock
from ._clock import SystemClock as SystemClock
from ._errors import AccessDeniedError as AccessDeniedError
from ._errors import ApiError as ApiError
from ._errors import ClientClosedError as ClientClosedError
from ._errors import ConfigError as ConfigError
from ._errors import DeviceCodeExpiredError as DeviceCodeExpiredError
from ._errors import EarthScopeError as EarthScopeError
from ._errors import InvalidClientError as InvalidClientError
from ._errors import InvalidResponseError as InvalidResponseError
from ._errors import LoginRequiredError as LoginRequiredError
from ._errors import OAuthError as OAuthError
from ._errors import OAuthServerError as OAuthServerError
from ._errors import RateLimitError as RateLimitError
from ._errors import TokenStoreError as TokenStoreError
from ._errors import TransportError as TransportError
from ._settings import Settings as Settings
from ._tokens import Tokens as Tokens
from ._version import __version__ as __version__

__all__ = [
    "AccessDeniedError",
    "ApiError",
    "ClientClosedError",
    "Clock",
    "ConfigError",
    "DeviceCodeExpiredError",
    "EarthScopeError",
    "InvalidClientError",
    "InvalidResponseError",
    "LoginRequiredError",
    "OAuthError",
    "OAuthServerError",
    "RateLimitError",
    "Settings",
    "SystemClock",
    "TokenStoreError",
    "Tokens",
    "TransportError",
    "__version__",
]
