"""The sync facade's static types: ``mypy --strict`` over tests/typing/check_sync_client.py.

The check file asserts (``assert_type``) that every derived sync method keeps the parameters
and return type of its async twin, and that wrong calls are type errors.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tests" / "typing" / "check_sync_client.py"


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (it is in the `dev` extra; install it to check static types)",
)
def test_sync_facade_types_under_mypy_strict() -> None:
    argv = [sys.executable, "-m", "mypy", "--strict", "--no-color-output", str(CHECK)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=55, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout
