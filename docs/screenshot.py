"""Screenshot the built site with headless Chromium, to check its layout by eye.

Usage: ``mkdocs build --strict && python docs/screenshot.py [OUT_DIR]`` (default: ``/tmp``).
Serves ``site/`` with ``python -m http.server`` on 127.0.0.1 (a free port), then saves
``docs-home.png``, ``docs-guide.png`` and ``docs-api.png`` to OUT_DIR and prints their paths.
Needs Chromium from the OS packages (``apt-get install -y chromium``). Nothing is fetched
from the network: the theme's assets ship inside mkdocs-material, and ``theme.font`` is off.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
PAGES = {
    "docs-home.png": "",
    "docs-guide.png": "downloads/",
    "docs-api.png": "api/clients/",
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1600",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium found: apt-get update && apt-get install -y chromium")


def screenshot(browser: str, url: str, out: Path, *, size: str | None = None) -> None:
    """Save a PNG of ``url`` to ``out`` with a throwaway browser profile (``size``: another
    ``--window-size=W,H`` flag)."""
    flags = [f for f in CHROMIUM_FLAGS if size is None or not f.startswith("--window-size")]
    if size is not None:
        flags.append(size)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(  # noqa: S603 - our own arguments
            [browser, *flags, f"--user-data-dir={profile}", f"--screenshot={out}", url],
            check=True,
            capture_output=True,
            timeout=60,
        )
    if not out.is_file() or out.stat().st_size == 0:
        raise SystemExit(f"Chromium wrote no screenshot for {url}")


def main() -> int:
    """Serve site/, screenshot the pages, print the PNG paths."""
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir())
    if not (SITE / "index.html").is_file():
        raise SystemExit("no site/index.html: run `mkdocs build --strict` (or `nox -s docs`) first")
    browser = _chromium()
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=SITE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        _wait_until_serving(base)
        for name, path in PAGES.items():
            out = out_dir / name
            screenshot(browser, base + path, out)
            print(out)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
