"""Settings: one frozen, keyword-only object that says where and how to authenticate.

Resolution (explicit > environment > config file > defaults) lives in this module only.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._errors import ConfigError

__all__ = ["ClientAuthMethod", "Settings", "is_loopback_host"]

ClientAuthMethod = Literal["client_secret_post", "client_secret_basic"]

DEFAULT_DOMAIN = "https://login.earthscope.org/"
DEFAULT_AUDIENCE = "https://api.earthscope.org"
DEFAULT_CLIENT_ID = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
DEFAULT_SCOPE = "openid profile email offline_access"
DEFAULT_API_URL = "https://api.earthscope.org/"
DEFAULT_ALLOWED_HOSTS = ("earthscope.org", "*.earthscope.org")


def is_loopback_host(host: str | None) -> bool:
    """Tell whether ``host`` is a loopback host: ``localhost``, 127.0.0.0/8 or ::1 (C58)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(name: str, value: str, *, trailing_slash: bool) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty URL string, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{name} must be an absolute https:// URL (got {value!r}); "
            "for example 'https://login.earthscope.org/'"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{name} uses plain http:// for a non-loopback host ({parts.hostname}); "
            "use https:// (http is only allowed for 127.0.0.1, ::1 and localhost)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not have a query or fragment (got {value!r})")
    if trailing_slash and not value.endswith("/"):
        value += "/"
    return value


def _check_seconds(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0) or math.isinf(value):
        kind = "positive" if positive else "zero or positive"
        raise ConfigError(f"{name} must be a finite, {kind} number of seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where and how to authenticate with EarthScope.

    All arguments are keyword-only and optional; the defaults talk to production EarthScope.
    ``client_secret`` switches login to machine-to-machine client credentials. Plain
    ``http://`` URLs are refused unless the host is loopback (C58). Secrets never appear in
    ``repr``.
    """

    domain: str = DEFAULT_DOMAIN
    """The identity provider's base URL (the Auth0 tenant); endpoint paths are joined to it."""
    audience: str = DEFAULT_AUDIENCE
    """The API identifier access tokens are issued for."""
    client_id: str = DEFAULT_CLIENT_ID
    """The OAuth client id."""
    client_secret: str | None = field(default=None, repr=False)
    """The client secret of a machine-to-machine client; ``None`` for people (device flow)."""
    client_auth_method: ClientAuthMethod = "client_secret_post"
    """How the client secret is sent: in the form body or as HTTP Basic (C28)."""
    scope: str = DEFAULT_SCOPE
    """Space-separated scopes requested at login and refresh."""
    api_url: str = DEFAULT_API_URL
    """Base URL of the EarthScope API."""
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    """Hosts (``*.`` wildcards allowed) that receive the bearer token, besides api_url's (C59)."""
    refresh_token: str | None = field(default=None, repr=False)
    """A refresh token to start from when the store holds none (``ES_OAUTH2__REFRESH_TOKEN``)."""
    profile: str = "default"
    """The configuration profile these settings belong to."""
    refresh_leeway: float = 60.0
    """Seconds before expiry at which a token counts as expired (C40, C60)."""
    timeout_connect: float = 10.0
    """Seconds to wait for a connection."""
    timeout_read: float = 30.0
    """Seconds to wait for each read (and write) on a connection."""
    device_code_path: str = "oauth/device/code"
    """Device authorization endpoint, relative to ``domain``."""
    token_path: str = "oauth/token"
    """Token endpoint, relative to ``domain``."""
    revoke_path: str = "oauth/revoke"
    """Revocation endpoint, relative to ``domain``."""
    userinfo_path: str = "userinfo"
    """OIDC userinfo endpoint, relative to ``domain``."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "domain", _check_url("domain", self.domain, trailing_slash=True))
        set_(self, "api_url", _check_url("api_url", self.api_url, trailing_slash=True))
        for name in ("audience", "client_id", "scope", "profile"):
            value = getattr(self, name)
            if not isinstance(value, str) or (name != "scope" and not value.strip()):
                raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
        for name in ("client_secret", "refresh_token"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{name} must be a non-empty string or None")
        if self.client_auth_method not in ("client_secret_post", "client_secret_basic"):
            raise ConfigError(
                "client_auth_method must be 'client_secret_post' or 'client_secret_basic', "
                f"got {self.client_auth_method!r}"
            )
        hosts: object = self.allowed_hosts
        if isinstance(hosts, str):  # "a.org, *.a.org" as in ES_OAUTH2__ALLOWED_HOSTS
            hosts = tuple(h.strip() for h in hosts.split(",") if h.strip())
        if not isinstance(hosts, (tuple, list)) or not all(isinstance(h, str) and h for h in hosts):
            raise ConfigError(f"allowed_hosts must be host names, got {self.allowed_hosts!r}")
        set_(self, "allowed_hosts", tuple(h.lower() for h in hosts))
        set_(
            self,
            "refresh_leeway",
            _check_seconds("refresh_leeway", self.refresh_leeway, positive=False),
        )
        set_(
            self,
            "timeout_connect",
            _check_seconds("timeout_connect", self.timeout_connect, positive=True),
        )
        set_(self, "timeout_read", _check_seconds("timeout_read", self.timeout_read, positive=True))
        for name in ("device_code_path", "token_path", "revoke_path", "userinfo_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "://" in value:
                raise ConfigError(f"{name} must be a path relative to domain, got {value!r}")
            set_(self, name, value.lstrip("/"))

    @property
    def is_machine(self) -> bool:
        """True when a client secret is set: logins use client credentials, not the device flow."""
        return self.client_secret is not None

    @property
    def issuer(self) -> str:
        """The expected token issuer: the domain URL with its trailing slash."""
        return self.domain

    @property
    def device_code_url(self) -> str:
        """Absolute URL of the device authorization endpoint."""
        return urljoin(self.domain, self.device_code_path)

    @property
    def token_url(self) -> str:
        """Absolute URL of the token endpoint."""
        return urljoin(self.domain, self.token_path)

    @property
    def revoke_url(self) -> str:
        """Absolute URL of the revocation endpoint."""
        return urljoin(self.domain, self.revoke_path)

    @property
    def userinfo_url(self) -> str:
        """Absolute URL of the OIDC userinfo endpoint."""
        return urljoin(self.domain, self.userinfo_path)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (and validated)."""
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            raise ConfigError(f"unknown setting: {exc}") from None
