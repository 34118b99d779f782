"""``earthscope-async token``: print a valid access token, and nothing else, on stdout.

The fast path reads ``~/.earthscope/<profile>/tokens.json`` (or earthscope-cli 0.x's file
while that one is missing, as the default store does) with the store's parsing rules
(:meth:`Tokens.from_json`) and prints a fresh token without importing httpx, anyio or the
client. Only an expired, missing or unreadable token takes the slow path through the client
(which refreshes, or explains what is wrong).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._settings import Settings
from .._tokens import Tokens
from ._errors import LOGIN_REQUIRED, OK, CliError, login_hint

if TYPE_CHECKING:
    from .._client import AsyncEarthScopeClient

__all__ = ["read_stored_tokens", "run"]


def _read(path: Path) -> Tokens | None:
    try:
        return Tokens.from_json(path.read_bytes())
    except (OSError, ValueError, TypeError):  # missing or bad: the client will explain
        return None


def read_stored_tokens(settings: Settings) -> Tokens | None:
    """The tokens the default store would load, or ``None`` when there are none (or the
    file cannot be read or parsed: the slow path then reports the store's own error)."""
    primary = settings.tokens_file
    if primary.exists():
        return _read(primary)
    return _read(settings.legacy_tokens_file)


def _print(token: str) -> int:
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return OK


def run(args: argparse.Namespace) -> int:
    """Print the access token; refresh it first when needed (unless ``--no-refresh``)."""
    settings = Settings.load(args.profile)
    tokens = read_stored_tokens(settings)
    if tokens is not None and not tokens.is_expired(settings.refresh_leeway):
        return _print(tokens.access_token)
    if args.no_refresh:
        return _print(_unrefreshed(tokens, settings, args.profile))
    return _print(_refreshed(args))


def _unrefreshed(tokens: Tokens | None, settings: Settings, profile: str | None) -> str:
    if tokens is None:
        where = settings.tokens_file
        why = f"{where} is not a valid token file" if where.exists() else "not logged in"
        raise CliError(f"{why}: run `{login_hint(profile)}`", LOGIN_REQUIRED)
    if tokens.is_expired():
        raise CliError(
            "the stored access token has expired and --no-refresh was given: run "
            f"`earthscope-async refresh{f' --profile {profile}' if profile else ''}`, "
            "or drop --no-refresh",
            LOGIN_REQUIRED,
        )
    return tokens.access_token  # expires within the leeway, but still valid


def _refreshed(args: argparse.Namespace) -> str:
    from ._run import with_client

    token = ""

    async def fetch(client: AsyncEarthScopeClient) -> int:
        nonlocal token
        token = await client.get_access_token()
        return OK

    with_client(args, fetch)
    return token
