"""No clipped code in the docs at 1280 px (issue 18, item 8): every code block and table of
every page fits its box in headless Chromium (``docs/overflow.py``), and the probe does
find a clipped block when there is one.

Needs the ``docs`` extra (mkdocs) and Chromium (``apt-get install -y chromium``), as
``docs/screenshot.py`` does; ``nox -s docs`` runs the same check after building.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("mkdocs", reason="the docs extra (mkdocs) is not installed")
if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _overflow() -> Any:
    spec = importlib.util.spec_from_file_location("overflow", ROOT / "docs" / "overflow.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


@pytest.mark.timeout(600)
def test_no_page_has_clipped_code_at_1280_px(site: Path) -> None:
    overflow = _overflow()
    pages = overflow.pages(site)
    names = {p.parent.name for p in pages}
    assert {"migration", "device-login", "getting-started"} <= names
    clipped = {str(p.relative_to(site)): overflow.clipped(p, 1280) for p in pages}
    assert {page: found for page, found in clipped.items() if found} == {}


@pytest.mark.timeout(120)
def test_the_probe_finds_a_clipped_block(site: Path) -> None:
    page = site / "migration" / "index.html"
    wide = site / "wide" / "index.html"
    wide.parent.mkdir()
    html = page.read_text(encoding="utf-8")
    marker = '<article class="md-content__inner md-typeset">'
    assert marker in html
    block = (
        '<pre style="white-space:pre"><code style="white-space:pre">' + "x" * 400 + "</code></pre>"
    )
    wide.write_text(html.replace(marker, marker + block, 1), encoding="utf-8")
    [found] = _overflow().clipped(wide, 1280)
    assert found["line"] == "x" * 120
