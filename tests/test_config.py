"""Settings.load: overrides > environment > config file > defaults; profiles; errors (C54, C58)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from earthscope_sdk_async import ConfigError, Settings

SECRET = "SENTINEL-s3cr3t-value-0123456789"


def _home() -> Path:
    return Path(os.environ["HOME"])


def _write(text: str, path: Path | None = None) -> Path:
    """Write a config file (by default the real ``~/.earthscope/config.toml`` under HOME)."""
    path = path or _home() / ".earthscope" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.load(**kwargs)
    return str(info.value)


# --- environment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "raw", "field", "expected"),
    [
        ("ES_OAUTH2__DOMAIN", "https://login.example.org/", "domain", "https://login.example.org/"),
        ("ES_OAUTH2__AUDIENCE", "https://aud.example.org", "audience", "https://aud.example.org"),
        ("ES_OAUTH2__CLIENT_ID", "my-client", "client_id", "my-client"),
        ("ES_OAUTH2__CLIENT_SECRET", "shh", "client_secret", "shh"),
        ("ES_OAUTH2__SCOPE", "openid offline_access", "scope", "openid offline_access"),
        ("ES_OAUTH2__REFRESH_TOKEN", "rt-1", "refresh_token", "rt-1"),
        ("ES_OAUTH2__ALLOWED_HOSTS", "a.org, *.b.org", "allowed_hosts", ("a.org", "*.b.org")),
        ("ES_OAUTH2__ALLOWED_HOSTS", '["a.org", "*.B.org"]', "allowed_hosts", ("a.org", "*.b.org")),
        ("ES_RESOURCES__API_URL", "https://api.example.org", "api_url", "https://api.example.org/"),
        ("ES_HTTP__TIMEOUT_CONNECT", "2.5", "timeout_connect", 2.5),
        ("ES_HTTP__TIMEOUT_READ", "45", "timeout_read", 45.0),
        (
            "ES_OAUTH2__CLIENT_AUTH_METHOD",
            "client_secret_basic",
            "client_auth_method",
            "client_secret_basic",
        ),
        ("ES_OAUTH2__REFRESH_LEEWAY", "120", "refresh_leeway", 120.0),
    ],
)
def test_each_environment_variable(var: str, raw: str, field: str, expected: object) -> None:
    settings = Settings.load(environ={var: raw})
    assert getattr(settings, field) == expected
    untouched = Settings()
    for other in ("domain", "client_id", "timeout_read", "allowed_hosts"):
        if other != field:
            assert getattr(settings, other) == getattr(untouched, other)


def test_environ_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ES_OAUTH2__CLIENT_ID", "from-os-environ")
    assert Settings.load().client_id == "from-os-environ"


@pytest.mark.parametrize(
    "var", ["ES_HTTP__TIMEOUT_CONNECT", "ES_HTTP__TIMEOUT_READ", "ES_OAUTH2__REFRESH_LEEWAY"]
)
def test_non_numeric_environment_number_names_the_variable(var: str) -> None:
    message = _error(environ={var: "soon"})
    assert var in message
    assert "number" in message


@pytest.mark.parametrize("raw", ['["a.org", ', '{"a": 1}', '["a.org", 3]'])
def test_bad_json_allowed_hosts_names_the_variable(raw: str) -> None:
    assert "ES_OAUTH2__ALLOWED_HOSTS" in _error(environ={"ES_OAUTH2__ALLOWED_HOSTS": raw})


def test_invalid_environment_value_names_the_variable() -> None:
    """C58: plain http to a non-loopback host is refused, and the message says where from."""
    message = _error(environ={"ES_OAUTH2__DOMAIN": "http://login.example.org/"})
    assert message.startswith("environment variable ES_OAUTH2__DOMAIN: ")
    assert "https://" in message


@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_environment_values_count_as_unset(blank: str) -> None:
    _write('[default.oauth2]\nclient_id = "from-file"\n')
    environ = {var: blank for var in ("ES_OAUTH2__CLIENT_ID", "ES_HTTP__TIMEOUT_READ")}
    settings = Settings.load(environ={**environ, "ES_PROFILE": blank})
    assert settings.client_id == "from-file"
    assert settings.timeout_read == Settings().timeout_read
    assert settings.profile == "default"


# --- profiles ----------------------------------------------------------------------------

TWO_PROFILES = """
[default.oauth2]
client_id = "default-client"

