"""``earthscope-async logout`` and ``refresh``."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from .._client import AsyncEarthScopeClient
from .._tokens import Tokens, fingerprint
from ._errors import OK
from ._output import Output, format_duration
from ._run import with_client

__all__ = ["do_logout", "do_refresh", "expiry_phrase", "run"]


def expiry_phrase(tokens: Tokens) -> str:
    """``expires in 1 h 0 min`` (or ``expiry unknown``) for the access token."""
    ttl = tokens.ttl(now=datetime.now(timezone.utc))
    return "expiry unknown" if ttl is None else f"expires in {format_duration(ttl.total_seconds())}"


async def do_logout(client: AsyncEarthScopeClient, ui: Output, *, revoke: bool) -> int:
    """Revoke (unless ``revoke=False``) and delete the stored tokens."""
    had = await client.tokens.load()
    if had is None:
        ui.line(f"Not logged in (profile '{client.settings.profile}'): nothing to do.")
        return OK
    revoked = await client.logout(revoke=revoke)
    if not had.refresh_token:
        ui.line("Logged out: local tokens deleted (there was no refresh token to revoke).")
    elif not revoke:
        ui.line("Logged out: local tokens deleted (the refresh token was not revoked).")
    elif revoked:
        ui.line("Logged out: refresh token revoked, local tokens deleted.")
    else:
        ui.line("Logged out: local tokens deleted.")
        ui.warn("the identity provider could not revoke the refresh token (see above)")
    return OK


async def do_refresh(client: AsyncEarthScopeClient, ui: Output) -> int:
    """Refresh now and say what changed (fingerprints only, never the tokens)."""
    before = await client.tokens.load()
    tokens = await client.refresh(force=True)
    ui.line(f"Refreshed: the new access token {expiry_phrase(tokens)}.")
    old = before.refresh_token if before is not None else None
    if tokens.refresh_token and old and tokens.refresh_token != old:
        ui.line(
            f"The refresh token was rotated ({fingerprint(old)} -> "
            f"{fingerprint(tokens.refresh_token)}, sha256 prefixes)."
        )
    if client.tokens.last_save_error is not None:
        ui.warn(f"the new tokens could not be saved: {client.tokens.last_save_error}")
    return OK


def run(args: argparse.Namespace) -> int:
    """Run ``logout`` or ``refresh``."""
    ui = Output()
    if args.command == "logout":
        return with_client(args, lambda c: do_logout(c, ui, revoke=not args.no_revoke))
    return with_client(args, lambda c: do_refresh(c, ui))
