"""Both HTTP backends raise the same httpx errors for the same faults, so retry decisions do
not depend on the backend: refused, dropped, truncated, reset mid-body, read timeout, TLS.
Also: which backend ``http_backend`` picks, and the pool growing to a download's concurrency.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from earthscope_sdk_async import ConfigError, MemoryTokenStore, Settings
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._http import _pool as _http_pool
from earthscope_sdk_async._retry import retryable_transport
from earthscope_sdk_async.testing import FakeEarthScope


def make_client(fake: FakeEarthScope, **overrides: object) -> AsyncEarthScopeClient:
    return AsyncEarthScopeClient(
        fake.settings(**overrides), store=MemoryTokenStore(fake.issue_tokens())
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def decisions(exc: httpx.HTTPError) -> tuple[bool, bool]:
    """(retried for a GET, retried for a POST)."""
    return retryable_transport("GET", exc), retryable_transport("POST", exc)


def transport_name(client: AsyncEarthScopeClient) -> str:
    return type(client.http._transport).__name__


async def test_backend_in_use_is_the_chosen_one(
    fake_earthscope: FakeEarthScope, http_backend: str
) -> None:
    async with make_client(fake_earthscope) as client:
        expected = "AiohttpTransport" if http_backend == "aiohttp" else "AsyncHTTPTransport"
        assert transport_name(client) == expected
        profile = await client.requester.request("GET", "beta/user/profile")
        assert profile.json()["user_id"] == "auth0|fake-user"


async def test_connection_refused_is_connect_error(
    fake_earthscope: FakeEarthScope, http_backend: str
) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.http.get(f"http://127.0.0.1:{closed_port()}/x")
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert decisions(caught.value) == (True, True)  # nothing was sent: retried even for POST


async def test_dropped_before_response(fake_earthscope: FakeEarthScope, http_backend: str) -> None:
    fake_earthscope.add_fault("profile", action="drop")
    async with make_client(fake_earthscope) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
            await client.http.get(client.requester.url("beta/user/profile"))
    assert decisions(caught.value) == (True, False)  # may have been processed: not a POST


async def test_truncated_body_is_remote_protocol_error(
    fake_earthscope: FakeEarthScope, http_backend: str
) -> None:
    fake_earthscope.add_fault("profile", action="truncate")
    async with make_client(fake_earthscope) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.http.get(client.requester.url("beta/user/profile"))
    assert decisions(caught.value) == (True, False)


async def test_reset_mid_body(fake_earthscope: FakeEarthScope, http_backend: str) -> None:
    url = fake_earthscope.add_file("big.bin", size=4 * 1024 * 1024)
    fake_earthscope.add_fault("files", action="reset_mid_body")
    async with make_client(fake_earthscope) as client, client.http.stream("GET", url) as response:
        assert response.status_code == 200
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
            async for _ in response.aiter_raw():
                pass
    assert decisions(caught.value) == (True, False)


async def test_read_timeout_is_read_timeout(
    fake_earthscope: FakeEarthScope, http_backend: str
) -> None:
    # the server waits 60 s before answering; the client gives up reading after 0.2 s
    fake_earthscope.add_fault("profile", action="pass", delay=60)
    async with make_client(fake_earthscope, timeout_read=0.2) as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.http.get(client.requester.url("beta/user/profile"))
    assert decisions(caught.value) == (True, False)


async def test_tls_failure_is_connect_error(
    fake_earthscope: FakeEarthScope, http_backend: str
) -> None:
    # https:// to a plain-HTTP server: the TLS handshake fails
    https = fake_earthscope.url.replace("http://", "https://")
    async with make_client(fake_earthscope) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.http.get(https + "beta/user/profile")
    assert decisions(caught.value) == (True, True)


async def test_api_call_survives_a_drop(fake_earthscope: FakeEarthScope, http_backend: str) -> None:
    fake_earthscope.add_fault("profile", action="drop")
    async with make_client(fake_earthscope) as client:
        response = await client.requester.request("GET", "beta/user/profile")
    assert response.status_code == 200
    assert fake_earthscope.count("profile") == 2


async def test_pool_grows_to_download_concurrency(
    fake_earthscope: FakeEarthScope, http_backend: str, tmp_path: Path
) -> None:
    urls = [fake_earthscope.add_file(f"f{i}.bin", size=100) for i in range(3)]
    async with make_client(fake_earthscope) as client:
        report = await client.download(urls, tmp_path, concurrency=_http_pool.POOL_SIZE + 28)
        transport = client.http._transport
        if isinstance(transport, httpx.AsyncHTTPTransport):
            assert transport._pool._max_connections == _http_pool.POOL_SIZE + 28
        else:
            assert transport.max_connections == _http_pool.POOL_SIZE + 28  # type: ignore[attr-defined]
    assert len(report.downloaded) == 3


async def test_own_http_client_is_left_alone(
    fake_earthscope: FakeEarthScope, anyio_backend: str, tmp_path: Path
) -> None:
    urls = [fake_earthscope.add_file("a.bin", size=10)]
    limits = httpx.Limits(max_connections=5)
    async with httpx.AsyncClient(limits=limits) as own:
        client = AsyncEarthScopeClient(
            fake_earthscope.settings(),
            store=MemoryTokenStore(fake_earthscope.issue_tokens()),
            http_client=own,
        )
        async with client:
            await client.download(urls, tmp_path, concurrency=50)
        assert own._transport._pool._max_connections == 5  # type: ignore[attr-defined]


def test_auto_picks_aiohttp_on_asyncio_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import trio

    monkeypatch.undo()  # the real "auto", not the tests' httpcore default
    pytest.importorskip("aiohttp")

    async def pick() -> str:
        return _http_pool.chosen_backend("auto")

    assert asyncio.run(pick()) == "aiohttp"
    assert trio.run(pick) == "httpcore"
    assert _http_pool.chosen_backend("auto") == "httpcore"  # no event loop
    assert asyncio.run(_pick("httpcore")) == "httpcore"


async def _pick(setting: str) -> str:
    return _http_pool.chosen_backend(setting)


def test_aiohttp_on_trio_or_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import trio

    with pytest.raises(ConfigError, match="only runs on asyncio"):
        trio.run(_pick, "aiohttp")
    monkeypatch.setattr(_http_pool, "_aiohttp_installed", lambda: False)
    with pytest.raises(ConfigError, match=r"earthscope-sdk-async\[aiohttp\]"):
        _http_pool.chosen_backend("aiohttp")


def test_http_backend_setting() -> None:
    assert Settings().http_backend == "auto"
    env = {"ES_HTTP__BACKEND": "httpcore"}
    assert Settings.load(environ=env, config_path="/nonexistent").http_backend == "httpcore"
    with pytest.raises(ConfigError, match=r"ES_HTTP__BACKEND.*http_backend must be"):
        Settings.load(environ={"ES_HTTP__BACKEND": "curl"}, config_path="/nonexistent")


def test_http_backend_in_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[default.http]\nbackend = "aiohttp"\n')
    assert Settings.load(environ={}, config_path=config).http_backend == "aiohttp"
