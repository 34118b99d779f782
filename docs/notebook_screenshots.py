"""Screenshots of the SDK in a real Jupyter kernel, for the docs (a docs-build artifact).

Usage: ``python docs/notebook_screenshots.py [OUT_DIR]`` (default: ``docs/images``).
Runs ``docs/notebook_demo.py``'s notebook (device login, then a 20-file download with
``progress=True``) against the fake EarthScope in a fresh python3 kernel, renders the saved
notebook to HTML with nbconvert and screenshots it with headless Chromium (``docs/screenshot.py``),
writing ``notebook-login.png`` and ``notebook-download.png``. Needs the ``notebook`` extra,
ipykernel, nbclient, nbconvert and Chromium (``apt-get install -y chromium``); nothing is
fetched from the network, so ipywidgets' bar is shown in its saved (text) form, as in a
notebook opened without its widget state.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

from nbconvert import HTMLExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))

import notebook_demo
from screenshot import _chromium, screenshot

from earthscope_sdk_async.testing import FakeEarthScope

OUT = Path(__file__).resolve().parent / "images"
SIZE = "--window-size=1000,{height}"


def _html(notebook: object, cells: list[int], path: Path) -> Path:
    part = copy.deepcopy(notebook)
    part.cells = [part.cells[i] for i in cells]  # type: ignore[attr-defined]
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(part)
    path.write_text(body, encoding="utf-8")
    return path


def main() -> int:
    """Run the notebook, render it, save the two screenshots, print their paths."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    browser = _chromium()
    with tempfile.TemporaryDirectory() as tmp, FakeEarthScope(auto_approve_after=0) as fake:
        work = Path(tmp)
        notebook = notebook_demo.run(notebook_demo.build(fake, work / "dest"), work)
        shots = {"notebook-login.png": ([1], 330), "notebook-download.png": ([2], 300)}
        for name, (cells, height) in shots.items():
            page = _html(notebook, cells, work / (name + ".html"))
            screenshot(browser, page.as_uri(), out / name, size=SIZE.format(height=height))
            print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
