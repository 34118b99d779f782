"""A process uploading one file to the dropoff, SIGKILLed by itself right after the state
file records its Nth part (a deterministic crash for the resume test).

argv: JSON {settings: {...}, tokens: "...", bucket, endpoint, region, state_dir, path, key,
part_size, part_concurrency, kill_after}.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import anyio

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    DropoffOptions,
    MemoryTokenStore,
    Settings,
    Tokens,
)
from earthscope_sdk_async._dropoff import _state


def main() -> None:
    spec = json.loads(sys.argv[1])
    kill_after = int(spec["kill_after"])
    save = _state.UploadState.save

    def save_then_maybe_die(self: _state.UploadState) -> None:
        save(self)
        if len(self.parts) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    _state.UploadState.save = save_then_maybe_die  # type: ignore[method-assign]
    options = DropoffOptions(
        bucket=spec["bucket"],
        endpoint_url=spec["endpoint"],
        region=spec["region"],
        state_dir=spec["state_dir"],
        part_size=spec["part_size"],
        part_concurrency=spec["part_concurrency"],
    )

    async def run() -> None:
        client = AsyncEarthScopeClient(
            Settings(**spec["settings"]),
            store=MemoryTokenStore(Tokens.from_json(spec["tokens"])),
            dropoff=options,
        )
        async with client:
            await client.dropoff.put_object(spec["path"], key=spec["key"], category="assembled")

    anyio.run(run)
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main()
