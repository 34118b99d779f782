"""Driving worker subprocesses from tests: start together, collect JSON results, wait on
conditions (the multi-process and Redis fleet tests share these)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_ready(procs: list[Any]) -> None:
    """Each worker prints ``ready`` once set up; fail with its stderr if it does not."""
    for proc in procs:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"worker did not start: {line!r}\n{err}")


def go(procs: list[Any]) -> None:
    """Release every worker at once."""
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()


def finish(proc: Any, timeout: float = 30.0) -> dict[str, Any]:
    """Wait for a worker; it must exit 0 and print its result as JSON on its last line."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed (exit {proc.returncode}):\n{err}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``condition`` (a condition, not a fixed sleep) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
