"""Running a command: logging, settings, one client, one event loop."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from .._client import AsyncEarthScopeClient
from .._settings import Settings

__all__ = ["cli_logging", "token_file", "with_client"]

Command = Callable[[AsyncEarthScopeClient], Awaitable[int]]


class _StderrHandler(logging.Handler):
    """Writes ``earthscope-async: warning: ...`` lines to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            where = f" [{record.name}]" if self.level <= logging.DEBUG else ""
            text = f"earthscope-async: {record.levelname.lower()}{where}: {record.getMessage()}"
            if record.exc_info and where:  # tracebacks only with --debug
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            print(text, file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def token_file(client: AsyncEarthScopeClient) -> str:
    """Where ``client`` keeps its tokens: the token file (earthscope-cli 0.x's file while the
    default store falls back to it), or the store's description for other stores."""
    store = client.store
    primary = getattr(store, "primary", store)
    path = getattr(primary, "path", None)
    if not isinstance(path, Path):
        return repr(store)
    legacy = getattr(store, "legacy_path", None)
    if isinstance(legacy, Path) and not path.exists() and legacy.exists():
        return str(legacy)
    return str(path)


@contextmanager
def cli_logging(debug: bool) -> Iterator[None]:
    """While inside, the SDK's warnings (everything, with ``--debug``) go to stderr as
    one-liners; the logger is restored afterwards (``main()`` may run in a host process)."""
    logger = logging.getLogger("earthscope_sdk_async")
    handler = _StderrHandler(logging.DEBUG if debug else logging.WARNING)
    level = logger.level
    if debug:
        logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def with_client(args: argparse.Namespace, command: Command) -> int:
    """Run ``command`` with a client for ``--profile``'s settings; return its exit code."""
    with cli_logging(args.debug):
        settings = Settings.load(args.profile)

        async def run() -> int:
            async with AsyncEarthScopeClient(settings) as client:
                return await command(client)

        return anyio.run(run)
