"""download(progress=True): the default bar (tqdm.auto when installed, else one line of text
on stderr), on the async client and on the blocking one (whose bar runs in its loop thread)."""

from __future__ import annotations

import io
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from _helpers import FAST, make_client

from earthscope_sdk_async import MemoryTokenStore
from earthscope_sdk_async._client._sync_client import EarthScopeClient
from earthscope_sdk_async._download import DownloadProgress
from earthscope_sdk_async._download._progress import (
    TextProgressBar,
    TqdmProgressBar,
    default_progress_bar,
    human_size,
)
from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import tqdm.auto`` fails, as when tqdm is not installed."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


class FakeTqdm:
    """Records what the downloader does with a tqdm bar."""

    instances: list[FakeTqdm] = []  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.total = kwargs.get("total")
        self.n = 0
        self.postfix = ""
        self.closed = False
        self.threads: set[str] = {threading.current_thread().name}
        FakeTqdm.instances.append(self)

    def update(self, count: int) -> None:
        self.threads.add(threading.current_thread().name)
        self.n += count

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch: pytest.MonkeyPatch) -> type[FakeTqdm]:
    """``from tqdm.auto import tqdm`` gives :class:`FakeTqdm`."""
    FakeTqdm.instances = []
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm  # type: ignore[attr-defined]
    package = types.ModuleType("tqdm")
    package.auto = auto  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", package)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    return FakeTqdm


async def test_text_bar_on_stderr(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    no_tqdm: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"t{i}.bin", size=20_000) for i in range(30)]
    async with make_client(fake) as client:
        report = await client.download(urls, tmp_path, concurrency=4, progress=True)
    assert report.ok
    err = capsys.readouterr().err
    assert err.startswith("\r") and err.endswith("\n") and err.count("\n") == 1
    final = err.rstrip("\n").rsplit("\r", 1)[-1]
    assert final.startswith("download 100% [" + "#" * 24 + "] 30/30 files")
    assert human_size(30 * 20_000) in final  # "585.9 KiB"
    assert err.isascii()


def test_sync_client_text_bar_runs_in_the_loop_thread(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    no_tqdm: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"s{i}.bin", size=5000) for i in range(12)]
    store = MemoryTokenStore(fake.issue_tokens())
    threads: set[str] = set()
    with EarthScopeClient(fake.settings(), store=store, retry=FAST) as client:
        report = client.download(urls, os.fspath(tmp_path), progress=True)
        client.download(
            urls,
            os.fspath(tmp_path),
            progress=lambda p: threads.add(threading.current_thread().name),
        )
    assert report.ok
    final = capsys.readouterr().err.rstrip("\n").rsplit("\r", 1)[-1]
    assert "100%" in final and "12/12 files" in final
    assert threads and threading.current_thread().name not in threads  # the loop thread


async def test_tqdm_bar_when_installed(
    fake_earthscope: FakeEarthScope, tmp_path: Path, fake_tqdm: type[FakeTqdm]
) -> None:
    fake = fake_earthscope
    urls = [fake.add_file(f"q{i}.bin", size=10_000) for i in range(20)]
    async with make_client(fake) as client:
        await client.download(urls, tmp_path, progress=True)
    (bar,) = fake_tqdm.instances
    assert bar.kwargs["unit"] == "file" and bar.kwargs["total"] == 20
    assert (bar.n, bar.total, bar.closed) == (20, 20, True)
    assert human_size(200_000) in bar.postfix


def test_sync_client_tqdm_bar(
    fake_earthscope: FakeEarthScope, tmp_path: Path, fake_tqdm: type[FakeTqdm]
) -> None:
    fake = fake_earthscope
    urls = iter([fake.add_file(f"g{i}.bin", size=1000) for i in range(7)])  # no length
    store = MemoryTokenStore(fake.issue_tokens())
    with EarthScopeClient(fake.settings(), store=store, retry=FAST) as client:
        client.download(urls, os.fspath(tmp_path), progress=True)
    (bar,) = fake_tqdm.instances
    assert bar.kwargs["total"] is None  # unknown at the start...
    assert (bar.n, bar.total, bar.closed) == (7, 7, True)  # ...and set at the end
    assert threading.current_thread().name not in bar.threads


async def test_bar_closed_when_the_input_fails(
    fake_earthscope: FakeEarthScope, tmp_path: Path, fake_tqdm: type[FakeTqdm]
) -> None:
    fake = fake_earthscope
    url = fake.add_file("one.bin", size=1000)

    def source() -> Any:
        yield url
        raise LookupError("the listing broke")

    async with make_client(fake) as client:
        with pytest.raises(LookupError):
            await client.download(source(), tmp_path, progress=True)
    assert all(bar.closed for bar in fake_tqdm.instances)


async def test_progress_false_shows_nothing(
    fake_earthscope: FakeEarthScope,
    tmp_path: Path,
    no_tqdm: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = fake_earthscope.add_file("f.bin", size=1000)
    async with make_client(fake_earthscope) as client:
        assert (await client.download([url], tmp_path, progress=False)).ok
    assert capsys.readouterr().err == ""


def snapshot(files: int, total: int | None, size: int = 0, final: bool = False) -> DownloadProgress:
    return DownloadProgress(size, size if final else None, files, total, 1024.0)


def test_text_bar_throttles_and_close_draws_the_last_snapshot() -> None:
    stream = io.StringIO()
    bar = TextProgressBar(stream, min_interval=3600)
    bar(snapshot(1, 10))
    bar(snapshot(2, 10))  # throttled
    assert stream.getvalue().count("\r") == 1 and "1/10 files" in stream.getvalue()
    bar.close()
    bar.close()
    assert stream.getvalue().endswith("2/10 files  0 B  1.0 KiB/s\n")
    assert stream.getvalue().count("\n") == 1
    bar(snapshot(3, 10))  # ignored once closed
    assert "3/10" not in stream.getvalue()


def test_text_bar_final_snapshot_is_never_throttled_and_pads_shorter_lines() -> None:
    stream = io.StringIO()
    bar = TextProgressBar(stream, min_interval=3600)
    bar(snapshot(3, 10, size=3 * 1024**3))
    bar(snapshot(10, 10, size=10, final=True))
    first, second = stream.getvalue().split("\r")[1:]
    assert first.startswith("download  30% [#######-----------------] 3/10 files  3.0 GiB")
    assert second.rstrip(" ") == (
        "download 100% [########################] 10/10 files  10 B  1.0 KiB/s"
    )
    assert len(second) == len(first)  # padded over the longer previous line


def test_text_bar_unknown_total() -> None:
    stream = io.StringIO()
    TextProgressBar(stream)(snapshot(5, None, size=1536))
    assert stream.getvalue() == "\rdownload  5 files  1.5 KiB  1.0 KiB/s"


def test_text_bar_with_no_files() -> None:
    stream = io.StringIO()
    bar = TextProgressBar(stream)
    bar(snapshot(0, 0, final=True))
    bar.close()
    assert "100%" in stream.getvalue() and "0/0 files" in stream.getvalue()


def test_default_bar_choice(monkeypatch: pytest.MonkeyPatch, fake_tqdm: type[FakeTqdm]) -> None:
    assert isinstance(default_progress_bar(), TqdmProgressBar)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert isinstance(default_progress_bar(), TextProgressBar)
