"""A worker process for tests/test_multiprocess.py (not collected by pytest).

Usage::

    python tests/_mp_worker.py MODE TOKEN_FILE SETTINGS_JSON BACKEND [COUNT]

MODE is ``refresh-loop`` (COUNT forced refreshes), ``refresh-once`` (one forced refresh) or
``get-token`` (one ``get_access_token()``). The worker builds a fresh TokenManager on a
FileTokenStore, loads the store, prints ``ready`` and waits for one line on stdin (the "go"
signal, so the parent can start every worker at once); then it runs MODE on BACKEND
(``asyncio`` or ``trio``) and prints one JSON line with what it did. Tokens are only ever
reported by fingerprint.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio

from earthscope_sdk_async import Settings, TokenManager
from earthscope_sdk_async._stores import FileTokenStore
from earthscope_sdk_async._tokens import fingerprint


async def _setup(path: str, settings: Settings) -> TokenManager:
    manager = TokenManager(settings, store=FileTokenStore(path, lock_timeout=20.0))
    await manager.load()
    return manager


async def _run(manager: TokenManager, mode: str, count: int) -> dict[str, Any]:
    if mode == "get-token":
        return {"fingerprint": fingerprint(await manager.get_access_token())}
    if mode == "refresh-once":
        count = 1
    elif mode != "refresh-loop":
        raise SystemExit(f"unknown mode {mode!r}")
    done = 0
    for _ in range(count):
        await manager.refresh(force=True)
        done += 1
    assert manager.tokens is not None
    return {"refreshes": done, "fingerprint": fingerprint(manager.tokens.access_token)}


def main(argv: list[str]) -> int:
    mode, path, settings_json, backend = argv[:4]
    count = int(argv[4]) if len(argv) > 4 else 1
    settings = Settings(**json.loads(settings_json))
    manager = anyio.run(_setup, path, settings, backend=backend)
    print("ready", flush=True)
    if not sys.stdin.readline():  # EOF: the parent gave up before "go"
        return 3
    result = anyio.run(_run, manager, mode, count, backend=backend)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
