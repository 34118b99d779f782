"""``earthscope-async status`` and ``profile``: what the stored tokens say, and who you are.

``status`` reads the token store only (no network, unless ``--check``) and never prints a
token. It reports a refresh token the identity provider rejected (recorded by the token
manager when a refresh failed with ``invalid_grant``), so it never claims a session that
every other command would refuse.
"""

from __future__ import annotations

import argparse
import contextlib
from datetime import datetime, timezone
from typing import Any

from .._client import AsyncEarthScopeClient
from .._errors import LoginRequiredError
from .._tokens import Tokens
from ._errors import LOGIN_REQUIRED, OK, login_hint
from ._output import Output, format_duration
from ._run import token_file, with_client

__all__ = ["run", "show_profile", "show_status", "status_data"]


def _scopes(tokens: Tokens) -> list[str]:
    scope = tokens.scope
    if scope is None:
        claimed = (tokens.access_claims or {}).get("scope")
        scope = claimed if isinstance(claimed, str) else ""
    return scope.split()


def _identity(tokens: Tokens) -> dict[str, Any]:
    claims = tokens.id_claims or {}
    email = claims.get("email")
    return {"subject": tokens.subject, "email": email if isinstance(email, str) else None}


def _expiry(tokens: Tokens, now: datetime) -> dict[str, Any]:
    expires = tokens.effective_expires_at
    left = None if expires is None else int((expires - now).total_seconds())
    return {
        "expires_at": None if expires is None else expires.isoformat(),
        "expires_in_s": left,
        "access_token_valid": left is None or left > 0,
    }


def status_data(client: AsyncEarthScopeClient, tokens: Tokens | None) -> dict[str, Any]:
    """The status as JSON-able data: identity, expiry, scopes; never a token."""
    settings = client.settings
    data: dict[str, Any] = {
        "profile": settings.profile,
        "logged_in": tokens is not None,
        "tokens_file": token_file(client),
        "client": "machine (client credentials)" if settings.is_machine else "device login",
        "client_id": settings.client_id,
        "domain": settings.domain,
        "api_url": settings.api_url,
    }
    if tokens is not None:
        data.update(_identity(tokens))
        data.update(_expiry(tokens, datetime.now(timezone.utc)))
        data["scopes"] = _scopes(tokens)
        data["refresh_token"] = tokens.refresh_token is not None
        rejected = tokens.refresh_rejected_at
        data["refresh_token_rejected_at"] = None if rejected is None else rejected.isoformat()
        data["session_over"] = _session_over(data)
    return data


def _session_over(data: dict[str, Any]) -> bool:
    """True when no command can get a valid access token without a new login."""
    return data["refresh_token_rejected_at"] is not None and not data["access_token_valid"]


def _expiry_text(data: dict[str, Any]) -> str:
    left = data["expires_in_s"]
    if left is None:
        return "valid, expiry unknown (opaque token)"
    when = datetime.fromisoformat(data["expires_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    if left > 0:
        return f"valid, expires in {format_duration(left)} ({when})"
    if data["refresh_token_rejected_at"] is not None:
        renew = "log in again"
    elif data["refresh_token"]:
        renew = "refreshed on next use"
    else:
        renew = "renewed on next use"
    return f"expired {format_duration(-left)} ago ({when}); {renew}"


def _refresh_text(data: dict[str, Any]) -> str:
    rejected = data["refresh_token_rejected_at"]
    if rejected is not None:
        when = datetime.fromisoformat(rejected).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"rejected by the identity provider on {when} (revoked or expired)"
    return "present" if data["refresh_token"] else "none"


def _print_status(ui: Output, data: dict[str, Any]) -> None:
    who = data["email"] or data["subject"] or "an unknown subject"
    if data["email"] and data["subject"]:
        who = f"{data['email']} ({data['subject']})"
    if data["session_over"]:
        ui.line(f"Session over for {who}: the refresh token was revoked or expired")
    else:
        ui.line(f"Logged in as {who}")
    ui.fields(
        [
            ("profile", data["profile"]),
            ("token file", data["tokens_file"]),
            ("access token", _expiry_text(data)),
            ("scopes", " ".join(data["scopes"]) or "(none)"),
            ("refresh token", _refresh_text(data)),
            ("client", f"{data['client']}, client id {data['client_id']}"),
            ("identity", data["domain"]),
            ("API", data["api_url"]),
        ],
        indent="  ",
    )


async def _check(client: AsyncEarthScopeClient) -> Tokens | None:
    """Verify the session with the identity provider: one forced refresh (client
    credentials for machines). A rejection is recorded by the token manager; network and
    server errors propagate (exit 5 or 6: the state is unknown)."""
    if await client.tokens.load() is None:
        return None
    with contextlib.suppress(LoginRequiredError):  # recorded in the store: shown below
        await client.refresh(force=True)
    return client.tokens.tokens


async def show_status(
    client: AsyncEarthScopeClient,
    ui: Output,
    *,
    as_json: bool,
    profile: str | None = None,
    check: bool = False,
) -> int:
    """Print the status of ``client``'s stored tokens (verified with the identity provider
    when ``check``); exit code 3 when logged out or when the session is over."""
    tokens = await (_check(client) if check else client.tokens.load())
    data = status_data(client, tokens)
    if check and tokens is not None:
        data["checked"] = True
    if as_json:
        ui.json(data)
    elif tokens is not None:
        _print_status(ui, data)
    if tokens is None:
        ui.note(
            f"earthscope-async: not logged in (profile '{client.settings.profile}'): "
            f"run `{login_hint(profile)}`"
        )
        return LOGIN_REQUIRED
    if data["refresh_token_rejected_at"] is not None:
        ui.note(
            "earthscope-async: the identity provider rejected the refresh token (the session "
            f"was revoked or expired): run `{login_hint(profile)}`"
        )
        if data["session_over"] or check:
            return LOGIN_REQUIRED
    elif check and not as_json:
        ui.note("earthscope-async: verified with the identity provider just now")
    return OK


async def show_profile(client: AsyncEarthScopeClient, ui: Output) -> int:
    """Print the user's profile as JSON."""
    ui.json(dict((await client.user.get_profile()).raw))
    return OK


def run(args: argparse.Namespace) -> int:
    """Run ``status`` or ``profile``."""
    ui = Output()
    if args.command == "status":
        return with_client(
            args,
            lambda c: show_status(c, ui, as_json=args.json, profile=args.profile, check=args.check),
        )
    return with_client(args, lambda c: show_profile(c, ui))
