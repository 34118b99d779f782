"""Settings: defaults, validation (C58), immutability, no secrets in repr."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from earthscope_sdk_async import ConfigError, Settings
from earthscope_sdk_async._settings import is_loopback_host


def test_defaults_talk_to_production_earthscope() -> None:
    s = Settings()
    assert s.domain == "https://login.earthscope.org/"
    assert s.audience == "https://api.earthscope.org"
    assert s.client_id == "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
    assert s.scope == "openid profile email offline_access"
    assert s.api_url == "https://api.earthscope.org/"
    assert s.refresh_leeway == 60
    assert s.token_url == "https://login.earthscope.org/oauth/token"
    assert s.device_code_url == "https://login.earthscope.org/oauth/device/code"
    assert s.revoke_url == "https://login.earthscope.org/oauth/revoke"
    assert s.userinfo_url == "https://login.earthscope.org/userinfo"
    assert not s.is_machine


def test_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        Settings("https://login.earthscope.org/")  # type: ignore[misc]
    s = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.domain = "https://x/"  # type: ignore[misc]


def test_trailing_slash_added_and_paths_joined() -> None:
    s = Settings(
        domain="https://tenant.example.com",
        api_url="https://api.example.com/v1",
        token_path="/custom/token",
    )
    assert s.domain == "https://tenant.example.com/"
    assert s.api_url == "https://api.example.com/v1/"
    assert s.token_url == "https://tenant.example.com/custom/token"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/", "http://localhost:1/", "http://[::1]:9/", "http://127.5.6.7/"]
)
def test_c58_http_allowed_for_loopback(url: str) -> None:
    assert Settings(domain=url, api_url=url).domain.startswith("http://")


@pytest.mark.parametrize(
    "url",
    [
        "http://login.earthscope.org/",
        "http://10.0.0.1/",
        "ftp://x/",
        "login.earthscope.org",
        "",
        "https://x/?a=1",
    ],
)
def test_c58_bad_urls_rejected_with_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings(domain=url)
    assert "domain" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("refresh_leeway", -1),
        ("refresh_leeway", "60"),
        ("timeout_read", 0),
        ("timeout_connect", float("nan")),
        ("client_id", ""),
        ("client_auth_method", "private_key_jwt"),
        ("client_secret", ""),
        ("token_path", "https://evil/"),
    ],
)
def test_invalid_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        Settings(**{field: value})


def test_secret_never_in_repr() -> None:
    s = Settings(client_secret="SENTINEL-SECRET", refresh_token="SENTINEL-RT")
    assert "SENTINEL" not in repr(s)
    assert "SENTINEL" not in str(s)
    assert s.is_machine


def test_allowed_hosts_accepts_comma_string_and_lowercases() -> None:
    s = Settings(allowed_hosts="Example.org, *.Example.org")  # type: ignore[arg-type]
    assert s.allowed_hosts == ("example.org", "*.example.org")


def test_replace_validates_and_rejects_unknown() -> None:
    s = Settings().replace(refresh_leeway=5)
    assert s.refresh_leeway == 5.0
    with pytest.raises(ConfigError):
        Settings().replace(nope=1)
    with pytest.raises(ConfigError):
        Settings().replace(domain="http://example.com/")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.1.2.3", True),
        ("10.0.0.1", False),
        ("earthscope.org", False),
        ("", False),
        (None, False),
        ("localhost.evil.com", False),
    ],
)
def test_is_loopback_host(host: str | None, expected: bool) -> None:
    assert is_loopback_host(host) is expected


def test_refresh_ahead_validated_and_loaded_from_env() -> None:
    assert Settings().refresh_ahead == 0.0
    with pytest.raises(ConfigError, match="refresh_ahead"):
        Settings(refresh_ahead=-1)
    loaded = Settings.load(environ={"ES_OAUTH2__REFRESH_AHEAD": "120"})
    assert loaded.refresh_ahead == 120.0


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://127.0.0.1:99999/", "http://127.0.0.1:abc/", "http://127.0.0.1:0/"],
)
def test_malformed_urls_and_ports_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="api_url"):
        Settings(api_url=url)


def test_credentials_in_urls_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as info:
        Settings(api_url="http://user:SENTINELPW@127.0.0.1:8080/")
    assert "SENTINELPW" not in str(info.value)


def test_safe_url_drops_credentials_query_and_fragment() -> None:
    from earthscope_sdk_async._urls import safe_url

    assert safe_url("https://u:SECRET@h.org/a?sig=X#f") == "https://h.org/a"
    assert safe_url("http://[::1") == "http://[::1"
    assert safe_url("http://u:SECRET@[::1/x?q") == "http://[::1/x"


def test_s3_settings_from_env_file_and_validation(tmp_path: Path) -> None:
    assert Settings().s3_endpoint_url is None and Settings().s3_region == "us-east-2"
    config = tmp_path / "config.toml"
    config.write_text(
        '[default.s3]\nendpoint_url = "http://127.0.0.1:9000"\nregion = "eu-west-1"\n'
    )
    from_file = Settings.load(environ={}, config_path=config)
    assert from_file.s3_endpoint_url == "http://127.0.0.1:9000"
    assert from_file.s3_region == "eu-west-1"
    env = {"ES_S3__ENDPOINT_URL": "https://s3.example.org", "ES_S3__REGION": "us-west-2"}
    from_env = Settings.load(environ=env, config_path=config)
    assert (from_env.s3_endpoint_url, from_env.s3_region) == ("https://s3.example.org", "us-west-2")
    with pytest.raises(ConfigError, match="ES_S3__ENDPOINT_URL"):
        Settings.load(environ={"ES_S3__ENDPOINT_URL": "http://s3.example.org"}, config_path=config)
    with pytest.raises(ConfigError, match="s3_region"):
        Settings(s3_region="Not A Region")


def test_query_plan_defaults_from_env_file_and_validation(tmp_path: Path) -> None:
    defaults = Settings()
    assert defaults.query_plan_memory_limit_bytes is None
    assert defaults.query_plan_timeout_seconds is None
    config = tmp_path / "config.toml"
    config.write_text("[default.query_plan]\nmemory_limit_bytes = 1000\ntimeout_seconds = 30\n")
    from_file = Settings.load(environ={}, config_path=config)
    assert from_file.query_plan_memory_limit_bytes == 1000
    assert from_file.query_plan_timeout_seconds == 30.0
    env = {
        "ES_QUERY_PLAN__MEMORY_LIMIT_BYTES": "2000000000",
        "ES_QUERY_PLAN__TIMEOUT_SECONDS": "12.5",
    }
    from_env = Settings.load(environ=env, config_path=config)
    assert from_env.query_plan_memory_limit_bytes == 2_000_000_000
    assert from_env.query_plan_timeout_seconds == 12.5
    with pytest.raises(ConfigError, match=r"ES_QUERY_PLAN__MEMORY_LIMIT_BYTES.*whole number"):
        Settings.load(environ={"ES_QUERY_PLAN__MEMORY_LIMIT_BYTES": "2GB"}, config_path=config)
    with pytest.raises(ConfigError, match="ES_QUERY_PLAN__TIMEOUT_SECONDS"):
        Settings.load(environ={"ES_QUERY_PLAN__TIMEOUT_SECONDS": "0"}, config_path=config)
    config.write_text("[default.query_plan]\nmemory_limit_bytes = 1.5\n")
    with pytest.raises(ConfigError, match=r"memory_limit_bytes.*integer"):
        Settings.load(environ={}, config_path=config)
    with pytest.raises(ConfigError, match="query_plan_memory_limit_bytes"):
        Settings(query_plan_memory_limit_bytes=-1)
    with pytest.raises(ConfigError, match="query_plan_memory_limit_bytes"):
        Settings(query_plan_memory_limit_bytes=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="query_plan_timeout_seconds"):
        Settings(query_plan_timeout_seconds=float("inf"))
