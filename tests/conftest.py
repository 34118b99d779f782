"""Shared test configuration: every async test runs on asyncio AND trio; a clean env."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from earthscope_sdk_async.testing import FakeEarthScope

if TYPE_CHECKING:
    from _moto import MotoS3


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``async def`` test on both backends."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``ES_*`` variables leak in, and HOME is a fresh temp dir (no real tokens)."""
    import os

    for name in list(os.environ):
        if name.startswith("ES_") or name in ("API_BASE_URL", "APP_DIRECTORY", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture(autouse=True)
def _auto_backend_is_httpcore(monkeypatch: pytest.MonkeyPatch) -> None:
    """``http_backend="auto"`` means httpcore in tests (respx mocks httpcore); tests of the
    aiohttp backend ask for it with the ``http_backend`` fixture."""
    from earthscope_sdk_async._http import _pool as _http_pool

    monkeypatch.setattr(_http_pool, "auto_backend", lambda: "httpcore")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """aiohttp runs on asyncio only: the (trio, aiohttp) combination is not a test at all."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        values = params.params if params is not None else {}
        impossible = (
            values.get("anyio_backend") == "trio" and values.get("http_backend") == "aiohttp"
        )
        (dropped if impossible else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["httpcore", "aiohttp"])
def http_backend(
    request: pytest.FixtureRequest, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run the test on each HTTP backend ``"auto"`` may pick: httpcore, and aiohttp on
    asyncio (trio always runs on httpcore)."""
    from earthscope_sdk_async._http import _pool as _http_pool

    backend = str(request.param)
    if backend == "aiohttp":
        assert anyio_backend == "asyncio"  # the trio combination is deselected at collection
        pytest.importorskip("aiohttp")
    monkeypatch.setattr(_http_pool, "auto_backend", lambda: backend)
    return backend


@pytest.fixture(params=["fast-disk", "slow-disk"])
def disk_pace(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a download test with every write made where a fast disk gets it (the event
    loop) and where a slow one does (writer threads): see ``_download/_disk.py``."""
    from earthscope_sdk_async._download import _disk

    slow = request.param == "slow-disk"
    monkeypatch.setattr(_disk, "SLOW", 0.0 if slow else float("inf"))
    monkeypatch.setattr(_disk, "SLOW_MIB", 0.0 if slow else float("inf"))
    return str(request.param)


@pytest.fixture
def fake(fake_earthscope: FakeEarthScope) -> FakeEarthScope:
    """The plugin's ``fake_earthscope`` (a default FakeEarthScope), by its short name; a
    module needing another configuration defines its own ``fake``."""
    return fake_earthscope


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A real S3 server (moto, server mode, signatures checked) on 127.0.0.1 for the session."""
    from _moto import start_threaded

    server, s3 = start_threaded()
    try:
        yield s3
    finally:
        server.stop()
