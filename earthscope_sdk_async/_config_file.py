"""Read one profile out of ``~/.earthscope/config.toml`` (pure helpers for ``Settings.load``).

The layout is earthscope-sdk 1.x's: a ``[default]`` table merged with ``[profile.<name>]``,
with ``oauth2``/``resources``/``http`` sub-tables. :func:`read_profile` returns the flat
``Settings`` field names with their raw (type-checked, not yet validated) values, each paired
with a description of where it came from (file, table and key) for error messages. Values
are never put into messages: a config file may hold a client secret or a refresh token.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from ._checks import is_number
from ._errors import ConfigError
from ._files import read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["FILE_KEYS", "Sourced", "read_profile"]

Sourced = dict[str, tuple[Any, str]]
"""Flat ``Settings`` field name -> (value, where the value came from)."""

_STRING_FIELDS = (
    "domain",
    "audience",
    "client_id",
    "client_secret",
    "client_auth_method",
    "scope",
    "refresh_token",
    "api_url",
    "device_code_path",
    "token_path",
    "revoke_path",
    "userinfo_path",
    "http_backend",
    "s3_endpoint_url",
    "s3_region",
)
_NUMBER_FIELDS = (
    "refresh_leeway",
    "refresh_ahead",
    "timeout_connect",
    "timeout_read",
    "token_request_timeout",
    "query_plan_timeout_seconds",
)
_INTEGER_FIELDS = ("query_plan_memory_limit_bytes",)
_HOSTS_FIELDS = ("allowed_hosts",)

_SECTIONS: dict[str, tuple[str, ...]] = {
    "oauth2": (
        "domain",
        "audience",
        "client_id",
        "client_secret",
        "client_auth_method",
        "scope",
        "refresh_token",
        "allowed_hosts",
        "refresh_leeway",
        "refresh_ahead",
        "device_code_path",
        "token_path",
        "revoke_path",
        "userinfo_path",
    ),
    "resources": ("api_url",),
    "http": ("timeout_connect", "timeout_read", "token_request_timeout"),
    "s3": ("s3_endpoint_url", "s3_region"),
    "query_plan": ("query_plan_memory_limit_bytes", "query_plan_timeout_seconds"),
}
_RENAMED: dict[str, str] = {"http.backend": "http_backend"}

FILE_KEYS: dict[str, str] = {
    **{  # [s3] endpoint_url = ... is the field s3_endpoint_url
        f"{section}.{key.removeprefix(section + '_')}": key
        for section, keys in _SECTIONS.items()
        for key in keys
    },
    **{name: name for name in (*_STRING_FIELDS, *_NUMBER_FIELDS, *_INTEGER_FIELDS, *_HOSTS_FIELDS)},
    **_RENAMED,
}
"""Every key a profile table may hold (dotted for sub-tables) -> the ``Settings`` field."""

_TOML_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (str, "string"),
    (int, "integer"),
    (float, "float"),
    (list, "array"),
    (dict, "table"),
)


def read_profile(path: Path, profile: str, profile_source: str) -> Sourced:
    """Return the settings of ``profile`` from the TOML file at ``path`` (``{}`` if missing).

    ``[default]`` is read first, then ``[profile.<profile>]`` overrides it field by field.
    Raises :class:`ConfigError` for unreadable or malformed files, unknown keys, ill-typed
    values, and a profile other than ``default`` that has no table in an existing file (with
    no file at all, every profile is simply the defaults, as in earthscope-sdk 1.x).
    """
    document = _parse(path)
    default, profiles = _tables(document or {}, path)
    if document is not None and profile != "default" and profile not in profiles:
        raise _unknown_profile(path, profile, profile_source, profiles, exists=document is not None)
    values = _flatten(default, path, "default")
    if profile in profiles:
        values.update(_flatten(profiles[profile], path, f"profile.{profile}"))
    return values


def _parse(path: Path) -> dict[str, Any] | None:
    try:
        data = read_regular(path, follow=True)  # a FIFO or a device never blocks us
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{path}: cannot read the config file ({reason}); "
            "fix its permissions or pass config_path= to use another file"
        ) from None
    if data is None:
        return None
    problem = ""
    try:
        document: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        problem = "is not UTF-8 text; save it as UTF-8"
    except RecursionError:
        problem = "is nested too deeply; fix the file"
    except tomllib.TOMLDecodeError as exc:
        problem = f"is not valid TOML: {exc}; fix the file"
    if problem:  # raised outside the except block: the parser error may hold the document
        raise ConfigError(f"{path}: the config file {problem}")
    return document


def _tables(document: dict[str, Any], path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    for key in document:
        if key not in ("default", "profile"):
            raise ConfigError(
                f"{path}: unknown top-level key {key!r}; "
                "put settings in a [default] or [profile.<name>] table"
            )
    default = _table(document.get("default", {}), path, "default")
    profiles = _table(document.get("profile", {}), path, "profile")
    for name, table in profiles.items():
        _table(table, path, f"profile.{name}")
    return default, profiles


def _table(value: object, path: Path, label: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {label} must be a table ([{label}]), got {_kind(value)}")
    return value


def _unknown_profile(
    path: Path, profile: str, source: str, profiles: dict[str, Any], *, exists: bool
) -> ConfigError:
    available = ", ".join(["default", *sorted(p for p in profiles if p != "default")])
    missing = "" if exists else " (the file does not exist)"
    return ConfigError(
        f"profile {profile!r} (from {source}) is not defined in {path}{missing}; "
        f"available profiles: {available}. Add a [profile.{profile}] table to the file "
        "or choose one of the available profiles"
    )


def _flatten(table: dict[str, Any], path: Path, label: str) -> Sourced:
    out: Sourced = {}
    for key, value in table.items():
        if key in _SECTIONS:
            for sub_key, sub_value in _table(value, path, f"{label}.{key}").items():
                _put(out, f"{key}.{sub_key}", sub_value, path, label)
        else:
            _put(out, key, value, path, label)
    return out


def _put(out: Sourced, key: str, value: object, path: Path, label: str) -> None:
    where = f"{path}: key {key!r} in [{label}]"
    field = FILE_KEYS.get(key)
    if field is None:
        close = difflib.get_close_matches(key, FILE_KEYS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(FILE_KEYS)}"
        raise ConfigError(f"{path}: unknown key {key!r} in [{label}]; {hint}")
    if field in out:
        raise ConfigError(f"{where} sets {field!r} a second time; keep only one of the two keys")
    out[field] = (_typed(field, value, where), where)


def _typed(field: str, value: object, where: str) -> object:
    if field in _NUMBER_FIELDS:
        ok = is_number(value)
        expected = "a number of seconds"
    elif field in _INTEGER_FIELDS:
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "an integer (bytes)"
    elif field in _HOSTS_FIELDS:
        ok = isinstance(value, list) and all(isinstance(h, str) for h in value)
        expected = 'an array of host names, e.g. ["earthscope.org", "*.earthscope.org"]'
    else:
        ok = isinstance(value, str)
        expected = "a string"
    if not ok:
        raise ConfigError(f"{where} must be {expected}, got {_kind(value)}; fix the file")
    return tuple(value) if isinstance(value, list) else value


def _kind(value: object) -> str:
    """Name a TOML value's type without showing the value (it may be a secret)."""
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        return "an array with non-string items"
    for type_, name in _TOML_KINDS:
        if isinstance(value, type_):
            return f"a TOML {name}"
    return "a TOML date/time"
