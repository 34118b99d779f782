"""Shared test configuration: every async test runs on asyncio AND trio; a clean env."""

from __future__ import annotations

from pathlib import Path

import pytest


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


@pytest.fixture(scope="session")
def dropoff_s3_server():  # type: ignore[no-untyped-def]
    """A local S3 server (moto, server mode) on 127.0.0.1 for the whole session; yields its
    endpoint URL. The dropoff tests create their own bucket in it."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
