"""Shared test configuration: every async test runs on asyncio AND trio; a clean env."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``async def`` test on both backends."""
    return str(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every coroutine test with ``anyio`` so no test forgets it."""
    for item in items:
        func = getattr(item, "function", None)
        if func is not None and inspect.iscoroutinefunction(func):
            item.add_marker(pytest.mark.anyio)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No ``ES_*`` variables leak in, and HOME is a fresh temp dir (no real tokens)."""
    import os

    for name in list(os.environ):
        if name.startswith("ES_") or name == "API_BASE_URL":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield
