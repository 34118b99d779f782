"""``earthscope_sdk.auth.device_code_flow`` of 0.2.1: log people in with the device flow.

Subclass :class:`DeviceCodeFlow` (implement ``load_tokens``, ``save_tokens`` and
``prompt_user``; ``prompt_user`` reads ``self._device_codes``) or use
:class:`DeviceCodeFlowSimple`. Polling follows RFC 8628 on the async engine: ``slow_down``
adds 5 s to the interval, polling stops at the code's ``expires_in`` deadline, network
failures are retried with backoff, and Ctrl-C cancels it. Errors::

    RequestDeviceTokensError (RuntimeError, EarthScopeError)
    PollingError (ValueError, EarthScopeError)
    ├── PollingExpiredError
    └── PollingAccessDeniedError
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import logging
import os
import pathlib
import typing

from ... import _errors as _es
from ..._flows import DeviceCode as _DeviceCode
from .. import _engine
from .._errors import wrap as _wrap
from . import _token_file
from .auth_flow import AuthFlow as AuthFlow  # 0.2.1's module namespace had these three
from .auth_flow import NoTokensError as NoTokensError
from .auth_flow import ValidTokens as ValidTokens

__all__ = [
    "AuthFlow",
    "DeviceCodeFlow",
    "DeviceCodeFlowSimple",
    "GetDeviceCodeResponse",
    "NoTokensError",
    "PollingAccessDeniedError",
    "PollingError",
    "PollingErrorResponse",
    "PollingErrorType",
    "PollingExpiredError",
    "RequestDeviceTokensError",
    "ValidTokens",
]

_log = logging.getLogger(__name__)

_F = typing.TypeVar("_F", bound="DeviceCodeFlow")


class PollingErrorType(str, enum.Enum):
    """The OAuth ``error`` codes of a device-flow poll."""

    AUTHORIZATION_PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED_TOKEN = "expired_token"
    ACCESS_DENIED = "access_denied"


class RequestDeviceTokensError(RuntimeError, _es.EarthScopeError):
    """The device code could not be obtained (the cause says why)."""


class PollingError(ValueError, _es.EarthScopeError):
    """Polling failed, or was started in a wrong state."""


class PollingExpiredError(PollingError):
    """The device code expired before the user approved it: start again."""


class PollingAccessDeniedError(PollingError):
    """The user refused the login."""


@dataclasses.dataclass
class GetDeviceCodeResponse:
    """The device authorization response, as ``self._device_codes`` (``device_code`` is a
    secret and is left out of ``repr``).
    """

    device_code: str = dataclasses.field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@dataclasses.dataclass
class PollingErrorResponse:
    """An error answer to a poll, as 0.2.1 described it."""

    error: PollingErrorType
    error_description: str


def _number(value: float) -> typing.Any:
    return int(value) if float(value).is_integer() else value


def _response_of(code: _DeviceCode) -> GetDeviceCodeResponse:
    return GetDeviceCodeResponse(
        device_code=code.device_code,
        user_code=code.user_code,
        verification_uri=code.verification_uri,
        verification_uri_complete=code.verification_uri_complete or code.verification_uri,
        expires_in=_number(code.expires_in),
        interval=_number(code.interval),
    )


class DeviceCodeFlow(AuthFlow):
    """The device authorization flow (abstract: implement ``prompt_user`` and the storage
    hooks). ``do_flow()`` = ``request_device_code()``, ``prompt_user()``, ``poll()``.
    """

    def __init__(self, domain: str, audience: str, client_id: str, scope: str) -> None:
        super().__init__(domain=domain, audience=audience, client_id=client_id, scope=scope)
        self._is_polling = False
        self._device_codes: GetDeviceCodeResponse | None = None
        self._device_code: _DeviceCode | None = None

    @property
    def polling(self) -> bool:
        """True while :meth:`poll` runs."""
        return self._is_polling

    @property
    def started(self) -> bool:
        """True once a device code was obtained."""
        return self._device_codes is not None

    def do_flow(self) -> ValidTokens:
        """Log in: request a code, ``prompt_user()``, poll; returns the (saved) tokens."""
        self.request_device_code()
        self.prompt_user()
        self.poll()
        return self.tokens

    def poll(self: _F) -> _F:
        """Poll until the user approves (tokens validated and saved), refuses, or the code
        expires. Returns ``self``.

        Raises:
            PollingError: no device code yet, already polling, or an unexpected error.
            PollingExpiredError: the code expired (server answer or local deadline).
            PollingAccessDeniedError: the user refused.
        """
        if not self._device_codes:
            raise PollingError("Cannot poll without initial device code response")
        if self._is_polling:
            raise PollingError("Attempted to double poll")
        self._is_polling = True
        try:
            code = self._code_for_polling(self._device_codes)
            try:
                tokens = _engine.run(_engine.poll, self._settings(), code, self._clock)
            except _es.DeviceCodeExpiredError as exc:
                raise _wrap(PollingExpiredError, str(exc), exc) from exc
            except _es.AccessDeniedError as exc:
                raise _wrap(PollingAccessDeniedError, str(exc), exc) from exc
            except _es.EarthScopeError as exc:
                raise _wrap(PollingError, f"Unknown polling error: {exc}", exc) from exc
            _log.debug("device login approved")
            self.validate_and_save_tokens(tokens.to_dict())
            return self
        finally:
            self._is_polling = False

    def _code_for_polling(self, response: GetDeviceCodeResponse) -> _DeviceCode:
        """The engine's code; rebuilt when ``_device_codes`` was set by other means."""
        code = self._device_code
        if code is not None and code.device_code == response.device_code:
            return code
        try:
            expires_in, interval = float(response.expires_in), float(response.interval)
            return _DeviceCode(
                device_code=response.device_code,
                user_code=response.user_code,
                verification_uri=response.verification_uri,
                verification_uri_complete=response.verification_uri_complete,
                expires_in=expires_in,
                interval=interval,
                deadline=self._clock.monotonic() + expires_in,
            )
        except (TypeError, ValueError) as exc:
            raise PollingError(f"the device code response is unusable: {exc}") from None

    @abc.abstractmethod
    def prompt_user(self) -> typing.Any:
        """Show the user ``self._device_codes.verification_uri_complete`` (subclass hook)."""

    def request_device_code(self: _F) -> _F:
        """Request a device code (sets ``self._device_codes``); returns ``self``.

        Raises:
            RequestDeviceTokensError: the server refused or failed, or the network did.
        """
        try:
            code = _engine.run(_engine.request_code, self._settings(), self._clock)
        except _es.EarthScopeError as exc:
            message = f"Failed to get a device code: {exc}"
            raise _wrap(RequestDeviceTokensError, message, exc) from exc
        self._device_code = code
        self._device_codes = _response_of(code)
        _log.debug("got a device code (user code %s)", code.user_code)
        return self


