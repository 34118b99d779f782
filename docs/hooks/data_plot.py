"""mkdocs hook: draw the "Data access" figure from the fake server before every build.

Runs docs/data_walkthrough.py in a subprocess (its own process: the fake server thread
and matplotlib stay out of mkdocs) and writes docs/generated/data-walkthrough.png, which
is git-ignored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
OUT = DOCS / "generated" / "data-walkthrough.png"


def on_pre_build(config: Any, **kwargs: Any) -> None:
    """Generate the figure (fails the build when the walkthrough fails)."""
    OUT.parent.mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(DOCS / "data_walkthrough.py"), str(OUT)],
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
