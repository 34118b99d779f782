"""Token authority: issues access/id tokens, keeps refresh-token families, checks bearers."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import _jwt
from ._response import Response, json_response, oauth_error

__all__ = ["AccessRecord", "TokenAuthority"]


@dataclass(frozen=True)
class AccessRecord:
    """What the server remembers about an access token it issued."""

    sub: str
    client_id: str
    scope: str
    audiences: tuple[str, ...]
    expires_at: float  # time.monotonic() + lifetime + clock_offset: fractions are exact
    family: str | None
    email: str = "fake-user@example.org"


@dataclass
class _Family:
    id: str
    client_id: str
    sub: str
    scope: str
    audience: str | None
    revoked: bool = False
    tokens: list[str] = field(default_factory=list)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _email(sub: str) -> str:
    return (
        "fake-user@example.org" if sub == "auth0|fake-user" else f"{sub.split('|')[-1]}@example.org"
    )


class TokenAuthority:
    """Issues and checks tokens. Every public method is safe to call from any thread."""

    def __init__(
        self, *, audience: str, lifetime: float, rotation: bool, reuse_detection: bool
    ) -> None:
        self.key = secrets.token_bytes(32)
        self.issuer = ""
        self.audience = audience
        self.lifetime = lifetime
        self.rotation = rotation
        self.reuse_detection = reuse_detection
        self.clock_offset = 0.0
        self.refresh_count = 0
        self.reuse_detections = 0
        self.client_credentials_count = 0
        self._lock = threading.RLock()
        self._access: dict[str, AccessRecord] = {}
        self._refresh: dict[str, tuple[str, bool]] = {}  # token -> (family id, used)
        self._families: dict[str, _Family] = {}

    @property
    def userinfo_url(self) -> str:
        """The userinfo audience every user access token also carries."""
        return self.issuer + "userinfo"

    # -- issuing -------------------------------------------------------------------------

    def _access_token(
        self,
        *,
        client_id: str,
        sub: str,
        scope: str,
        aud: str | list[str],
        lifetime: float,
        family: str | None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = time.time() + self.clock_offset
        jti = secrets.token_hex(12)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": aud,
            "iat": int(now),
            "exp": int(now + lifetime),
            "scope": scope,
            "azp": client_id,
            "jti": jti,
            **(extra or {}),
        }
        audiences = tuple(aud) if isinstance(aud, list) else (aud,)
        record = AccessRecord(
            sub,
            client_id,
            scope,
            audiences,
            time.monotonic() + lifetime + self.clock_offset,
            family,
            _email(sub),
        )
        with self._lock:
            self._access[jti] = record
        return _jwt.sign(claims, self.key)

    def _id_token(self, client_id: str, sub: str) -> str:
        now = time.time() + self.clock_offset
        claims = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": sub,
            "iat": int(now),
            "exp": int(now + 36000),
            "email": _email(sub),
            "name": "Fake User",
        }
        return _jwt.sign(claims, self.key)

    def _new_refresh(self, family: _Family) -> str:
        token = "v1." + secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[token] = (family.id, False)
            family.tokens.append(token)
        return token

    def user_tokens(
        self,
        *,
        client_id: str,
        sub: str,
        scope: str,
        audience: str | None,
        lifetime: float | None = None,
        family: _Family | None = None,
        new_refresh: bool = True,
    ) -> dict[str, Any]:
        """A token response for a user; starts a family when ``offline_access`` is in scope."""
        lifetime = self.lifetime if lifetime is None else lifetime
        scopes = scope.split()
        if family is None and "offline_access" in scopes:
            family = _Family(secrets.token_hex(8), client_id, sub, scope, audience)
            with self._lock:
                self._families[family.id] = family
        aud: list[str] = [audience, self.userinfo_url] if audience else [self.userinfo_url]
        payload: dict[str, Any] = {
            "access_token": self._access_token(
                client_id=client_id,
                sub=sub,
                scope=scope,
                aud=aud,
                lifetime=lifetime,
                family=family.id if family else None,
            ),
            "token_type": "Bearer",
            "expires_in": _number(lifetime),
            "scope": scope,
        }
        if family is not None and new_refresh:
            payload["refresh_token"] = self._new_refresh(family)
        if "openid" in scopes:
            payload["id_token"] = self._id_token(client_id, sub)
        return payload

    def machine_tokens(self, *, client_id: str, audience: str, scope: str) -> dict[str, Any]:
        """A client-credentials token response (no refresh token, C30)."""
        with self._lock:
            self.client_credentials_count += 1
        token = self._access_token(
            client_id=client_id,
            sub=f"{client_id}@clients",
            scope=scope,
            aud=audience,
            lifetime=self.lifetime,
            family=None,
            extra={"gty": "client-credentials"},
        )
        payload: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": _number(self.lifetime),
        }
        if scope:
            payload["scope"] = scope
        return payload

    # -- refresh and revocation ----------------------------------------------------------

    def refresh(self, token: str, client_id: str, scope: str | None) -> Response:
        """The ``refresh_token`` grant: rotation, reuse detection, families (C33-C38)."""
        with self._lock:
            found = self._refresh.get(token)
            family = self._families[found[0]] if found else None
            if found is None or family is None or family.revoked or family.client_id != client_id:
                return oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.")
            if found[1]:
                self.reuse_detections += 1
                if self.reuse_detection:
                    family.revoked = True
                    return oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.")
            granted = family.scope
            if scope:
                if not set(scope.split()) <= set(family.scope.split()):
                    return oauth_error(403, "invalid_scope", "Requested scope exceeds the grant.")
                granted = scope
            if self.rotation:
                self._refresh[token] = (family.id, True)
            self.refresh_count += 1
        payload = self.user_tokens(
            client_id=client_id,
            sub=family.sub,
            scope=granted,
            audience=family.audience,
            family=family,
            new_refresh=self.rotation,
        )
        return json_response(200, payload)

    def _family_of(self, refresh_token: str) -> _Family | None:
        found = self._refresh.get(refresh_token)
        return self._families.get(found[0]) if found else None

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the family of ``refresh_token``; ``False`` if it is not one of ours."""
        with self._lock:
            family = self._family_of(refresh_token)
            if family is not None:
                family.revoked = True
            return family is not None

    def family_size(self, refresh_token: str) -> int:
        """How many refresh tokens the family of ``refresh_token`` has issued."""
        with self._lock:
            family = self._family_of(refresh_token)
            return len(family.tokens) if family else 0

    # -- checking ------------------------------------------------------------------------

    def check_bearer(self, token: str, audience: str) -> AccessRecord | str:
        """The record of a valid token for ``audience``, else why it is invalid."""
        claims = _jwt.verify(token, self.key)
        with self._lock:
            record = self._access.get(str(claims.get("jti"))) if claims else None
            if record is None:
                return "The access token is malformed or was not issued by this server"
            if audience not in record.audiences:
                return "The access token was issued for another audience"
            if time.monotonic() >= record.expires_at:
                return "The access token expired"
            if record.family is not None and self._families[record.family].revoked:
                return "The access token was revoked"
            return record
