"""The fake EarthScope's file server, concurrency, pytest fixtures and `serve` command."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator

import anyio
import httpx
import pytest

from earthscope_sdk_async import Settings
from earthscope_sdk_async.testing import FakeEarthScope

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def http(fake: FakeEarthScope) -> Iterator[httpx.Client]:
    token = fake.issue_tokens().access_token
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def test_full_get_and_head(http: httpx.Client, fake: FakeEarthScope) -> None:
    url = fake.add_file("dir/a.bin", DATA)
    assert url == fake.file_url("dir/a.bin") == fake.url + "files/dir/a.bin"
    response = http.get(url)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    head = http.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == "1024"
    assert head.content == b""
    assert http.get(fake.url + "files/missing").status_code == 404
    assert httpx.get(url).status_code == 401  # bearer-protected


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=10-19", 10, 20),
        ("bytes=1000-", 1000, 1024),
        ("bytes=-24", 1000, 1024),
        ("bytes=1000-5000", 1000, 1024),
    ],
)
def test_range(http: httpx.Client, fake: FakeEarthScope, header: str, start: int, end: int) -> None:
    url = fake.add_file("a.bin", DATA)
    response = http.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/1024"


def test_unsatisfiable_range(http: httpx.Client, fake: FakeEarthScope) -> None:
    url = fake.add_file("a.bin", DATA)
    response = http.get(url, headers={"Range": "bytes=1024-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


def test_if_range(http: httpx.Client, fake: FakeEarthScope) -> None:
    url = fake.add_file("a.bin", DATA)
    etag = http.head(url).headers["etag"]
    assert http.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    fake.add_file("a.bin", DATA[::-1])  # the file changed: its ETag too
    stale = http.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert stale.status_code == 200
    assert stale.content == DATA[::-1]


def test_no_ranges_no_etag(http: httpx.Client, fake: FakeEarthScope) -> None:
    url = fake.add_file("plain.bin", DATA, accept_ranges=False, etag=False)
    response = http.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.content == DATA
    assert "accept-ranges" not in response.headers
    assert "etag" not in response.headers


def test_generated_64_mib_file(http: httpx.Client, fake: FakeEarthScope) -> None:
    size = 64 * 1024 * 1024
    url = fake.add_file("big.bin", size=size)
    digest, received = hashlib.sha256(), 0
    with http.stream("GET", url) as response:
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_raw():
            digest.update(chunk)
            received += len(chunk)
    assert received == size
    assert digest.digest() == hashlib.sha256(fake.file_bytes("big.bin")).digest()
    middle = http.get(url, headers={"Range": "bytes=33554400-33554500"}).content
    assert middle == fake.file_bytes("big.bin", 33554400, 33554501)
    assert len(set(middle)) > 10


async def test_200_concurrent_requests() -> None:
    async with FakeEarthScope(latency=0.05) as fake:
        token = fake.issue_tokens().access_token
        statuses: list[int] = []
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:

            async def one() -> None:
                headers = {"Authorization": f"Bearer {token}"}
                statuses.append(
                    (await http.get(fake.url + "beta/user/profile", headers=headers)).status_code
                )

            async with anyio.create_task_group() as tg:
                for _ in range(200):
                    tg.start_soon(one)
        assert statuses == [200] * 200
        assert fake.count("profile") == 200


def test_pytest_fixtures(
    fake_earthscope: FakeEarthScope, fake_earthscope_settings: Settings
) -> None:
    assert fake_earthscope_settings.domain == fake_earthscope.url
    assert httpx.get(fake_earthscope.url + "activate").status_code == 200


def test_serve_command() -> None:
    command = [
        sys.executable,
        "-m",
        "earthscope_sdk_async.testing",
        "serve",
        "--latency",
        "0",
        "--file",
        "x.bin:1000",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            assert url.endswith("/")
            discovery = httpx.get(url + ".well-known/openid-configuration", timeout=10)
            assert discovery.json()["issuer"] == url
            data = {
                "grant_type": "client_credentials",
                "client_id": "fake-m2m-client",
                "client_secret": "fake-m2m-secret",
                "audience": "https://api.earthscope.org",
            }
            token = httpx.post(url + "oauth/token", data=data).json()["access_token"]
            file = httpx.get(url + "files/x.bin", headers={"Authorization": f"Bearer {token}"})
            assert len(file.content) == 1000
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


def test_plugin_import_does_not_load_the_server() -> None:
    code = (
        "import sys, earthscope_sdk_async.testing._pytest_plugin\n"
        "loaded = [m for m in sys.modules if m.startswith('earthscope_sdk_async.testing._')]\n"
        "print(sorted(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['earthscope_sdk_async.testing._pytest_plugin']"
