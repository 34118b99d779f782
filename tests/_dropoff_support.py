"""Shared helpers of the dropoff tests: a bucket on the local S3 server, clients, files."""

from __future__ import annotations

import os
import secrets
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from earthscope_sdk_async import AsyncEarthScopeClient, DropoffOptions, MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

MIB = 1024 * 1024


def new_bucket(endpoint: str) -> str:
    """Create a fresh bucket on the local S3 server (unsigned PUT: moto accepts it)."""
    name = "dropoff-" + secrets.token_hex(6)
    request = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    with urllib.request.urlopen(request, timeout=30):
        pass
    return name


def get_object(endpoint: str, bucket: str, key: str) -> bytes:
    with urllib.request.urlopen(f"{endpoint}/{bucket}/{key}", timeout=60) as answer:
        return bytes(answer.read())


@dataclass
class RecordingSigner:
    """Stands in for SigV4 (moto does not check signatures): records what it signs."""

    signed: list[httpx.Request] = field(default_factory=list)
    refreshes: int = 0

    async def sign(self, request: httpx.Request) -> None:
        self.signed.append(request)

    async def refresh(self) -> None:
        self.refreshes += 1

    def count(self, method: str, query: str) -> int:
        return sum(1 for r in self.signed if r.method == method and query in str(r.url))


def make_client(
    fake: FakeEarthScope, endpoint: str, bucket: str, state_dir: Path, **options: object
) -> AsyncEarthScopeClient:
    dropoff = DropoffOptions(
        bucket=bucket,
        endpoint_url=endpoint,
        state_dir=state_dir,
        **options,  # type: ignore[arg-type]
    )
    return AsyncEarthScopeClient(
        fake.settings(), store=MemoryTokenStore(fake.issue_tokens()), dropoff=dropoff
    )


def use_signer(client: AsyncEarthScopeClient, signer: RecordingSigner) -> None:
    client.dropoff._signer_factory = lambda credentials, region: signer


def random_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data