class DeviceCodeFlowSimple(DeviceCodeFlow):
    """A device flow keeping tokens in a file and printing the prompt to stdout.

    ``path`` is the token file, or a directory (then ``<path>/sso_tokens.json``). The file is
    written atomically with mode 0600; its directory is created (0700) when missing.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        domain: str = "login.earthscope.org",
        audience: str = "https://account.earthscope.org",
        client_id: str = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0",
        scope: str = "openid profile email offline_access",
    ) -> None:
        super().__init__(domain=domain, audience=audience, client_id=client_id, scope=scope)
        self.path = pathlib.Path(path)
        if self.path.is_dir():
            self.path = self.path / "sso_tokens.json"

    def load_tokens(self) -> ValidTokens:
        """Load and validate the tokens in :attr:`path`.

        Raises:
            NoTokensError: there is no token file, or it holds no usable tokens.
        """
        self.validate_tokens(_token_file.read_token_file(self.path))
        return self.tokens

    def save_tokens(self, creds: ValidTokens) -> None:
        """Write ``creds`` to :attr:`path` (atomic, 0600)."""
        _token_file.write_token_file(self.path, creds)

    def prompt_user(self) -> None:
        """Print the verification URL and user code to stdout."""
        if not self._device_codes:
            raise RuntimeError("You must start the device flow before prompting the user")
        codes = self._device_codes
        print(
            "To complete the SSO authorization, please visit the following URL in a browser "
            f"of your choice:\n    {codes.verification_uri_complete}\n"
            f"and check that it shows the code {codes.user_code}\n",
            flush=True,
        )
