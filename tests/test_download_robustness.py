"""Download robustness: a bad URL fails only its own item, a single string is refused, and a
``.part`` left by an earlier run is only resumed with the ETag it was written with."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import _helpers as helpers
import anyio
import pytest

from earthscope_sdk_async import ConfigError, EarthScopeClient, MemoryTokenStore
from earthscope_sdk_async._client import AsyncEarthScopeClient
from earthscope_sdk_async._errors import DownloadError
from earthscope_sdk_async.testing import FakeEarthScope

# httpcore, and aiohttp on asyncio; writes from the event loop, and from writer threads
pytestmark = pytest.mark.usefixtures("http_backend", "disk_pace")

FAST = dataclasses.replace(helpers.FAST, max_attempts=3)
OLD = b"o" * 200_000
NEW = b"n" * 200_000


def make_client(fake: FakeEarthScope) -> AsyncEarthScopeClient:
    return helpers.make_client(fake, retry=FAST)


def listing(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def gets(fake: FakeEarthScope, name: str) -> list[object]:
    return [
        r
        for r in fake.requests
        if r.endpoint == "files" and r.method == "GET" and r.path.endswith("/" + name)
    ]


async def test_each_bad_url_fails_alone(fake_earthscope: FakeEarthScope, tmp_path: Path) -> None:
    fake = fake_earthscope
    good = [fake.add_file("a.bin", b"alpha"), fake.add_file("b.bin", b"beta")]
    bad = [
        "http://[::1?sig=secret",  # unparsable (ValueError from urlsplit before)
        fake.url + "files/a.bin%00x",  # NUL in the name (ValueError from stat before)
        "http://127.0.0.1:99999/a.bin?sig=secret",  # port out of range (OverflowError)
        "http://127.0.0.1:0/a.bin",
        (good[0], "dir/with\0nul"),
    ]
    async with make_client(fake) as client:
        report = await client.download([good[0], *bad, good[1]], tmp_path, concurrency=2)
    assert [r.status for r in report] == ["downloaded", *["failed"] * len(bad), "downloaded"]
    errors = [str(r.error) for r in report.failed]
    assert all(isinstance(r.error, DownloadError) for r in report.failed)
    assert not any("secret" in e for e in errors)  # the query never appears
    assert "not a valid URL" in errors[0]
    assert "NUL" in errors[1] and "a.bin" in errors[1]
    assert "port 99999 is outside 1..65535" in errors[2] and "127.0.0.1:99999/a.bin" in errors[2]
    assert "port 0" in errors[3]
    assert "NUL" in errors[4]
    assert listing(tmp_path) == {"a.bin", "b.bin"}
    assert (tmp_path / "b.bin").read_bytes() == b"beta"


@pytest.mark.parametrize("single", ["https://example.com/a.bin", b"https://example.com/a.bin"])
async def test_single_string_is_refused(
    fake_earthscope: FakeEarthScope, tmp_path: Path, single: object
) -> None:
    dest = tmp_path / "d"
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="not a single string"):
            await client.download(single, dest)  # type: ignore[arg-type]
    assert not dest.exists()  # nothing was done
    assert fake_earthscope.count("files") == 0


@pytest.mark.parametrize("bad", [42, None, object(), 3.5])
async def test_a_source_that_is_not_iterable_is_a_config_error(
    fake_earthscope: FakeEarthScope, tmp_path: Path, bad: object
) -> None:
    dest = tmp_path / "d"
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="must be an iterable") as caught:
            await client.download(bad, dest)  # type: ignore[arg-type]
        store = MemoryTokenStore(fake_earthscope.issue_tokens())
        sync = EarthScopeClient(fake_earthscope.settings(), store=store)
        try:
            with pytest.raises(ConfigError, match=type(bad).__name__):
                await anyio.to_thread.run_sync(sync.download, bad, dest)
        finally:
            await anyio.to_thread.run_sync(sync.close)
    assert "urls" in str(caught.value)
    assert not dest.exists()  # nothing was done
    assert fake_earthscope.count("files") == 0


async def test_an_iterable_whose_iter_fails_raises_its_own_error(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    class Broken:
        def __iter__(self) -> Iterator[str]:
            raise LookupError("the catalogue is unavailable")

    async with make_client(fake_earthscope) as client:
        with pytest.raises(LookupError, match="catalogue"):  # itself, not an exception group
            await client.download(Broken(), tmp_path / "d")


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/x", "http://[::1/x", "http://h:0/x"])
async def test_api_call_to_invalid_url_is_config_error(
    fake_earthscope: FakeEarthScope, url: str
) -> None:
    async with make_client(fake_earthscope) as client:
        with pytest.raises(ConfigError, match="invalid URL"):
            await client._request("GET", url + "?token=secret")


async def _interrupted(fake: FakeEarthScope, dest: Path) -> str:
    """A first run cut mid-body: leaves s.bin.part (and its validator), returns the URL."""
    url = fake.add_file("s.bin", OLD)
    fake.add_fault("files", action="reset_mid_body", times=1)
    async with make_client(fake) as client:
        report = await client.download([url], dest, retries=1)
    assert report[0].status == "failed"
    part = dest / "s.bin.part"
    assert 0 < part.stat().st_size < len(OLD)
    assert listing(dest) == {"s.bin.part", "s.bin.part.part"}  # the .part and its validator
    return url


async def test_part_of_a_changed_file_restarts_from_zero(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = await _interrupted(fake, tmp_path)
    fake.clear_log()
    fake.add_file("s.bin", NEW)  # replaced on the server: a new ETag
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == len(NEW)
    assert (tmp_path / "s.bin").read_bytes() == NEW
    assert all("range" not in r.headers for r in gets(fake, "s.bin"))  # type: ignore[attr-defined]
    assert listing(tmp_path) == {"s.bin"}  # no .part, no validator


async def test_part_with_matching_validator_resumes(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    fake = fake_earthscope
    url = await _interrupted(fake, tmp_path)
    size = (tmp_path / "s.bin.part").stat().st_size
    recorded = (tmp_path / "s.bin.part.part").read_text()
    fake.clear_log()
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == len(OLD) - size
    (get,) = gets(fake, "s.bin")
    assert get.headers["range"] == f"bytes={size}-"  # type: ignore[attr-defined]
    assert get.headers["if-range"] == recorded  # type: ignore[attr-defined]
    assert (tmp_path / "s.bin").read_bytes() == OLD
    assert listing(tmp_path) == {"s.bin"}


async def test_validator_recorded_before_a_changed_file_answers_200(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """Even when the HEAD does not give the ETag away, the recorded one goes as If-Range,
    so the server answers the changed file with a 200 and the .part is rewritten."""
    fake = fake_earthscope
    url = await _interrupted(fake, tmp_path)
    old_etag = (tmp_path / "s.bin.part.part").read_text()
    fake.clear_log()
    fake.add_file("s.bin", NEW)
    fake.add_fault("files", status=200, headers={"Accept-Ranges": "bytes"},
                   match=lambda r: r.method == "HEAD")  # fmt: skip
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok
    (get,) = gets(fake, "s.bin")
    assert get.headers["if-range"] == old_etag  # type: ignore[attr-defined]
    assert (tmp_path / "s.bin").read_bytes() == NEW
    assert listing(tmp_path) == {"s.bin"}


async def test_unrecorded_part_older_than_last_modified_restarts(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """A .part from an older version (no validator) is not trusted when the server says the
    file was modified after the .part was last written."""
    fake = fake_earthscope
    url = fake.add_file("s.bin", NEW)
    part = tmp_path / "s.bin.part"
    part.write_bytes(OLD[:80_000])
    day_ago = time.time() - 86_400
    os.utime(part, (day_ago, day_ago))
    fake.add_fault(
        "files",
        status=200,
        headers={
            "ETag": '"strong"',
            "Accept-Ranges": "bytes",
            "Last-Modified": formatdate(time.time(), usegmt=True),
        },
        match=lambda r: r.method == "HEAD",
    )
    async with make_client(fake) as client:
        report = await client.download([url], tmp_path)
    assert report.ok and report[0].bytes == len(NEW)
    assert all("range" not in r.headers for r in gets(fake, "s.bin"))  # type: ignore[attr-defined]
    assert (tmp_path / "s.bin").read_bytes() == NEW
    assert listing(tmp_path) == {"s.bin"}


async def test_part_and_validator_names_are_reserved(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    url = fake_earthscope.add_file("a.bin", b"alpha")
    async with make_client(fake_earthscope) as client:
        report = await client.download([(url, "x.part"), (url, "x.part.part")], tmp_path)
    assert [r.status for r in report] == ["failed", "failed"]
    assert listing(tmp_path) == set()


async def test_symlinks_out_of_dest_are_refused(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    """A plain name that is a symlink, or a nested name through a symlinked directory, that
    leads outside ``dest`` fails its item; nothing is written outside."""
    fake = fake_earthscope
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link.bin").symlink_to(outside / "victim.bin")
    (dest / "sub").symlink_to(outside, target_is_directory=True)
    (dest / "inner.bin").symlink_to(dest / "kept.bin")  # a link that stays inside is fine
    items = [
        fake.add_file("link.bin", b"evil"),
        (fake.add_file("x.bin", b"evil"), "sub/x.bin"),
        fake.add_file("inner.bin", b"ok"),
    ]
    async with make_client(fake) as client:
        report = await client.download(items, dest)
    assert [r.status for r in report] == ["failed", "failed", "downloaded"]
    for result in report.failed:
        assert isinstance(result.error, DownloadError)
        assert "outside the destination" in str(result.error)
    assert list(outside.iterdir()) == []
    assert (dest / "inner.bin").read_bytes() == b"ok"


@pytest.mark.parametrize("size", [300_000, 5 * 1024 * 1024])
async def test_disk_full_fails_the_item_not_the_batch(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
) -> None:
    """A write error (here ENOSPC on the second write of a body, or the only one of a small
    body) fails that file with a DownloadError, from the writer thread of a large body as
    from the one write of a small one; the other file is saved."""
    import errno

    from earthscope_sdk_async._download import _sink

    real = _sink.BodySink._write
    calls: dict[int, int] = {}

    def failing(self: _sink.BodySink, pieces: list[bytes]) -> None:
        count = calls[id(self)] = calls.get(id(self), 0) + 1
        if os.path.basename(self._path).startswith("full") and (count == 2 or size < _sink.CHUNK):
            raise OSError(errno.ENOSPC, "No space left on device", str(self._path))
        real(self, pieces)

    monkeypatch.setattr(_sink.BodySink, "_write", failing)
    fake = fake_earthscope
    urls = [fake.add_file("full.bin", size=size), fake.add_file("fine.bin", size=size)]
    async with make_client(fake) as client:
        report = await client.download(urls, tmp_path, concurrency=2, retries=1)
    assert [r.status for r in report] == ["failed", "downloaded"]
    error = report[0].error
    assert isinstance(error, DownloadError)
    assert "No space left on device" in str(error)
    assert (tmp_path / "fine.bin").read_bytes() == fake.file_bytes("fine.bin")
    assert not (tmp_path / "full.bin").exists()
