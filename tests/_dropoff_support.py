"""Shared helpers of the dropoff tests: a bucket on the local S3 server, clients, files."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _moto import MotoS3

from earthscope_sdk_async import AsyncEarthScopeClient, DropoffOptions, MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope

MIB = 1024 * 1024
USER = "YXV0aDB8ZmFrZS11c2Vy"  # base64url("auth0|fake-user"), the fake's default user


def dropoff_bucket(fake: FakeEarthScope, s3: MotoS3) -> str:
    """A fresh bucket on the S3 server, watched by the fake's dropoff routes; the fake's
    credentials service mints real keys for it (moto checks every signature)."""
    bucket = s3.bucket("dropoff-" + secrets.token_hex(6))
    fake.aws.minter = s3.mint
    fake.watch_dropoff_bucket(s3.endpoint, bucket, s3.s3)
    return bucket


def get_object(s3: MotoS3, bucket: str, key: str) -> bytes:
    return bytes(s3.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def make_client(
    fake: FakeEarthScope, s3: MotoS3, bucket: str, state_dir: Path, **options: Any
) -> AsyncEarthScopeClient:
    dropoff = DropoffOptions(
        bucket=bucket, endpoint_url=s3.endpoint, region=s3.region, state_dir=state_dir, **options
    )
    return AsyncEarthScopeClient(
        fake.settings(), store=MemoryTokenStore(fake.issue_tokens()), dropoff=dropoff
    )


@dataclass
class Recorder:
    """Records the S3 calls a client sends and the parts ListParts reported (httpx event
    hooks on the upload pool)."""

    requests: list[httpx.Request] = field(default_factory=list)
    listed: list[set[int]] = field(default_factory=list)

    def attach(self, client: AsyncEarthScopeClient) -> Recorder:
        client.dropoff._event_hooks["request"].append(self.on_request)
        client.dropoff._event_hooks["response"].append(self.on_response)
        return self

    async def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        if request.method == "GET" and "uploadId" in request.url.params:
            body = (await response.aread()).decode()
            self.listed.append({int(n) for n in re.findall(r"<PartNumber>(\d+)<", body)})

    def parts(self) -> list[int]:
        return [
            int(r.url.params["partNumber"])
            for r in self.requests
            if r.method == "PUT" and "partNumber" in r.url.params
        ]

    def count(self, method: str, param: str) -> int:
        return sum(1 for r in self.requests if r.method == method and param in r.url.params)


def random_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data