[profile.dev.oauth2]
client_id = "dev-client"

[profile.prod.oauth2]
client_id = "prod-client"
"""


def test_profile_defaults_to_default() -> None:
    _write(TWO_PROFILES)
    settings = Settings.load(environ={})
    assert (settings.profile, settings.client_id) == ("default", "default-client")


def test_profile_selected_by_argument() -> None:
    _write(TWO_PROFILES)
    settings = Settings.load("dev", environ={"ES_PROFILE": "prod"})
    assert (settings.profile, settings.client_id) == ("dev", "dev-client")


def test_profile_selected_by_es_profile() -> None:
    _write(TWO_PROFILES)
    settings = Settings.load(environ={"ES_PROFILE": "prod"})
    assert (settings.profile, settings.client_id) == ("prod", "prod-client")


def test_profile_table_deep_merges_over_default() -> None:
    _write(
        """
[default.oauth2]
client_id = "default-client"
scope = "openid"
audience = "https://aud.example.org"

[default.http]
timeout_read = 11

[profile.dev.oauth2]
scope = "openid offline_access"
"""
    )
    settings = Settings.load("dev", environ={})
    assert settings.scope == "openid offline_access"  # overridden by the profile
    assert settings.client_id == "default-client"  # rest of the [default.oauth2] table kept
    assert settings.audience == "https://aud.example.org"
    assert settings.timeout_read == 11.0  # untouched sibling table kept


def test_unknown_profile_lists_existing_ones() -> None:
    path = _write(TWO_PROFILES)
    message = _error(profile="staging", environ={})
    assert "'staging'" in message
    assert str(path) in message
    assert "default, dev, prod" in message
    assert "the profile argument" in message


def test_unknown_profile_from_es_profile_says_so() -> None:
    _write(TWO_PROFILES)
    assert "ES_PROFILE" in _error(environ={"ES_PROFILE": "nope"})


def test_any_profile_is_the_defaults_when_there_is_no_config_file() -> None:
    settings = Settings.load("dev", environ={})
    assert settings.profile == "dev"
    assert settings.domain == Settings().domain


def test_empty_profile_table_is_enough() -> None:
    _write("[profile.ci]\n")
    assert Settings.load("ci", environ={}).profile == "ci"


def test_profile_name_must_be_safe_as_a_directory() -> None:
    _write('[profile."../evil"]\n')
    assert "profile" in _error(profile="../evil", environ={})


# --- precedence --------------------------------------------------------------------------


def test_all_four_layers_overrides_win() -> None:
    _write("[default.http]\ntimeout_read = 2\n")
    environ = {"ES_HTTP__TIMEOUT_READ": "3"}
    assert Settings().timeout_read == 30.0
    assert Settings.load(environ=environ, timeout_read=4).timeout_read == 4.0


def test_overrides_beat_environment() -> None:
    environ = {"ES_OAUTH2__CLIENT_ID": "env"}
    assert Settings.load(environ=environ, client_id="arg").client_id == "arg"


def test_environment_beats_file() -> None:
    _write('[default.oauth2]\nclient_id = "file"\n')
    assert Settings.load(environ={"ES_OAUTH2__CLIENT_ID": "env"}).client_id == "env"


def test_file_beats_default() -> None:
    _write('[default.oauth2]\nclient_id = "file"\n')
    assert Settings.load(environ={}).client_id == "file"


def test_explicit_none_override_clears_a_secret_from_env() -> None:
    environ = {"ES_OAUTH2__CLIENT_SECRET": "env-secret"}
    assert Settings.load(environ=environ, client_secret=None).client_secret is None


def test_unknown_override_is_a_config_error() -> None:
    assert "'domian'" in _error(environ={}, domian="https://x.org/")


def test_invalid_override_names_the_argument() -> None:
    message = _error(environ={}, timeout_read=0)
    assert message.startswith("argument timeout_read=: ")


# --- config file -------------------------------------------------------------------------


def test_missing_file_gives_defaults() -> None:
    assert Settings.load(environ={}) == Settings()
    assert Settings.load(environ={}, config_path=_home() / "nope.toml") == Settings()


def test_config_path_expands_home_at_call_time() -> None:
    _write('[default.oauth2]\nclient_id = "tilde"\n', _home() / "cfg" / "es.toml")
    assert Settings.load(environ={}, config_path="~/cfg/es.toml").client_id == "tilde"


def test_default_config_path_follows_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other-home"
    _write('[default.oauth2]\nclient_id = "other"\n', other / ".earthscope" / "config.toml")
    assert Settings.load(environ={}).client_id == Settings().client_id
    monkeypatch.setenv("HOME", str(other))
    assert Settings.load(environ={}).client_id == "other"


def test_every_1x_nested_key_maps_to_a_field() -> None:
    _write(
        """
