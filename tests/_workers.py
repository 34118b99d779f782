"""Driving worker subprocesses from tests: start together, collect JSON results, wait on
conditions and on events the workers report (the multi-process and Redis fleet tests share
these).

Workers are started by :func:`spawn` with unbuffered binary pipes, so that ``select`` on a
worker's stdout never misses a line already read into a Python buffer.
"""

from __future__ import annotations

import json
import select
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest


def spawn(args: list[str]) -> Any:
    """Start a worker process (``args`` includes the interpreter)."""
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )


def _readline(proc: Any) -> str:
    return proc.stdout.readline().decode(errors="replace")


def _send(procs: list[Any], line: str) -> None:
    for proc in procs:
        proc.stdin.write(f"{line}\n".encode())
        proc.stdin.flush()


def wait_ready(procs: list[Any]) -> None:
    """Each worker prints ``ready`` once set up; fail with its stderr if it does not."""
    for proc in procs:
        line = _readline(proc)
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"worker did not start: {line!r}\n{err.decode(errors='replace')}")


def go(procs: list[Any]) -> None:
    """Release every worker at once."""
    _send(procs, "go")


def stop(procs: list[Any]) -> None:
    """Tell workers running until told (``duration: null``) to stop."""
    _send(procs, "stop")


def mark(procs: list[Any]) -> None:
    """Ask fleet workers to print ``ok-after-mark`` at their next successful call."""
    _send(procs, "mark")


def wait_any_line(procs: list[Any], expected: str, timeout: float = 120.0) -> None:
    """Wait until one of ``procs`` prints the line ``expected`` (an event it reports as it
    happens). ``timeout`` only guards against a hang; it is far above any plausible wait."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready = select.select([p.stdout for p in procs], [], [], left)[0] if left > 0 else []
        if not ready:
            pytest.fail(f"timed out after {timeout} s waiting for a worker to say {expected!r}")
        for proc in procs:
            if proc.stdout in ready:
                line = _readline(proc)
                if not line:
                    pytest.fail(f"a worker exited before saying {expected!r}")
                if line.strip() == expected:
                    return


def wait_line(proc: Any, expected: str, timeout: float = 120.0) -> None:
    """Wait for one worker to print the line ``expected`` (see :func:`wait_any_line`)."""
    wait_any_line([proc], expected, timeout)


def finish(proc: Any, timeout: float = 120.0) -> dict[str, Any]:
    """Wait for a worker; it must exit 0 and print its result as JSON on its last line."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed (exit {proc.returncode}):\n{err.decode()}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` (a condition, not a fixed sleep) until true; ``timeout`` only
    guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
