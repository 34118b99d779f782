"""The ``earthscope-async`` command line (also ``python -m earthscope_sdk_async``).

A thin shell over :class:`~earthscope_sdk_async.AsyncEarthScopeClient`: parsing, printing
and exit codes. Each command lives in its own module, imported only when it runs, so that
``earthscope-async token`` with a fresh token imports neither httpx nor the client.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from ._errors import CANCELLED, OK, USAGE, describe, exit_code_for
from ._parser import build_parser

__all__ = ["main"]

_MODULES = {
    "login": "_login",
    "logout": "_session",
    "refresh": "_session",
    "token": "_token",
    "status": "_info",
    "profile": "_info",
    "download": "_download",
    "dropoff": "_dropoff",
    "aws-credentials": "_aws",
    "demo": "_demo",
    "discover": "_data",
    "data": "_data",
}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(
            "earthscope-async: error: a command is required; try `earthscope-async demo` "
            "or `earthscope-async --help`",
            file=sys.stderr,
        )
        return USAGE
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``earthscope-async`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        args = _parse(argv)
    except BrokenPipeError:  # --help into a closed pipe
        return _stdout_closed()
    if isinstance(args, int):
        return args
    module = importlib.import_module(f".{_MODULES[args.command]}", __name__)
    try:
        code: int = module.run(args)
    except BrokenPipeError:
        return _stdout_closed()
    except KeyboardInterrupt:
        print("\nearthscope-async: cancelled", file=sys.stderr, flush=True)
        return CANCELLED
    except Exception as exc:
        if _only_broken_pipes(exc):  # raised inside a task group
            return _stdout_closed()
        if args.debug:
            traceback.print_exc()
        print(f"earthscope-async: {describe(exc, args.profile)}", file=sys.stderr, flush=True)
        return exit_code_for(exc)
    return code


def _only_broken_pipes(exc: BaseException) -> bool:
    """True for a :class:`BrokenPipeError`, or a group holding nothing else."""
    if isinstance(exc, BrokenPipeError):
        return True
    inner = getattr(exc, "exceptions", None)  # BaseExceptionGroup (3.11+ or the backport)
    return isinstance(inner, tuple) and bool(inner) and all(map(_only_broken_pipes, inner))


def _stdout_closed() -> int:
    from ._output import silence_stdout

    silence_stdout()
    return OK
