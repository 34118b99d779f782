"""``earthscope-async demo``: the whole journey against a fake EarthScope, step by step.

The fake (identity provider, API and file server) runs in this process on 127.0.0.1, so no
account and no network are needed. Each step runs the real command's code against it and
prints what that command prints; tokens live in a temporary directory, never in ``~``.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio

from .._client import AsyncEarthScopeClient
from .._flows import DeviceCode
from .._stores import FileTokenStore
from ..testing import FakeEarthScope
from ._data import do_data, do_discover
from ._download import do_download
from ._errors import OK
from ._info import show_profile, show_status
from ._login import do_login
from ._output import Output
from ._run import cli_logging
from ._session import do_logout, do_refresh

__all__ = ["run", "run_demo"]

FILES = 200
FILE_SIZE = 32 * 1024
DEVICE_INTERVAL = 0.2
_DAY = datetime(2025, 3, 1, tzinfo=timezone.utc)


class _Steps:
    def __init__(self, ui: Output) -> None:
        self.ui = ui
        self.number = 0

    def step(self, title: str, command: str | None = None) -> None:
        self.number += 1
        self.ui.line()
        self.ui.line(f"[{self.number}] {title}")
        if command:
            self.ui.line(f"$ {command}")

    def aside(self, text: str) -> None:
        self.ui.line(f"    (demo: {text})")


async def _login(steps: _Steps, fake: FakeEarthScope, client: AsyncEarthScopeClient) -> None:
    steps.step("Log in with the device flow: what a person sees", "earthscope-async login")

    def approving(code: DeviceCode) -> None:
        steps.aside("the fake approves the code after one poll, as you would in the browser")

    await do_login(client, steps.ui, browser=False, on_code=approving)
    polls = fake.count("token", grant_type="urn:ietf:params:oauth:grant-type:device_code")
    steps.aside(f"approved after {polls} polls of the token endpoint")


async def _download(
    steps: _Steps, fake: FakeEarthScope, client: AsyncEarthScopeClient, dest: Path
) -> None:
    urls = [fake.add_file(f"demo/sample-{i:03d}.bin", size=FILE_SIZE) for i in range(FILES)]
    steps.step(
        f"Download {FILES} files, 16 at a time",
        f"earthscope-async download --from-file urls.txt --dest {dest}",
    )
    tokens = client.tokens.tokens
    assert tokens is not None
    await client.tokens.save(tokens.replace(expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    steps.aside("the access token was made to expire first: watch the refresh count")
    before = fake.refresh_count
    await do_download(client, steps.ui, urls, str(dest))
    steps.aside(
        f"refresh requests seen by the server during {FILES} concurrent downloads: "
        f"{fake.refresh_count - before}"
    )


async def _data(steps: _Steps, client: AsyncEarthScopeClient, dest: Path) -> None:
    steps.step("Discover stations", "earthscope-async discover stations --network NOTA")
    args = argparse.Namespace(kind="stations", network=["NOTA"], station=[], limit=None,
                              interval=None, stream_type=None, json=False)  # fmt: skip
    await do_discover(client, steps.ui, args)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        steps.aside("install the 'arrow' extra to fetch GNSS data: pip install "
                    "'earthscope-sdk-async[arrow]'")  # fmt: skip
        return
    out = dest / "p041.parquet"
    steps.step(
        "Fetch a day of GNSS observations into Parquet",
        f"earthscope-async data observations --station P041 --start 2025-03-01 "
        f"--end 2025-03-02 --interval 15s -o {out}",
    )
    args = argparse.Namespace(
        product="observations", station=["P041"], network=[], start=_DAY,
        end=_DAY + timedelta(days=1), interval=timedelta(seconds=15), system=[], field=[],
        output=str(out), output_is_dir=False, quiet=False,
    )  # fmt: skip
    await do_data(client, steps.ui, args)


async def _machine(steps: _Steps, fake: FakeEarthScope, workdir: Path) -> None:
    steps.step(
        "Machine-to-machine login (client credentials, when ES_OAUTH2__CLIENT_SECRET is set)",
        "earthscope-async login --profile machine",
    )
    store = FileTokenStore(workdir / ".earthscope" / "machine" / "tokens.json")
    async with AsyncEarthScopeClient(fake.machine_settings(profile="machine"), store=store) as m:
        await do_login(m, steps.ui, browser=False)


async def _journey(steps: _Steps, workdir: Path) -> None:
    fake = FakeEarthScope(device_interval=DEVICE_INTERVAL, auto_approve_after=1)
    async with fake:
        fake.latency = 0.01
        steps.step(f"Started a fake EarthScope at {fake.url} (identity provider, API, files)")
        steps.aside(f"its tokens are kept in {workdir}; yours in ~/.earthscope are not touched")
        store = FileTokenStore(workdir / ".earthscope" / "default" / "tokens.json")
        async with AsyncEarthScopeClient(fake.settings(), store=store) as client:
            await _login(steps, fake, client)
            steps.step("Who is logged in, until when (never the tokens)", "earthscope-async status")
            await show_status(client, steps.ui, as_json=False)
            steps.step("Call the API: your user profile", "earthscope-async profile")
            await show_profile(client, steps.ui)
            await _download(steps, fake, client, workdir / "downloads")
            await _data(steps, client, workdir)
            steps.step("Refresh now (the refresh token rotates)", "earthscope-async refresh")
            await do_refresh(client, steps.ui)
            steps.step(
                "Log out: revoke the refresh token, delete the tokens", "earthscope-async logout"
            )
            await do_logout(client, steps.ui, revoke=True)
            steps.aside(
                f"revocation requests: {fake.count('revoke')}; "
                f"token file exists: {store.path.exists()}"
            )
        await _machine(steps, fake, workdir)


def run_demo(ui: Output | None = None) -> int:
    """Run the offline demo, printing each step through ``ui``; return the exit code."""
    steps = _Steps(ui or Output())
    steps.ui.line(
        "earthscope-async demo: the whole journey against a fake EarthScope on 127.0.0.1 "
        "(no account, no network)"
    )
    with tempfile.TemporaryDirectory(prefix="earthscope-demo-") as workdir:
        anyio.run(_journey, steps, Path(workdir))
    steps.step(
        "Done: every step above ran over real HTTP on loopback. Next: earthscope-async login"
    )
    return OK


def run(args: argparse.Namespace) -> int:
    """Run ``demo``."""
    with cli_logging(args.debug):
        return run_demo()
