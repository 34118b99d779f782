"""Check the built site for code that is clipped at a common width (1280 px by default).

Usage: ``mkdocs build --strict && python docs/overflow.py [WIDTH]``; prints every clipped
block and exits 1 when there is one. For each page, a copy of its HTML gets a small script
that measures, once laid out at WIDTH, every code block and table whose content is wider
than its box (``scrollWidth > clientWidth``: the reader would have to scroll sideways to
see the end of a line); headless Chromium (``docs/screenshot.py``) prints the resulting
DOM. Used by ``tests/test_docs_layout.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot import CHROMIUM_FLAGS, SITE, _chromium

PROBE = """
<script>
window.addEventListener("load", () => {
  const clipped = [];
  for (const el of document.querySelectorAll(
      ".md-content pre > code, .md-content .md-typeset__scrollwrap, .md-content table")) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const text = (el.innerText || "").split("\\n").reduce(
          (a, b) => (b.length > a.length ? b : a), "");
      clipped.push({what: el.tagName.toLowerCase() + "." + el.className,
                    overflow: el.scrollWidth - el.clientWidth, line: text.slice(0, 120)});
    }
  }
  const out = document.createElement("pre");
  out.id = "overflow-report";
  out.textContent = JSON.stringify(clipped);
  document.body.appendChild(out);
});
</script>
"""
REPORT = re.compile(r'<pre id="overflow-report">(.*?)</pre>', re.S)


def pages(site: Path = SITE) -> list[Path]:
    """Every page of the built site (not the API reference, which mkdocstrings lays out)."""
    return sorted(p for p in site.rglob("index.html") if "api" not in p.relative_to(site).parts[:1])


def clipped(page: Path, width: int = 1280, browser: str | None = None) -> list[dict[str, object]]:
    """The code blocks and tables of ``page`` that overflow their box at ``width`` px."""
    browser = browser or _chromium()
    probe = page.with_name(".overflow-probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--window-size")]
            done = subprocess.run(  # noqa: S603 - our own arguments
                [
                    browser,
                    *flags,
                    f"--window-size={width},1000",
                    f"--user-data-dir={profile}",
                    "--virtual-time-budget=5000",
                    "--dump-dom",
                    probe.as_uri(),
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            )
    finally:
        probe.unlink()
    found = REPORT.search(done.stdout)
    if found is None:
        raise RuntimeError(f"the overflow probe did not run on {page}")
    result: list[dict[str, object]] = json.loads(found.group(1).replace("&quot;", '"'))
    return result


def _has_chromium() -> bool:
    return any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))


def main() -> int:
    """Print every clipped block of every page; exit 1 if there is one."""
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 1280
    if not _has_chromium() and os.environ.get("CI", "").lower() != "true":
        # Like the Redis tests: skipped on a machine without it, required in CI.
        print("docs/overflow.py: no Chromium, layout check skipped (apt-get install chromium)")
        return 0
    browser = _chromium()
    bad = 0
    for page in pages():
        for block in clipped(page, width, browser):
            bad += 1
            print(f"{page.relative_to(SITE)}: {block}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
