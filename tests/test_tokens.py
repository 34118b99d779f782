"""Tokens: claims decoding (C21, C62, C63), expiry (C60), rotation (C23), 1.x JSON format."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from _helpers import b64url as _b64url
from _helpers import make_jwt

from earthscope_sdk_async import Tokens
from earthscope_sdk_async._tokens import decode_jwt_claims, fingerprint


def test_c63_base64url_with_dash_and_underscore_and_padding() -> None:
    # a payload whose base64url encoding contains '-' and '_' and needs padding restored
    claims = {"sub": "\u00ff\u00fe\u00fd>>>???", "exp": 2_000_000_000}
    token = make_jwt(claims)
    payload = token.split(".")[1]
    assert "-" in payload or "_" in payload
    assert decode_jwt_claims(token) == claims


@pytest.mark.parametrize(
    "token",
    [
        "opaque-token",
        "a.b",
        "a.!!!.c",
        "a." + _b64url(b"[1,2]") + ".c",
        "a." + _b64url(b"not json") + ".c",
        "",
    ],
)
def test_c62_opaque_or_malformed_tokens_have_no_claims(token: str) -> None:
    assert decode_jwt_claims(token) is None


def test_expiry_from_explicit_expires_at_is_trusted() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    jwt = make_jwt({"exp": int((now + timedelta(hours=5)).timestamp())})
    t = Tokens(access_token=jwt, expires_at=now + timedelta(seconds=30))
    assert t.effective_expires_at == now + timedelta(seconds=30)
    assert t.is_expired(60, now=now)  # C60: expired at expiry minus leeway
    assert not t.is_expired(10, now=now)


def test_c21_expiry_falls_back_to_jwt_exp_then_unknown() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    jwt = make_jwt({"exp": int(now.timestamp()) + 120, "iat": int(now.timestamp())})
    t = Tokens(access_token=jwt)
    assert t.effective_expires_at == now + timedelta(seconds=120)
    assert t.issued_at == now
    assert not t.is_expired(60, now=now)
    assert t.is_expired(121, now=now)
    opaque = Tokens(access_token="opaque")
    assert opaque.effective_expires_at is None
    assert opaque.ttl(now=now) is None
    assert not opaque.is_expired(10**9, now=now)


def test_naive_expires_at_rejected_and_converted_to_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Tokens(access_token="a", expires_at=datetime(2030, 1, 1))
    plus2 = timezone(timedelta(hours=2))
    t = Tokens(access_token="a", expires_at=datetime(2030, 1, 1, 2, tzinfo=plus2))
    assert t.expires_at == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert t.expires_at is not None and t.expires_at.utcoffset() == timedelta(0)


def test_access_token_required() -> None:
    with pytest.raises(ValueError, match="access_token"):
        Tokens(access_token="")
    with pytest.raises(TypeError):
        Tokens(access_token="a", refresh_token=5)  # type: ignore[arg-type]


def test_repr_and_str_hide_secrets() -> None:
    t = Tokens(access_token="SECRET-AT", refresh_token="SECRET-RT", id_token="SECRET-ID")
    for text in (repr(t), str(t), f"{t}"):
        assert "SECRET" not in text
    assert fingerprint("SECRET-AT") in repr(t)


def test_c23_rotation_keeps_old_refresh_token_when_omitted() -> None:
    old = Tokens(access_token="a1", refresh_token="r1", id_token="i1")
    assert Tokens(access_token="a2").rotated_from(old).refresh_token == "r1"
    assert Tokens(access_token="a2").rotated_from(old).id_token == "i1"
    assert Tokens(access_token="a2", refresh_token="r2").rotated_from(old).refresh_token == "r2"
    assert Tokens(access_token="a2").rotated_from(None).refresh_token is None


def test_json_round_trip_in_1x_shape() -> None:
    exp = datetime(2030, 1, 1, 12, 30, tzinfo=timezone.utc)
    t = Tokens(access_token="a", refresh_token="r", id_token="i", scope="openid", expires_at=exp)
    data = json.loads(t.to_json())
    assert data["access_token"] == "a"
    assert data["refresh_token"] == "r"
    assert data["id_token"] == "i"
    assert data["expires_at"] == exp.timestamp()
    assert Tokens.from_json(t.to_json()) == t


def test_nulls_omitted_and_1x_file_with_only_three_keys_loads() -> None:
    data = json.loads(Tokens(access_token="a").to_json())
    assert "refresh_token" not in data
    assert "id_token" not in data
    t = Tokens.from_json(
        json.dumps({"access_token": "a", "id_token": None, "refresh_token": "r", "unknown": 1})
    )
    assert t.refresh_token == "r"
    assert t.id_token is None


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '{"access_token": 5}',
        '{"access_token": "a", "expires_at": "x"}',
        '{"access_token": "a", "refresh_token": 3}',
        "not json",
    ],
)
def test_from_json_rejects_bad_shapes(text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        Tokens.from_json(text)


def test_subject_prefers_id_token() -> None:
    t = Tokens(access_token=make_jwt({"sub": "from-access"}), id_token=make_jwt({"sub": "from-id"}))
    assert t.subject == "from-id"
    assert Tokens(access_token=make_jwt({"sub": "from-access"})).subject == "from-access"
    assert Tokens(access_token="opaque").subject is None
