"""Notebooks (issue 18, item 3): the device prompt is a clickable link with the code (rich
output, not stderr); download progress is one live bar whose final state stays readable.

The unit tests stand in for a Jupyter kernel with a recording ``IPython`` module (the code
only looks IPython up in ``sys.modules``); ``test_notebook_kernel.py`` runs a real kernel.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from earthscope_sdk_async._client import _prompt
from earthscope_sdk_async._download._notebook_progress import DisplayProgressBar, NotebookTqdmBar
from earthscope_sdk_async._download._progress import default_progress_bar
from earthscope_sdk_async._download._types import DownloadProgress
from earthscope_sdk_async._flows import DeviceCode
from earthscope_sdk_async._notebook import in_notebook

CODE = DeviceCode(
    device_code="secret-device-code",
    user_code="ABCD-EFGH",
    verification_uri="https://login.example.org/activate",
    verification_uri_complete="https://login.example.org/activate?user_code=ABCD-EFGH",
    expires_in=900,
    interval=5,
    deadline=1e9,
)


class Handle:
    def __init__(self, kernel: Kernel, data: dict[str, str]) -> None:
        self.kernel, self.data = kernel, data

    def update(self, data: dict[str, str], raw: bool = False) -> None:
        assert raw
        self.data = data
        self.kernel.updates += 1


class Kernel:
    """What a notebook kernel would show: every display() call, in order."""

    def __init__(self) -> None:
        self.shown: list[Any] = []
        self.updates = 0

    def display(self, data: dict[str, str], raw: bool = False, display_id: bool = False) -> Any:
        assert raw
        item: Any = Handle(self, data) if display_id else data
        self.shown.append(item)
        return item if display_id else None


class ZMQInteractiveShell:  # the class name ipykernel's shell has
    def __init__(self) -> None:
        self.config: dict[str, Any] = {"IPKernelApp": {}}


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Kernel:
    recorder = Kernel()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    display = types.ModuleType("IPython.display")
    display.display = recorder.display  # type: ignore[attr-defined]
    ipython.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    monkeypatch.setattr(_prompt, "browser_available", lambda: False)
    return recorder


def snapshot(done: int, total: int, final: bool = False) -> DownloadProgress:
    return DownloadProgress(done * 1024, done * 1024 if final else None, done, total, 2048.0)


def test_outside_a_kernel_nothing_is_a_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    assert not in_notebook()
    assert not isinstance(default_progress_bar(), (DisplayProgressBar, NotebookTqdmBar))
    _prompt.default_prompt(CODE)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ABCD-EFGH" in captured.err
    assert CODE.verification_uri_complete in captured.err  # the CLI's complete URL, too


def test_the_prompt_is_a_clickable_link_with_the_code(
    kernel: Kernel, capsys: pytest.CaptureFixture[str]
) -> None:
    assert in_notebook()
    _prompt.default_prompt(CODE)
    assert capsys.readouterr() == ("", "")  # nothing on stderr: no red box
    [shown] = kernel.shown
    html = shown["text/html"]
    assert '<a href="https://login.example.org/activate?user_code=ABCD-EFGH"' in html
    assert "<code" in html and "ABCD-EFGH" in html
    assert "ABCD-EFGH" in shown["text/plain"]
    assert "secret-device-code" not in html + shown["text/plain"]


def test_the_prompt_escapes_what_the_server_sent(kernel: Kernel) -> None:
    hostile = DeviceCode(
        device_code="d",
        user_code="<b>X</b>",
        verification_uri='https://x.org/"><script>',
        expires_in=900,
        interval=5,
        deadline=1e9,
    )
    _prompt.default_prompt(hostile)
    html = kernel.shown[0]["text/html"]
    assert "<script>" not in html and "<b>X</b>" not in html


def test_without_widgets_progress_is_one_output_updated_in_place(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    bar = default_progress_bar()
    assert isinstance(bar, DisplayProgressBar)
    for done in range(1, 6):
        bar(snapshot(done, 20))
    bar(snapshot(20, 20, final=True))
    bar.close()
    assert len(kernel.shown) == 1  # one live bar
    [handle] = kernel.shown
    assert handle.data["text/plain"].startswith("download 100% [")
    assert "20/20 files" in handle.data["text/plain"]
    assert '<progress value="20" max="20"' in handle.data["text/html"]
    assert capsys.readouterr() == ("", "")


def test_with_widgets_tqdm_draws_and_a_final_line_goes_to_stdout(
    kernel: Kernel, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[dict[str, Any]] = []

    class FakeTqdm:  # records what tqdm.notebook.tqdm would be asked to do
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)
            self.n, self.total, self.closed = 0, kwargs["total"], False

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            self.postfix = text

        def update(self, count: int) -> None:
            self.n += count

        def close(self) -> None:
            self.closed = True

    bar = NotebookTqdmBar(FakeTqdm)
    bar(snapshot(3, 4))
    bar(snapshot(4, 4, final=True))
    bar.close()
    bar.close()
    assert len(made) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines() == [
        "download 100% [########################] 4/4 files  4.0 KiB  2.0 KiB/s"
    ]
