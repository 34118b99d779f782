"""``python -m earthscope_sdk_async``: for now, ``demo`` runs the offline demo."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch the command line; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["demo"]:
        from ._demo import run_demo

        return run_demo()
    print("usage: python -m earthscope_sdk_async demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
