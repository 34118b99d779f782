"""earthscope_sdk_async.compat pins the public API of earthscope-sdk 0.2.1 (and 0.2.0's
lookup_anon): module names, every public name, signatures (names, kinds, defaults), the error
hierarchy with 0.2.1's base classes (plus EarthScopeError), properties, abstract hooks and
the dataclass shapes subclasses rely on. The table below is written from the 0.2.1 wheel; the
original package is not imported.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any

import pytest

from earthscope_sdk_async import ConfigError, EarthScopeError
from earthscope_sdk_async.compat.auth import auth_flow, client_credentials_flow, device_code_flow
from earthscope_sdk_async.compat.user import user

E = inspect.Parameter.empty
DOMAIN = "login.earthscope.org"
AUDIENCE = "https://account.earthscope.org"
CLIENT_ID = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
SCOPE = "openid profile email offline_access"

# module -> the public names of 0.2.1 (lookup_anon from 0.2.0) + our additions
NAMES: dict[str, tuple[set[str], set[str]]] = {
    "earthscope_sdk_async.compat.auth.auth_flow": (
        {
            "AuthFlow",
            "AuthFlowError",
            "InvalidRefreshTokenError",
            "NoIdTokenError",
            "NoRefreshTokenError",
            "NoTokensError",
            "TokensResponse",
            "UnauthorizedError",
            "UnvalidatedTokens",
            "ValidTokens",
        },
        {"RevokeTokenError"},
    ),
    "earthscope_sdk_async.compat.auth.device_code_flow": (
        {
            "DeviceCodeFlow",
            "DeviceCodeFlowSimple",
            "GetDeviceCodeResponse",
            "PollingAccessDeniedError",
            "PollingError",
            "PollingErrorResponse",
            "PollingErrorType",
            "PollingExpiredError",
            "RequestDeviceTokensError",
            # 0.2.1's module namespace also had these (imported from auth_flow)
            "AuthFlow",
            "NoTokensError",
            "ValidTokens",
        },
        set(),
    ),
    "earthscope_sdk_async.compat.auth.client_credentials_flow": (
        {
            "ClientCredentials",
            "ClientCredentialsFlow",
            "ClientCredentialsFlowError",
            "ClientCredentialsFlowSimple",
            "GetTokensErrorResponse",
            "AuthFlow",
            "AuthFlowError",
            "NoTokensError",
            "UnauthorizedError",
            "ValidTokens",
        },
        set(),
    ),
    "earthscope_sdk_async.compat.user.user": (
        {"API_BASE_URL", "get_user", "lookup_anon"},
        {"UserRequestError"},
    ),
}

# (owner, member) -> [(name, kind, default)] without self; P = positional-or-keyword
P = inspect.Parameter.POSITIONAL_OR_KEYWORD
SIGNATURES: dict[tuple[Any, str], list[tuple[str, Any, Any]]] = {
    (auth_flow.AuthFlow, "__init__"): [
        ("domain", P, E),
        ("audience", P, E),
        ("client_id", P, E),
        ("scope", P, E),
    ],
    (auth_flow.AuthFlow, "load_tokens"): [],
    (auth_flow.AuthFlow, "save_tokens"): [("creds", P, E)],
    (auth_flow.AuthFlow, "refresh"): [("scope", P, None), ("revoke", P, False)],
    (auth_flow.AuthFlow, "validate_and_save_tokens"): [("unvalidated_creds", P, E)],
    (auth_flow.AuthFlow, "validate_tokens"): [("unvalidated_creds", P, E)],
    (auth_flow.AuthFlow, "get_access_token_refresh_if_necessary"): [
        ("no_auto_refresh", P, False),
        ("auto_refresh_threshold", P, 3600),
    ],
    (auth_flow.UnvalidatedTokens, "from_dict"): [("o", P, E)],
    (auth_flow.ValidTokens, "from_unvalidated"): [("creds", P, E), ("body", P, E)],
    (device_code_flow.DeviceCodeFlow, "__init__"): [
        ("domain", P, E),
        ("audience", P, E),
        ("client_id", P, E),
        ("scope", P, E),
    ],
    (device_code_flow.DeviceCodeFlow, "do_flow"): [],
    (device_code_flow.DeviceCodeFlow, "poll"): [],
    (device_code_flow.DeviceCodeFlow, "prompt_user"): [],
    (device_code_flow.DeviceCodeFlow, "request_device_code"): [],
    (device_code_flow.DeviceCodeFlowSimple, "__init__"): [
        ("path", P, E),
        ("domain", P, DOMAIN),
        ("audience", P, AUDIENCE),
        ("client_id", P, CLIENT_ID),
        ("scope", P, SCOPE),
    ],
    (device_code_flow.DeviceCodeFlowSimple, "load_tokens"): [],
    (device_code_flow.DeviceCodeFlowSimple, "save_tokens"): [("creds", P, E)],
    (device_code_flow.DeviceCodeFlowSimple, "prompt_user"): [],
    (client_credentials_flow.ClientCredentialsFlow, "__init__"): [
        ("domain", P, E),
        ("audience", P, E),
        ("client_credentials", P, E),
    ],
    (client_credentials_flow.ClientCredentialsFlow, "get_token_or_request_if_expired"): [],
    (client_credentials_flow.ClientCredentialsFlow, "request_tokens"): [],
    (client_credentials_flow.ClientCredentialsFlowSimple, "__init__"): [
        ("client_id", P, E),
        ("client_secret", P, E),
        ("path", P, E),
        ("domain", P, DOMAIN),
        ("audience", P, AUDIENCE),
    ],
    (client_credentials_flow.ClientCredentialsFlowSimple, "load_tokens"): [],
    (client_credentials_flow.ClientCredentialsFlowSimple, "save_tokens"): [("creds", P, E)],
    (user, "get_user"): [("access_token", P, E)],
    (user, "lookup_anon"): [("access_token", P, E), ("ids", P, E), ("emails", P, E)],
}

# error -> (its 0.2.1 base, the module it lives in)
ERRORS: dict[str, tuple[type[BaseException], Any]] = {
    "AuthFlowError": (Exception, auth_flow),
    "UnauthorizedError": (auth_flow.AuthFlowError, auth_flow),
    "NoTokensError": (auth_flow.AuthFlowError, auth_flow),
    "NoIdTokenError": (auth_flow.NoTokensError, auth_flow),
    "NoRefreshTokenError": (auth_flow.NoTokensError, auth_flow),
    "InvalidRefreshTokenError": (auth_flow.AuthFlowError, auth_flow),
    "ClientCredentialsFlowError": (auth_flow.AuthFlowError, client_credentials_flow),
    "RequestDeviceTokensError": (RuntimeError, device_code_flow),
    "PollingError": (ValueError, device_code_flow),
    "PollingExpiredError": (device_code_flow.PollingError, device_code_flow),
    "PollingAccessDeniedError": (device_code_flow.PollingError, device_code_flow),
}

PROPERTIES = {
    "access_token",
    "id_token",
    "refresh_token",
    "access_token_body",
    "id_token_body",
    "expires_at",
    "issued_at",
    "ttl",
    "has_refresh_token",
    "tokens",
}

FIELDS: dict[type[Any], list[str]] = {
    auth_flow.TokensResponse: [
        "access_token",
        "refresh_token",
        "id_token",
        "token_type",
        "expires_in",
        "scope",
    ],
    auth_flow.UnvalidatedTokens: ["access_token", "id_token", "refresh_token", "scope"],
    auth_flow.ValidTokens: [
        "access_token",
        "id_token",
        "refresh_token",
        "scope",
        "expires_at",
        "issued_at",
    ],
    device_code_flow.GetDeviceCodeResponse: [
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    ],
    device_code_flow.PollingErrorResponse: ["error", "error_description"],
    client_credentials_flow.ClientCredentials: ["client_id", "client_secret"],
    client_credentials_flow.GetTokensErrorResponse: ["error", "error_description"],
}


@pytest.mark.parametrize("module_name", sorted(NAMES))
def test_every_0_2_1_name_is_exported_and_nothing_else_unexpected(module_name: str) -> None:
    module = importlib.import_module(module_name)
    original, added = NAMES[module_name]
    assert set(module.__all__) == original | added
    for name in module.__all__:
        assert hasattr(module, name), name
    for name in original & {"AuthFlow", "AuthFlowError", "NoTokensError", "ValidTokens"}:
        assert getattr(module, name) is getattr(auth_flow, name)  # re-exports, not copies


def test_the_package_layout_mirrors_0_2_1() -> None:
    for name in ("compat", "compat.auth", "compat.user"):
        module = importlib.import_module(f"earthscope_sdk_async.{name}")
        assert module.__doc__
        assert module.__all__ == []


@pytest.mark.parametrize(
    ("owner", "member"), list(SIGNATURES), ids=lambda v: getattr(v, "__name__", v)
)
def test_signatures_match_0_2_1(owner: Any, member: str) -> None:
    params = list(inspect.signature(getattr(owner, member)).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    assert [(p.name, p.kind, p.default) for p in params] == SIGNATURES[(owner, member)]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_hierarchy_keeps_0_2_1_bases_and_adds_earthscope_error(name: str) -> None:
    base, module = ERRORS[name]
    cls = getattr(module, name)
    if base is Exception:  # AuthFlowError(Exception) becomes AuthFlowError(EarthScopeError)
        assert cls.__bases__ == (EarthScopeError,)
    else:
        assert cls.__bases__[0] is base  # the 0.2.1 base comes first
    assert issubclass(cls, base)
    assert issubclass(cls, EarthScopeError)
    error = cls()  # 0.2.1 code raises them without arguments
    assert isinstance(error, Exception)


def test_new_errors_keep_the_0_2_1_exception_types() -> None:
    assert issubclass(auth_flow.RevokeTokenError, RuntimeError)  # 0.2.1: bare RuntimeError
    assert issubclass(user.UserRequestError, RuntimeError)
    assert issubclass(user.UserRequestError, EarthScopeError)


def test_auth_flow_properties_and_abstract_hooks() -> None:
    for name in PROPERTIES:
        assert isinstance(inspect.getattr_static(auth_flow.AuthFlow, name), property), name
    assert auth_flow.AuthFlow.__abstractmethods__ == {"load_tokens", "save_tokens"}
    assert device_code_flow.DeviceCodeFlow.__abstractmethods__ == {
        "load_tokens",
        "save_tokens",
        "prompt_user",
    }
    assert client_credentials_flow.ClientCredentialsFlow.__abstractmethods__ == {
        "load_tokens",
        "save_tokens",
    }
    for name in ("polling", "started"):
        assert isinstance(inspect.getattr_static(device_code_flow.DeviceCodeFlow, name), property)
    assert not inspect.getattr_static(device_code_flow.DeviceCodeFlowSimple, "__abstractmethods__")


@pytest.mark.parametrize("cls", list(FIELDS), ids=lambda c: c.__name__)
def test_dataclass_shapes_match_0_2_1(cls: type[Any]) -> None:
    assert [f.name for f in dataclasses.fields(cls)] == FIELDS[cls]


def test_polling_error_type_values() -> None:
    assert {e.name: e.value for e in device_code_flow.PollingErrorType} == {
        "AUTHORIZATION_PENDING": "authorization_pending",
        "SLOW_DOWN": "slow_down",
        "EXPIRED_TOKEN": "expired_token",
        "ACCESS_DENIED": "access_denied",
    }
    assert device_code_flow.PollingErrorType("slow_down") == "slow_down"


def test_api_base_url_default() -> None:
    assert user.API_BASE_URL == "https://www.earthscope.org/api/v0"


def test_c54_reprs_never_show_secrets() -> None:
    tokens = auth_flow.ValidTokens("AT-SECRET", "IDT-SECRET", "RT-SECRET", "openid", 2, 1)
    codes = device_code_flow.GetDeviceCodeResponse("DC-SECRET", "ABCD-EFGH", "u", "u?c", 900, 5)
    creds = client_credentials_flow.ClientCredentials("id", "CS-SECRET")
    text = repr(tokens) + repr(codes) + repr(creds)
    for secret in ("AT-SECRET", "IDT-SECRET", "RT-SECRET", "DC-SECRET", "CS-SECRET"):
        assert secret not in text
    assert "ABCD-EFGH" in text  # the user code is meant to be shown
    assert vars(tokens)["refresh_token"] == "RT-SECRET"  # what 0.2.1's save_tokens dumps


class _Flow(device_code_flow.DeviceCodeFlow):
    def load_tokens(self) -> None: ...

    def save_tokens(self, creds: auth_flow.ValidTokens) -> None: ...

    def prompt_user(self) -> None: ...


def test_attributes_subclasses_read_are_set_as_in_0_2_1() -> None:
    flow = _Flow("login.example.org", "aud", "cid", "openid")
    assert (flow.auth0_domain, flow.auth0_audience, flow.auth0_client_id) == (
        "login.example.org",
        "aud",
        "cid",
    )
    assert flow.token_scope == "openid"
    assert flow._tokens is None and flow._device_codes is None
    assert flow._access_token_body is None and flow._id_token_body is None
    assert flow.polling is False and flow.started is False
    assert flow.has_refresh_token is False
    with pytest.raises(auth_flow.NoTokensError):
        _ = flow.access_token


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("login.earthscope.org", "https://login.earthscope.org/"),
        ("https://login.example.org", "https://login.example.org/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://localhost:8080/", "http://localhost:8080/"),
    ],
)
def test_domain_is_a_bare_host_or_a_url(domain: str, url: str) -> None:
    flow = _Flow(domain, "aud", "cid", "openid")
    assert flow._settings().domain == url
    assert flow._settings().token_url == url + "oauth/token"


def test_c58_plain_http_is_refused_unless_loopback() -> None:
    with pytest.raises(ValueError, match="http") as caught:
        _Flow("http://login.example.org", "aud", "cid", "openid")
    assert isinstance(caught.value, ConfigError)


def test_client_secret_is_required_as_in_0_2_1() -> None:
    with pytest.raises(ValueError, match="Client secret missing"):
        client_credentials_flow.ClientCredentialsFlowSimple("id", "", "/tmp/x.json")
