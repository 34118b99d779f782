"""A notebook that logs in and downloads against the fake EarthScope, run in a real kernel.

Used by ``tests/test_notebook_kernel.py`` (which checks the saved outputs) and by
``docs/notebook_screenshots.py`` (which renders the saved notebook to HTML and screenshots
it for the docs). Needs the ``notebook`` extra plus ipykernel and nbclient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from earthscope_sdk_async.testing import FakeEarthScope

SETUP = """\
from earthscope_sdk_async import EarthScopeClient, MemoryTokenStore, Settings

settings = Settings(domain={url!r}, api_url={url!r}, audience={audience!r}, client_id={client!r})
client = EarthScopeClient(settings, store=MemoryTokenStore())
urls = [f"{url}files/nb/{{i:03d}}.dat" for i in range({files})]
dest = {dest!r}"""

LOGIN = "tokens = client.login()"

DOWNLOAD = """\
report = client.download(urls, dest, progress=True)
print(f"{len(report.downloaded)} files downloaded")"""


def build(fake: FakeEarthScope, dest: Path, files: int = 20) -> Any:
    """The notebook (not yet run) for ``fake``, downloading ``files`` files into ``dest``."""
    for i in range(files):
        fake.add_file(f"nb/{i:03d}.dat", size=64 * 1024)
    setup = SETUP.format(
        url=fake.url, audience=fake.audience, client=fake.client_id, files=files, dest=str(dest)
    )
    cells = [setup, LOGIN, DOWNLOAD]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def run(notebook: Any, cwd: Path, timeout: int = 120) -> Any:
    """Run ``notebook`` in a fresh python3 kernel, keeping widget state; return it."""
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=True,
    )
    client.execute()
    return notebook
