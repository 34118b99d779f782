"""``earthscope-async status`` and ``profile``: what the stored tokens say, and who you are.

``status`` reads the token store only (no network) and never prints a token.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from .._client import AsyncEarthScopeClient
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
    return data


def _expiry_text(data: dict[str, Any]) -> str:
    left = data["expires_in_s"]
    if left is None:
        return "valid, expiry unknown (opaque token)"
    when = datetime.fromisoformat(data["expires_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    if left > 0:
        return f"valid, expires in {format_duration(left)} ({when})"
    renew = "refreshed on next use" if data["refresh_token"] else "renewed on next use"
    return f"expired {format_duration(-left)} ago ({when}); {renew}"


def _print_status(ui: Output, data: dict[str, Any]) -> None:
    who = data["email"] or data["subject"] or "an unknown subject"
    if data["email"] and data["subject"]:
        who = f"{data['email']} ({data['subject']})"
    ui.line(f"Logged in as {who}")
    ui.fields(
        [
            ("profile", data["profile"]),
            ("token file", data["tokens_file"]),
            ("access token", _expiry_text(data)),
            ("scopes", " ".join(data["scopes"]) or "(none)"),
            ("refresh token", "present" if data["refresh_token"] else "none"),
            ("client", f"{data['client']}, client id {data['client_id']}"),
            ("identity", data["domain"]),
            ("API", data["api_url"]),
        ],
        indent="  ",
    )


async def show_status(
    client: AsyncEarthScopeClient, ui: Output, *, as_json: bool, profile: str | None = None
) -> int:
    """Print the status of ``client``'s stored tokens; exit code 3 when logged out."""
    tokens = await client.tokens.load()
    data = status_data(client, tokens)
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
    return OK


async def show_profile(client: AsyncEarthScopeClient, ui: Output) -> int:
    """Print the user's profile as JSON."""
    ui.json(await client.user.get_profile())
    return OK


def run(args: argparse.Namespace) -> int:
    """Run ``status`` or ``profile``."""
    ui = Output()
    if args.command == "status":
        return with_client(
            args, lambda c: show_status(c, ui, as_json=args.json, profile=args.profile)
        )
    return with_client(args, lambda c: show_profile(c, ui))
