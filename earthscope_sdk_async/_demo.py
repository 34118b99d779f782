"""The offline demo: the whole journey against the built-in fake EarthScope, step by step.

Run with ``python -m earthscope_sdk_async demo``. No account and no network are needed: the
fake identity provider and API listen on 127.0.0.1.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import anyio
import httpx

from ._auth import EarthScopeAuth
from ._flows import DeviceCode
from ._manager import TokenManager
from ._stores import FileTokenStore
from ._tokens import Tokens, fingerprint

__all__ = ["run_demo"]


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {text}", file=self.out, flush=True)

    def line(self, text: str) -> None:
        print(f"    {text}", file=self.out, flush=True)


def _describe(p: _Printer, tokens: Tokens) -> None:
    ttl = tokens.ttl()
    p.line(f"access token  {fingerprint(tokens.access_token)} (sha256 prefix; never printed)")
    p.line(f"refresh token {'present' if tokens.refresh_token else 'none (machine client)'}")
    p.line(f"subject       {tokens.subject}")
    p.line(f"scope         {tokens.scope}")
    if ttl is not None:
        p.line(f"expires in    {int(ttl.total_seconds())} s")


async def _device_login(p: _Printer, fake: object, manager: TokenManager) -> None:
    from .testing import FakeEarthScope

    assert isinstance(fake, FakeEarthScope)

    async def prompt(code: DeviceCode) -> None:
        p.line("+--------------------------------------------------+")
        p.line(f"| open   {code.verification_uri:<42}|")
        p.line(f"| enter  {code.user_code:<42}|")
        p.line("+--------------------------------------------------+")
        p.line("(the demo approves the code in the fake identity provider for you)")
        fake.approve(code.user_code)

    tokens = await manager.login(prompt)
    polls = fake.count("token", grant_type="urn:ietf:params:oauth:grant-type:device_code")
    p.line(f"approved after {polls} poll(s) of the token endpoint")
    _describe(p, tokens)


async def _journey(p: _Printer, workdir: Path) -> None:
    from .testing import FakeEarthScope

    async with FakeEarthScope(device_interval=0.2, access_token_lifetime=3600) as fake:
        p.title(f"Started a fake EarthScope at {fake.url}")
        token_file = workdir / ".earthscope" / "default" / "tokens.json"
        store = FileTokenStore(token_file)
        manager = TokenManager(fake.settings(), store=store)

        p.title("Device login (RFC 8628): what a person sees")
        await _device_login(p, fake, manager)
        mode = stat.S_IMODE(os.stat(token_file).st_mode)
        p.line(f"saved to {token_file} (mode {mode:o}, written atomically)")

        p.title("Call the API with the bearer token (GET beta/user/profile)")
        async with httpx.AsyncClient(auth=EarthScopeAuth(manager)) as http:
            profile = (await http.get(fake.api_url + "beta/user/profile")).json()
            p.line(f"profile: {profile.get('email')} ({profile.get('user_id')})")

            p.title("200 concurrent requests with an expired token: one refresh")
            tokens = manager.tokens
            assert tokens is not None
            await manager.save(tokens.replace(expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
            before = fake.refresh_count
            async with anyio.create_task_group() as tg:
                for _ in range(200):
                    tg.start_soon(http.get, fake.api_url + "beta/user/profile")
            p.line(f"refresh requests seen by the server: {fake.refresh_count - before}")

        p.title("Forced refresh with rotation: the old refresh token is retired")
        old = manager.tokens
        new = await manager.refresh(force=True)
        assert old is not None
        p.line(
            f"refresh token {fingerprint(old.refresh_token)} -> {fingerprint(new.refresh_token)}"
        )

        p.title("Machine-to-machine login (client credentials)")
        machine = TokenManager(fake.machine_settings())
        _describe(p, await machine.login())

        p.title("Logout: revoke the refresh token, delete the file")
        revoked = await manager.logout()
        p.line(f"revoked server-side: {revoked}; token file exists: {token_file.exists()}")
        p.line(f"revocation requests: {fake.count('revoke')}")


def run_demo(out: TextIO | None = None) -> int:
    """Run the offline demo, printing each step to ``out`` (stdout); return the exit code."""
    p = _Printer(out or sys.stdout)
    p.line("earthscope-sdk-async offline demo: a fake EarthScope on 127.0.0.1, no network")
    with tempfile.TemporaryDirectory(prefix="earthscope-demo-") as workdir:
        anyio.run(_journey, p, Path(workdir))
    p.title("Done: every step above ran against real HTTP on loopback.")
    return 0
