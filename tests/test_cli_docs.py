"""docs/cli.md is the real --help output of earthscope-async, regenerated and compared."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from earthscope_sdk_async._cli._parser import COMMANDS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", DOCS / "gen_cli_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_cli_reference_matches_the_generated_one() -> None:
    generated = _generator().generate()  # type: ignore[attr-defined]
    assert (DOCS / "cli.md").read_text() == generated, (
        "docs/cli.md is out of date: run python docs/gen_cli_reference.py"
    )
    for name in COMMANDS:
        assert f"usage: earthscope-async {name} " in generated
    assert re.search(r"^  130  cancelled with Ctrl-C$", generated, re.M)
