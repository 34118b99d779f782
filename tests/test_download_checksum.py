"""download(checksum=..., checksum_algorithm=...): digests computed while streaming, resumed
.part prefixes hashed first, a mismatch deleted and retried once from scratch, then failed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from _helpers import FAST, make_client

from earthscope_sdk_async import ConfigError, MemoryTokenStore
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._client._sync_client import EarthScopeClient
from earthscope_sdk_async._errors import DownloadError
from earthscope_sdk_async.testing import FakeEarthScope

# httpcore, and aiohttp on asyncio; writes from the event loop, and from writer threads
pytestmark = pytest.mark.usefixtures("http_backend", "disk_pace")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gets(fake: FakeEarthScope, name: str) -> list[object]:
    return [
        r
        for r in fake.requests
        if r.endpoint == "files" and r.method == "GET" and r.path.endswith("/" + name)
    ]


def listing(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


async def test_mapping_verifies_every_file(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"m{i}.bin", size=50_000 + 999 * i) for i in range(12)]
    digests = {url: sha256(fake.file_bytes(f"m{i}.bin")) for i, url in enumerate(urls)}
    async with make_client(fake) as client:
        report = await client.download(urls, tmp_path, concurrency=4, checksum=digests)
    assert report.ok, report.failed
    assert [r.checksum for r in report] == [digests[u] for u in urls]
    assert fake.count("files") == 12  # one GET each: no re-download
    assert listing(tmp_path) == {f"m{i}.bin" for i in range(12)}


async def test_callable_may_skip_files_and_other_algorithms(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    checked = fake.add_file("checked.bin", size=70_000)
    unchecked = fake.add_file("unchecked.bin", size=1000)
    md5 = hashlib.md5(fake.file_bytes("checked.bin")).hexdigest().upper()
    seen: list[str] = []

    def lookup(url: str) -> str | None:
        seen.append(url)
        return f"  {md5}\n" if url == checked else None

    async with make_client(fake) as client:
        report = await client.download(
            [checked, unchecked], tmp_path, checksum=lookup, checksum_algorithm="md5"
        )
    assert report.ok
    assert [r.checksum for r in report] == [md5.lower(), None]
    assert sorted(seen) == sorted([checked, unchecked])


async def test_mismatch_is_retried_once_from_scratch_then_fails(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    bad = fake.add_file("bad.bin", size=120_000)
    good = fake.add_file("good.bin", size=1000)
    wrong = "0" * 64
    expected = {bad: wrong, good: sha256(fake.file_bytes("good.bin"))}
    async with make_client(fake) as client:
        report = await client.download([bad, good], tmp_path, checksum=expected)
    assert [r.status for r in report] == ["failed", "downloaded"]
    error = report[0].error
    assert isinstance(error, DownloadError)
    actual = sha256(fake.file_bytes("bad.bin"))
    assert f"expected {wrong}, got {actual}" in str(error) and "sha256" in str(error)
    requests = gets(fake, "bad.bin")
    assert len(requests) == 2  # the first download, then once more from scratch
    assert all("range" not in r.headers for r in requests)  # type: ignore[attr-defined]
    assert listing(tmp_path) == {"good.bin"}  # the .part was deleted, never renamed


async def test_corrupt_part_prefix_is_hashed_and_redownloaded(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """A resumed .part whose prefix is corrupt: the digest of prefix + rest is wrong, so the
    file is deleted and downloaded again without Range, and then verifies."""
    fake = fake_earthscope
    url = fake.add_file("r.bin", size=200_000)
    data = fake.file_bytes("r.bin")
    (tmp_path / "r.bin.part").write_bytes(b"\0" * 80_000)
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, checksum={url: sha256(data)})
    assert report.ok, report.failed
    assert report[0].checksum == sha256(data)
    first, second = gets(fake, "r.bin")
    assert first.headers["range"] == "bytes=80000-"  # type: ignore[attr-defined]
    assert "range" not in second.headers  # type: ignore[attr-defined]
    assert (tmp_path / "r.bin").read_bytes() == data
    assert report[0].bytes == 120_000 + 200_000  # everything received, over both downloads


async def test_resumed_part_prefix_counts_in_the_digest(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("p.bin", size=300_000)
    data = fake.file_bytes("p.bin")
    (tmp_path / "p.bin.part").write_bytes(data[:123_457])
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, checksum={url: sha256(data)})
    assert report.ok and report[0].checksum == sha256(data)
    assert len(gets(fake, "p.bin")) == 1 and report[0].bytes == 300_000 - 123_457


async def test_complete_part_416_is_hashed_from_disk(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("c.bin", size=5000)
    data = fake.file_bytes("c.bin")
    (tmp_path / "c.bin.part").write_bytes(data)
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, checksum={url: sha256(data)})
    assert report.ok and report[0].bytes == 0 and report[0].checksum == sha256(data)
    assert listing(tmp_path) == {"c.bin"}


async def test_digest_continues_across_a_resumed_retry(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """A reset mid-body: the retry appends with Range and the hasher carries on."""
    fake = fake_earthscope
    url = fake.add_file("x.bin", size=1_500_000)
    data = fake.file_bytes("x.bin")
    fake.add_fault("files", action="reset_mid_body", times=1)
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, checksum={url: sha256(data)})
    assert report.ok, report.failed
    _first, second = gets(fake, "x.bin")
    assert "range" in second.headers  # type: ignore[attr-defined]
    assert (tmp_path / "x.bin").read_bytes() == data and report[0].checksum == sha256(data)


async def test_bad_expected_values_fail_the_item_without_a_request(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    short = fake.add_file("short.bin", b"a")
    nothex = fake.add_file("nothex.bin", b"b")
    boom = fake.add_file("boom.bin", b"c")
    ok = fake.add_file("ok.bin", b"d")

    def lookup(url: str) -> str | None:
        if url == boom:
            raise KeyError("secret-lookup-detail")
        return {short: "abc", nothex: "z" * 64, ok: sha256(b"d")}[url]

    async with make_client(fake) as client:
        report = await client.download([short, nothex, boom, ok], tmp_path, checksum=lookup)
    assert [r.status for r in report] == ["failed", "failed", "failed", "downloaded"]
    assert all(isinstance(r.error, DownloadError) for r in report.failed)
    assert "not a sha256 hex digest" in str(report[0].error)
    assert "not a sha256 hex digest" in str(report[1].error)
    assert "checksum lookup failed (KeyError)" in str(report[2].error)
    assert fake.count("files") == 1
    assert listing(tmp_path) == {"ok.bin"}


async def test_invalid_checksum_options(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    async with make_client(fake_earthscope) as client:
        for bad in (
            {"checksum": {}, "checksum_algorithm": "nope"},
            {"checksum": {}, "checksum_algorithm": "shake_128"},
            {"checksum": 42},
            {"progress": "yes"},
        ):
            with pytest.raises(ConfigError):
                await client.download([], tmp_path / "never", **bad)  # type: ignore[arg-type]
    assert not (tmp_path / "never").exists()  # options are checked before any side effect


async def test_existing_files_are_skipped_unread(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.add_file("s.bin", b"new")
    (tmp_path / "s.bin").write_bytes(b"old")
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path, checksum={url: "0" * 64})
    assert [r.status for r in report] == ["skipped"] and report[0].checksum is None


def test_sync_client_checksum(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"s{i}.bin", size=3000 + i) for i in range(5)]
    digests = {u: sha256(fake.file_bytes(f"s{i}.bin")) for i, u in enumerate(urls)}
    digests[urls[0]] = "f" * 64
    store = MemoryTokenStore(fake.issue_tokens())
    with EarthScopeClient(fake.settings(), store=store, retry=FAST) as client:
        report = client.download(urls, os.fspath(tmp_path), checksum=digests.get)
    assert [r.status for r in report] == ["failed"] + ["downloaded"] * 4
    assert "checksum mismatch" in str(report[0].error)


async def test_failure_summary_names_each_url_once_without_query(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = fake.url + "files/missing.bin?X-Signature=SECRETSIG"
    store = MemoryTokenStore(fake.issue_tokens())
    async with AsyncEarthScopeClient(fake.settings(), store=store) as client:
        report = await client.download([url], tmp_path)
    with pytest.raises(DownloadError) as info:
        report.raise_for_failures()
    message = str(info.value)
    assert "SECRETSIG" not in message
    assert message.count(fake.url + "files/missing.bin") == 1
