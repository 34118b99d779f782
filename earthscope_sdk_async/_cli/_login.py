"""``earthscope-async login``: the device flow as a person sees it, or client credentials.

The URL and the user code go to stdout, flushed at once (so a program reading a pipe sees
them before the login completes); the countdown goes to stderr, live on a terminal only.
"""

from __future__ import annotations

import argparse
import re
import webbrowser
from collections.abc import Callable

import anyio
import anyio.to_thread

from .._client import AsyncEarthScopeClient
from .._client._prompt import browser_available
from .._clock import Clock
from .._errors import TokenStoreError
from .._flows import DeviceCode
from .._redact import printable
from .._tokens import Tokens
from .._urls import openable_url
from ._errors import OK
from ._output import INSTALL_HINT, Output, format_duration, is_terminal
from ._run import token_file, with_client
from ._session import expiry_phrase

__all__ = ["display_code", "do_login", "run", "show_code"]

OnCode = Callable[[DeviceCode], None]


def display_code(user_code: str) -> str:
    """The user code in its ``XXXX-XXXX`` form (a dash added to 8 bare characters)."""
    if re.fullmatch(r"[A-Za-z0-9]{8}", user_code):
        return f"{user_code[:4]}-{user_code[4:]}".upper()
    return user_code


def show_code(ui: Output, code: DeviceCode) -> None:
    """Print where to go and the code to enter, prominently, on stdout (flushed)."""
    ui.line()
    ui.line("  To log in to EarthScope, open this page in a browser (on any device):")
    ui.line()
    ui.line(f"      {printable(code.verification_uri)}")
    ui.line()
    ui.line("  and enter this code:")
    ui.line()
    ui.line(f"      {display_code(printable(code.user_code))}")
    ui.line()
    if code.verification_uri_complete:
        complete = printable(code.verification_uri_complete)
        ui.line(f"  (or open {complete}, which fills the code in)")
        ui.line()


def show_qr(ui: Output, url: str) -> None:
    """Print ``url`` as a QR code in the terminal (needs segno, from the ``cli`` extra)."""
    try:
        import segno
    except ImportError:
        ui.warn(f"--qr needs the segno package: {INSTALL_HINT}")
        return
    qr = segno.make(url, error="m")
    try:
        qr.terminal(out=ui.out, compact=True)
    except UnicodeEncodeError:  # a terminal without block characters: ANSI colours instead
        qr.terminal(out=ui.out)
    ui.out.flush()


async def _open_browser(ui: Output, url: str) -> None:
    if openable_url(url) is None:  # only https (or loopback http), never an option or script
        ui.warn("Not opening the login page: its address is not an https URL.")
        return
    opened = await anyio.to_thread.run_sync(webbrowser.open, url, 2, abandon_on_cancel=True)
    if opened:
        ui.note("Opened the page in your web browser.")


async def _countdown(ui: Output, code: DeviceCode, clock: Clock) -> None:
    """A live "expires in mm:ss" line on a terminal; one static line otherwise."""
    left = code.deadline - clock.monotonic()
    if not is_terminal(ui.err):
        ui.note(f"Waiting for approval (the code expires in {format_duration(left)})...")
        return
    try:
        while left > 0:
            minutes, seconds = divmod(int(left), 60)
            ui.err.write(
                f"\rWaiting for approval: the code expires in {minutes:02d}:{seconds:02d} "
                "(Ctrl-C to cancel) "
            )
            ui.err.flush()
            await anyio.sleep(min(1.0, left - int(left) or 1.0))
            left = code.deadline - clock.monotonic()
    finally:
        ui.err.write("\r\033[K")  # clear the countdown line
        ui.err.flush()


async def _device_login(
    client: AsyncEarthScopeClient, ui: Output, *, browser: bool, qr: bool, on_code: OnCode | None
) -> Tokens:
    failure: Exception | None = None
    tokens: Tokens | None = None
    async with anyio.create_task_group() as tg:

        async def prompt(code: DeviceCode) -> None:
            url = code.verification_uri_complete or code.verification_uri
            show_code(ui, code)
            if qr:
                show_qr(ui, url)
            if browser and browser_available():
                tg.start_soon(_open_browser, ui, url)
            if on_code is not None:
                on_code(code)
            tg.start_soon(_countdown, ui, code, client.clock)

        try:
            tokens = await client.login(prompt)
        except Exception as exc:  # re-raised below, unwrapped from the task group
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    assert tokens is not None
    return tokens


def _who(tokens: Tokens) -> str:
    claims = tokens.id_claims or {}
    email = claims.get("email")
    return email if isinstance(email, str) else tokens.subject or "an unknown user"


async def _announce_replacement(client: AsyncEarthScopeClient, ui: Output) -> None:
    """Say so when the login is about to replace an unreadable (corrupted) token file."""
    try:
        await client.tokens.load()
    except TokenStoreError as exc:
        where = exc.path or token_file(client)
        ui.warn(f"replacing the unreadable token file {where} with the tokens of this login")


async def do_login(
    client: AsyncEarthScopeClient,
    ui: Output,
    *,
    browser: bool = True,
    qr: bool = False,
    on_code: OnCode | None = None,
) -> int:
    """Log in (device flow, or client credentials when a secret is configured) and say so.

    ``on_code`` is called with the device code once it is shown (the demo approves it).
    """
    settings = client.settings
    await _announce_replacement(client, ui)
    if settings.is_machine:
        tokens = await client.login()
        who = f"machine client {settings.client_id}"
    else:
        tokens = await _device_login(client, ui, browser=browser, qr=qr, on_code=on_code)
        who = _who(tokens)
    ui.line(f"Logged in as {who} (profile '{settings.profile}').")
    ui.line(f"The access token {expiry_phrase(tokens)}; tokens saved to {token_file(client)}.")
    if client.tokens.last_save_error is not None:
        ui.warn(f"the tokens could not be saved: {client.tokens.last_save_error}")
    return OK


def run(args: argparse.Namespace) -> int:
    """Run ``login``."""
    ui = Output()
    return with_client(args, lambda c: do_login(c, ui, browser=not args.no_browser, qr=args.qr))
