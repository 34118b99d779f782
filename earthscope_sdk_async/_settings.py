"""Settings: one frozen, keyword-only object that says where and how to authenticate.

Resolution (explicit > environment > config file > defaults) lives in this module only
(:meth:`Settings.load`); reading the TOML file is delegated to the pure helpers of
``_config_file``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._checks import is_number
from ._config_file import Sourced, read_profile
from ._errors import ConfigError
from ._urls import safe_url

__all__ = ["ClientAuthMethod", "HttpBackend", "Settings", "is_loopback_host"]

ClientAuthMethod = Literal["client_secret_post", "client_secret_basic"]
HttpBackend = Literal["auto", "httpcore", "aiohttp"]
_HTTP_BACKENDS = ("auto", "httpcore", "aiohttp")

DEFAULT_DOMAIN = "https://login.earthscope.org/"
DEFAULT_AUDIENCE = "https://api.earthscope.org"
DEFAULT_CLIENT_ID = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
DEFAULT_SCOPE = "openid profile email offline_access"
DEFAULT_API_URL = "https://api.earthscope.org/"
DEFAULT_ALLOWED_HOSTS = ("earthscope.org", "*.earthscope.org")
DEFAULT_CONFIG_PATH = "~/.earthscope/config.toml"

ENV_VARS: dict[str, str] = {
    "ES_OAUTH2__DOMAIN": "domain",
    "ES_OAUTH2__AUDIENCE": "audience",
    "ES_OAUTH2__CLIENT_ID": "client_id",
    "ES_OAUTH2__CLIENT_SECRET": "client_secret",
    "ES_OAUTH2__CLIENT_AUTH_METHOD": "client_auth_method",
    "ES_OAUTH2__SCOPE": "scope",
    "ES_OAUTH2__REFRESH_TOKEN": "refresh_token",
    "ES_OAUTH2__REFRESH_LEEWAY": "refresh_leeway",
    "ES_OAUTH2__REFRESH_AHEAD": "refresh_ahead",
    "ES_OAUTH2__ALLOWED_HOSTS": "allowed_hosts",
    "ES_RESOURCES__API_URL": "api_url",
    "ES_HTTP__TIMEOUT_CONNECT": "timeout_connect",
    "ES_HTTP__TIMEOUT_READ": "timeout_read",
    "ES_HTTP__BACKEND": "http_backend",
    "ES_HTTP__TOKEN_REQUEST_TIMEOUT": "token_request_timeout",
    "ES_S3__ENDPOINT_URL": "s3_endpoint_url",
    "ES_S3__REGION": "s3_region",
    "ES_QUERY_PLAN__MEMORY_LIMIT_BYTES": "query_plan_memory_limit_bytes",
    "ES_QUERY_PLAN__TIMEOUT_SECONDS": "query_plan_timeout_seconds",
}
"""Environment variable -> ``Settings`` field (``ES_PROFILE`` selects the profile)."""

_NUMBER_FIELDS = frozenset(
    {
        "refresh_leeway",
        "refresh_ahead",
        "timeout_connect",
        "timeout_read",
        "token_request_timeout",
        "query_plan_timeout_seconds",
    }
)
_BYTES_FIELDS = frozenset({"query_plan_memory_limit_bytes"})
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{1,40}")


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


def _legacy_app_dir() -> Path:
    override = os.environ.get("APP_DIRECTORY")
    if override:
        return Path(override).expanduser()
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA") or Path.home()) / "earthscope-cli"
    if sys.platform == "darwin":
        return Path("~/Library/Application Support/earthscope-cli").expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path("~/.config").expanduser()
    return Path(config_home) / "earthscope-cli"


def _check_url(name: str, value: str, *, trailing_slash: bool) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty URL string, got {value!r}")
    example = (
        "https://api.earthscope.org/" if name == "api_url" else "https://login.earthscope.org/"
    )
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid URL ({exc}); for example {example!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"{name} must be an absolute https:// URL (got {safe_url(value)!r}); "
            f"for example {example!r}"
        )
    if port == 0:
        raise ConfigError(
            f"{name} has port 0, which cannot be connected to; for example {example!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"{name} must not contain a user name or password (got {safe_url(value)!r}); "
            "credentials go in client_id / client_secret"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{name} uses plain http:// for a non-loopback host ({parts.hostname}); "
            "use https:// (http is only allowed for 127.0.0.1, ::1 and localhost)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not have a query or fragment (got {safe_url(value)!r})")
    if trailing_slash and not value.endswith("/"):
        value += "/"
    return value


def _check_seconds(name: str, value: object, *, positive: bool) -> float:
    if not is_number(value) or math.isnan(value):
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
    refresh_ahead: float = 0.0
    """Seconds before the leeway at which a background refresh starts while the current token
    keeps serving (with jitter: between half and all of it); 0 turns refresh-ahead off."""
    timeout_connect: float = 10.0
    """Seconds to wait for a connection."""
    timeout_read: float = 30.0
    """Seconds to wait for each read (and write) on a connection."""
    http_backend: HttpBackend = "auto"
    """What carries HTTP: ``"auto"`` (aiohttp on asyncio when the ``aiohttp`` extra is
    installed, else httpcore), ``"aiohttp"`` or ``"httpcore"`` (httpx's own; always on trio)."""
    token_request_timeout: float = 30.0
    """Overall deadline, in seconds, of one request to the identity provider (connecting,
    sending, and reading the whole answer): a server that trickles its answer byte by byte
    cannot hold a login or a refresh for longer than this."""
    device_code_path: str = "oauth/device/code"
    """Device authorization endpoint, relative to ``domain``."""
    token_path: str = "oauth/token"
    """Token endpoint, relative to ``domain``."""
    revoke_path: str = "oauth/revoke"
    """Revocation endpoint, relative to ``domain``."""
    userinfo_path: str = "userinfo"
    """OIDC userinfo endpoint, relative to ``domain``."""
    s3_endpoint_url: str | None = None
    """Where ``s3://`` requests go: ``None`` for AWS (virtual-hosted addressing), else an
    S3-compatible endpoint addressed path-style (``<endpoint>/<bucket>/<key>``)."""
    s3_region: str = "us-east-2"
    """The AWS region S3 requests are signed for (EarthScope's buckets are in us-east-2)."""
    query_plan_memory_limit_bytes: int | None = None
    """The default memory limit, in bytes, of data query plans (what
    ``plan.with_memory_limit()`` sets on one plan); ``None``: no limit."""
    query_plan_timeout_seconds: float | None = None
    """The default timeout, in seconds, of data query plans (what ``plan.with_timeout()``
    sets on one plan); ``None``: no limit."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "domain", _check_url("domain", self.domain, trailing_slash=True))
        set_(self, "api_url", _check_url("api_url", self.api_url, trailing_slash=True))
        for name in ("audience", "client_id", "scope", "profile"):
            value = getattr(self, name)
            if not isinstance(value, str) or (name != "scope" and not value.strip()):
                raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
        if not _PROFILE_NAME.fullmatch(self.profile):
            raise ConfigError(
                f"profile must be letters, digits, '_', '-' or '.' (not first), got "
                f"{self.profile!r}; the name is used as a directory under ~/.earthscope"
            )
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
            "refresh_ahead",
            _check_seconds("refresh_ahead", self.refresh_ahead, positive=False),
        )
        set_(
            self,
            "timeout_connect",
            _check_seconds("timeout_connect", self.timeout_connect, positive=True),
        )
        set_(self, "timeout_read", _check_seconds("timeout_read", self.timeout_read, positive=True))
        if self.http_backend not in _HTTP_BACKENDS:
            raise ConfigError(
                f"http_backend must be 'auto', 'httpcore' or 'aiohttp', got {self.http_backend!r}"
            )
        set_(
            self,
            "token_request_timeout",
            _check_seconds("token_request_timeout", self.token_request_timeout, positive=True),
        )
        if self.s3_endpoint_url is not None:
            set_(
                self,
                "s3_endpoint_url",
                _check_url("s3_endpoint_url", self.s3_endpoint_url, trailing_slash=False),
            )
        if not isinstance(self.s3_region, str) or not _REGION.fullmatch(self.s3_region):
            raise ConfigError(
                f"s3_region must be an AWS region name such as 'us-east-2', got {self.s3_region!r}"
            )
        limit = self.query_plan_memory_limit_bytes
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ConfigError(
                "query_plan_memory_limit_bytes must be a whole number of bytes >= 0 or None, "
                f"got {limit!r}"
            )
        if self.query_plan_timeout_seconds is not None:
            set_(
                self,
                "query_plan_timeout_seconds",
                _check_seconds(
                    "query_plan_timeout_seconds", self.query_plan_timeout_seconds, positive=True
                ),
            )
        for name in ("device_code_path", "token_path", "revoke_path", "userinfo_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "://" in value:
                raise ConfigError(f"{name} must be a path relative to domain, got {value!r}")
            set_(self, name, value.lstrip("/"))

    @classmethod
    def load(
        cls,
        profile: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Resolve settings: ``overrides`` > environment > config file > defaults.

        The profile is ``profile``, else ``ES_PROFILE``, else ``"default"``.

        Environment (``environ``, default ``os.environ``; empty or blank values count as
        unset), the earthscope-sdk 1.x names: ``ES_OAUTH2__DOMAIN``, ``ES_OAUTH2__AUDIENCE``,
        ``ES_OAUTH2__CLIENT_ID``, ``ES_OAUTH2__CLIENT_SECRET``, ``ES_OAUTH2__SCOPE``,
        ``ES_OAUTH2__REFRESH_TOKEN``, ``ES_OAUTH2__ALLOWED_HOSTS`` (comma-separated or a JSON
        list), ``ES_RESOURCES__API_URL``, ``ES_HTTP__TIMEOUT_CONNECT`` and
        ``ES_HTTP__TIMEOUT_READ`` (seconds); plus ours: ``ES_HTTP__BACKEND`` (``auto``,
        ``httpcore`` or ``aiohttp``), ``ES_HTTP__TOKEN_REQUEST_TIMEOUT``
        (seconds, the overall deadline of one identity-provider request),
        ``ES_S3__ENDPOINT_URL`` and ``ES_S3__REGION`` (where ``s3://`` downloads go),
        ``ES_OAUTH2__CLIENT_AUTH_METHOD`` (``client_secret_post`` or ``client_secret_basic``)
        and ``ES_OAUTH2__REFRESH_LEEWAY`` (seconds); and earthscope-sdk 1.x's
        ``ES_QUERY_PLAN__MEMORY_LIMIT_BYTES`` (bytes) and ``ES_QUERY_PLAN__TIMEOUT_SECONDS``
        (seconds), the defaults of data query plans' memory limit and timeout.

        Config file: ``config_path``, else ``~/.earthscope/config.toml`` (``~`` expanded at
        call time; a missing file is empty). ``[default]`` is merged with
        ``[profile.<name>]`` field by field, the profile winning. Keys use the
        earthscope-sdk 1.x nesting: ``oauth2.*`` (the ``ES_OAUTH2__*`` settings, plus
        ``refresh_leeway`` and the endpoint paths ``device_code_path``, ``token_path``,
        ``revoke_path``, ``userinfo_path``), ``resources.api_url``, ``http.timeout_*``,
        ``http.backend``, ``s3.endpoint_url``, ``s3.region``,
        ``query_plan.memory_limit_bytes`` (an integer) and ``query_plan.timeout_seconds``.
        Every ``Settings`` field name except ``profile`` is also accepted flat, at the top
        of a profile table; one table must not set a field twice. For example::

            [default.oauth2]
            client_id = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
            allowed_hosts = ["earthscope.org", "*.earthscope.org"]

            [default.http]
            timeout_read = 60

            [profile.dev]
            refresh_leeway = 120            # flat spelling of oauth2.refresh_leeway

            [profile.dev.oauth2]
            domain = "https://login-dev.earthscope.org/"   # client_id still from [default]

            [profile.dev.resources]
            api_url = "https://api-dev.earthscope.org/"

        A profile other than ``default`` must have a ``[profile.<name>]`` table (an empty one
        will do). ``overrides`` are ``Settings`` keyword arguments, taken literally (``None``
        included). Raises :class:`ConfigError` naming the argument, variable or file and key
        at fault; secret values are never shown.
        """
        env = os.environ if environ is None else environ
        name, name_source = _profile_name(profile, env)
        values: Sourced = {"profile": (name, name_source)}
        values.update(read_profile(_config_file_path(config_path), name, name_source))
        values.update(_from_env(env))
        values.update(_from_overrides(overrides))
        for key, (value, source) in values.items():
            _validate_field(cls, key, value, source)
        return cls(**{key: value for key, (value, _) in values.items()})

    @property
    def tokens_file(self) -> Path:
        """The profile's token file: ``~/.earthscope/<profile>/tokens.json`` (earthscope-sdk 1.x).

        ``~`` is expanded each time the property is read.
        """
        return Path("~", ".earthscope", self.profile, "tokens.json").expanduser()

    @property
    def legacy_tokens_file(self) -> Path:
        """The token file of earthscope-cli 0.x: ``sso_tokens.json`` in its app directory.

        That is ``$APP_DIRECTORY`` when set, else Click's app dir for ``earthscope-cli``:
        ``$XDG_CONFIG_HOME/earthscope-cli`` (default ``~/.config/earthscope-cli``) on Linux,
        ``~/Library/Application Support/earthscope-cli`` on macOS, ``%APPDATA%`` on Windows —
        the same place earthscope-sdk 1.x migrates it from. Resolved each time it is read.
        """
        return _legacy_app_dir() / "sso_tokens.json"

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


def _profile_name(profile: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    if profile is not None:
        return profile, "the profile argument"
    from_env = environ.get("ES_PROFILE", "").strip()
    if from_env:
        return from_env, "environment variable ES_PROFILE"
    return "default", "the default profile"


def _config_file_path(config_path: str | os.PathLike[str] | None) -> Path:
    return Path(DEFAULT_CONFIG_PATH if config_path is None else config_path).expanduser()


def _from_env(environ: Mapping[str, str]) -> Sourced:
    out: Sourced = {}
    for var, name in ENV_VARS.items():
        raw = environ.get(var)
        if raw is not None and raw.strip():
            out[name] = (_env_value(var, name, raw), f"environment variable {var}")
    return out


def _env_value(var: str, name: str, raw: str) -> object:
    if name in _NUMBER_FIELDS:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(
                f"environment variable {var} must be a number of seconds, got {raw!r}; "
                "set it to e.g. 30 or unset it"
            ) from None
    if name in _BYTES_FIELDS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"environment variable {var} must be a whole number of bytes, got {raw!r}; "
                "set it to e.g. 2000000000 or unset it"
            ) from None
    if name == "allowed_hosts":
        return _env_hosts(var, raw)
    return raw


def _env_hosts(var: str, raw: str) -> tuple[str, ...]:
    if raw.lstrip()[:1] not in ("[", "{", '"'):  # JSON-looking values are parsed as JSON
        return tuple(h.strip() for h in raw.split(",") if h.strip())
    try:
        hosts = json.loads(raw)
    except json.JSONDecodeError as exc:
        hosts, problem = None, f"is not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        hosts, problem = None, "is JSON nested too deeply"
    else:
        problem = "must be a list of host-name strings"
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ConfigError(
            f"environment variable {var} {problem}; use comma-separated host names "
            'or a JSON list such as ["earthscope.org", "*.earthscope.org"]'
        )
    return tuple(hosts)


def _from_overrides(overrides: Mapping[str, Any]) -> Sourced:
    known = {f.name for f in dataclasses.fields(Settings)} - {"profile"}
    for key in overrides:
        if key not in known:
            raise ConfigError(
                f"Settings.load() got an unknown setting {key!r}; "
                f"use one of: {', '.join(sorted(known))}"
            )
    return {key: (value, f"argument {key}=") for key, value in overrides.items()}


def _validate_field(cls: type[Settings], name: str, value: Any, source: str) -> None:
    """Validate one field alone, so an error can say where the bad value came from."""
    try:
        cls(**{name: value})
    except ConfigError as exc:
        message = str(exc)
    else:
        return
    raise ConfigError(f"{source}: {message}")