[default.oauth2]
domain = "https://login.example.org"
audience = "https://aud.example.org"
client_id = "cid"
client_secret = "cs"
scope = "openid"
refresh_token = "rt"
allowed_hosts = ["A.example.org"]
client_auth_method = "client_secret_basic"
refresh_leeway = 5
token_path = "/custom/token"

[default.resources]
api_url = "http://127.0.0.1:8080"

[default.http]
timeout_connect = 1
timeout_read = 2.5
"""
    )
    s = Settings.load(environ={})
    assert (s.domain, s.audience, s.client_id) == (
        "https://login.example.org/",
        "https://aud.example.org",
        "cid",
    )
    assert (s.client_secret, s.scope, s.refresh_token) == ("cs", "openid", "rt")
    assert (s.allowed_hosts, s.client_auth_method) == (("a.example.org",), "client_secret_basic")
    assert (s.refresh_leeway, s.token_url) == (5.0, "https://login.example.org/custom/token")
    assert (s.api_url, s.timeout_connect, s.timeout_read) == ("http://127.0.0.1:8080/", 1.0, 2.5)


def test_flat_field_names_at_the_top_of_a_table() -> None:
    _write('[default]\nrefresh_leeway = 7\ntimeout_read = 8\napi_url = "https://a.example.org/"\n')
    s = Settings.load(environ={})
    assert (s.refresh_leeway, s.timeout_read, s.api_url) == (7.0, 8.0, "https://a.example.org/")


def test_flat_name_in_profile_overrides_nested_name_in_default() -> None:
    _write('[default.oauth2]\nscope = "a"\n[profile.dev]\nscope = "b"\n')
    assert Settings.load("dev", environ={}).scope == "b"


def test_same_field_twice_in_one_table_is_an_error() -> None:
    _write('[default]\nscope = "a"\n[default.oauth2]\nscope = "b"\n')
    assert "second time" in _error(environ={})


def test_malformed_toml_names_file_and_line() -> None:
    path = _write('[default.oauth2]\nclient_id = = "x"\n')
    message = _error(environ={})
    assert str(path) in message
    assert "line 2" in message


def test_non_utf8_file_is_a_config_error() -> None:
    path = _home() / "latin1.toml"
    path.write_bytes(b'[default]\nscope = "caf\xe9"\n')
    assert "UTF-8" in _error(environ={}, config_path=path)


def test_unreadable_config_path_is_a_config_error() -> None:
    assert "cannot read" in _error(environ={}, config_path=_home())


@pytest.mark.parametrize(
    ("text", "key", "table"),
    [
        ('[profile.dev.oauth2]\ndomian = "https://x.org/"\n', "'oauth2.domian'", "[profile.dev]"),
        ("[default]\nprofile = 'x'\n", "'profile'", "[default]"),
        ("[default.http]\nretries = 3\n", "'http.retries'", "[default]"),
    ],
)
def test_unknown_key_names_file_key_and_table(text: str, key: str, table: str) -> None:
    path = _write(text)
    message = _error(profile="dev" if "dev" in text else None, environ={})
    assert str(path) in message
    assert f"unknown key {key} in {table}" in message


def test_unknown_key_suggests_the_close_one() -> None:
    _write('[profile.dev.oauth2]\ndomian = "https://x.org/"\n')
    assert "did you mean 'oauth2.domain'" in _error(profile="dev", environ={})


@pytest.mark.parametrize("text", ["[staging]\n", "default = 3\n", "profile = 'dev'\n"])
def test_bad_top_level_layout_is_an_error(text: str) -> None:
    assert str(_write(text)) in _error(environ={})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[default.http]\ntimeout_read = '30'\n", "'http.timeout_read'"),
        ("[default.http]\ntimeout_read = true\n", "'http.timeout_read'"),
        ("[default.oauth2]\nclient_id = 42\n", "'oauth2.client_id'"),
        ("[default.oauth2]\nallowed_hosts = 'a.org'\n", "'oauth2.allowed_hosts'"),
        ("[default.oauth2]\nallowed_hosts = ['a.org', 1]\n", "'oauth2.allowed_hosts'"),
        ("[default]\noauth2 = 'x'\n", "default.oauth2"),
    ],
)
def test_wrong_value_type_names_file_and_key(text: str, key: str) -> None:
    path = _write(text)
    message = _error(environ={})
    assert str(path) in message
    assert key in message


def test_plain_http_to_a_remote_host_in_a_file_is_refused() -> None:
    """C58: the error names the file and key the bad URL came from."""
    path = _write('[profile.dev.oauth2]\ndomain = "http://login.example.org/"\n')
    message = _error(profile="dev", environ={})
    assert message.startswith(f"{path}: key 'oauth2.domain' in [profile.dev]: ")
    assert "https://" in message


def test_plain_http_to_loopback_in_a_file_is_allowed() -> None:
    _write('[default.oauth2]\ndomain = "http://localhost:9000/"\n')
    assert Settings.load(environ={}).domain == "http://localhost:9000/"


# --- token file locations ----------------------------------------------------------------


def test_tokens_file_is_per_profile_and_follows_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(profile="dev")
    assert settings.tokens_file == _home() / ".earthscope" / "dev" / "tokens.json"
    legacy = _home() / ".config" / "earthscope-cli" / "sso_tokens.json"
    assert settings.legacy_tokens_file == legacy
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert settings.legacy_tokens_file == tmp_path / "xdg" / "earthscope-cli" / "sso_tokens.json"
    monkeypatch.setenv("APP_DIRECTORY", str(tmp_path / "app"))
    assert settings.legacy_tokens_file == tmp_path / "app" / "sso_tokens.json"
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    assert settings.tokens_file == tmp_path / "elsewhere" / ".earthscope" / "dev" / "tokens.json"


# --- secrets never leak (C54) ------------------------------------------------------------


def test_secret_from_file_is_not_in_repr() -> None:
    _write(f'[default.oauth2]\nclient_secret = "{SECRET}"\nrefresh_token = "{SECRET}"\n')
    settings = Settings.load(environ={})
    assert settings.client_secret == SECRET
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)


@pytest.mark.parametrize(
    "text",
    [
        f'[default.oauth2]\nclient_secret = "{SECRET}\n',  # unterminated string
        f'[default.oauth2]\nclient_secret = "{SECRET}" x\n',  # junk after the value
        f'[default.oauth2]\nclient_secret = ["{SECRET}"]\n',  # wrong type
        f'[default.oauth2]\nrefresh_token = {{ value = "{SECRET}" }}\n',  # wrong type
        f'[default.oauth2]\nclient_secert = "{SECRET}"\n',  # unknown key
        f'[default]\nclient_secret = "{SECRET}"\n[default.oauth2]\nclient_secret = "{SECRET}"\n',
        f'[default.oauth2]\nclient_secret = "{SECRET}"\ndomain = "http://x.org/"\n',
        f'[default.oauth2]\nclient_secret = "{SECRET}"\n[profile.x]\n',  # unknown profile
        f'[default.oauth2]\nallowed_hosts = ["{SECRET}", 1]\n',
    ],
)
def test_secret_from_file_never_in_a_config_error(text: str) -> None:
    _write(text)
    with pytest.raises(ConfigError) as info:
        Settings.load("y" if "profile.x" in text else None, environ={})
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_secret_from_environment_never_in_a_config_error() -> None:
    environ = {"ES_OAUTH2__CLIENT_SECRET": SECRET, "ES_OAUTH2__REFRESH_TOKEN": SECRET}
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={**environ, "ES_HTTP__TIMEOUT_READ": "-1"})
    assert "ES_HTTP__TIMEOUT_READ" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(Settings.load(environ=environ))
