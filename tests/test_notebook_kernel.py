"""A real Jupyter kernel (nbclient + ipykernel) logs in and downloads against the fake
EarthScope; the saved notebook shows a clickable login link and a readable progress
state, and nothing on stderr (issue 18, item 3)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from earthscope_sdk_async.testing import FakeEarthScope

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _demo() -> Any:
    spec = importlib.util.spec_from_file_location("notebook_demo", DOCS / "notebook_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(180)
def test_a_kernel_shows_a_link_and_one_progress_bar_and_nothing_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # no browser from the kernel
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    demo = _demo()
    with FakeEarthScope(auto_approve_after=0) as fake:
        notebook = demo.run(demo.build(fake, tmp_path / "dest", files=20), tmp_path)
    setup, login, download = (cell["outputs"] for cell in notebook.cells)
    every = [*setup, *login, *download]
    assert [o for o in every if o.get("name") == "stderr"] == []
    assert all(o["output_type"] != "error" for o in every)

    [prompt] = [o for o in login if o["output_type"] == "display_data"]
    html = prompt["data"]["text/html"]
    assert f'<a href="{fake.url}activate?user_code=' in html
    assert "<code" in html
    assert "enter the code" in prompt["data"]["text/plain"]

    widgets = [
        o for o in download if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) == 1  # one live bar
    text = "".join(o.get("text", "") for o in download if o.get("name") == "stdout")
    assert "download 100% [" in text and "20/20 files" in text  # readable when saved
    assert "20 files downloaded" in text
