"""Credentials during uploads: they run out mid-upload (later parts are signed with new
keys, checked by moto), and S3's ExpiredToken forces a refresh and a retry."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from _dropoff_support import MIB, Recorder, dropoff_bucket, get_object, random_file
from _helpers import FakeClock
from _moto import MotoS3

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    DropoffOptions,
    MemoryTokenStore,
    RetryPolicy,
    UploadError,
    UploadStatus,
)
from earthscope_sdk_async._dropoff._s3api import MultipartApi
from earthscope_sdk_async._retry import SharedPause
from earthscope_sdk_async._s3._url import S3Endpoint
from earthscope_sdk_async.testing import FakeEarthScope


def key_id(request: httpx.Request) -> str:
    return request.headers["authorization"].split("Credential=")[1].split("/")[0]


async def test_credentials_running_out_mid_upload_are_refreshed(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = random_file(tmp_path / "f.bin", 16 * MIB)  # 4 parts of 5 MiB (the last smaller)
    clock = FakeClock()
    fake_earthscope.aws.clock = clock.now  # the credentials service shares the virtual time
    options = DropoffOptions(
        bucket=bucket,
        endpoint_url=moto_s3.endpoint,
        region=moto_s3.region,
        state_dir=tmp_path / "state",
        part_size=5 * MIB,
        part_concurrency=1,
    )
    client = AsyncEarthScopeClient(
        fake_earthscope.settings(),
        store=MemoryTokenStore(fake_earthscope.issue_tokens(lifetime=10 * 3600)),
        clock=clock,
        dropoff=options,
    )

    def age(status: UploadStatus) -> None:
        if status.bytes_done == 5 * MIB:  # after the first part: keys have 200 s left
            clock.t += 3400

    recorder = Recorder()
    async with client:
        recorder.attach(client)
        result = await client.dropoff.put_object(
            tmp_path / "f.bin", key="f.bin", category="assembled", progress_cb=age
        )
    issued = [i.access_key_id for i in fake_earthscope.aws.issued]
    assert len(issued) == 2
    parts = [r for r in recorder.requests if "partNumber" in r.url.params]
    assert [key_id(r) for r in parts] == [issued[0]] + [issued[1]] * 3
    assert get_object(moto_s3, bucket, result.key) == data


class ScriptedSigner:
    def __init__(self) -> None:
        self.refreshes = 0
        self.signed = 0

    async def sign(self, request: httpx.Request) -> None:
        self.signed += 1
        request.headers["authorization"] = f"key-{self.refreshes}"

    async def refresh(self) -> None:
        self.refreshes += 1


def api(
    handler: httpx.MockTransport, signer: ScriptedSigner
) -> tuple[MultipartApi, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=handler)
    clock = FakeClock()
    return (
        MultipartApi(
            http,
            endpoint=S3Endpoint(endpoint_url="http://127.0.0.1:9"),
            bucket="b",
            signer=signer,
            policy=RetryPolicy(max_attempts=3),
            pause=SharedPause(clock),
            clock=clock,
        ),
        http,
    )


EXPIRED = (
    b"<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>"
)


async def test_expired_token_refreshes_and_retries_once() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "key-0":
            return httpx.Response(400, content=EXPIRED)
        return httpx.Response(200, headers={"etag": '"abc"'})

    signer = ScriptedSigner()
    multipart, http = api(httpx.MockTransport(handle), signer)
    async with http:
        etag = await multipart.upload_part("k", "u", 1, b"data", 4, "AAAAAAAAAAA=")
    assert etag == '"abc"'
    assert seen == ["key-0", "key-1"] and signer.refreshes == 1


async def test_expired_token_twice_is_an_upload_error() -> None:
    signer = ScriptedSigner()
    multipart, http = api(
        httpx.MockTransport(lambda r: httpx.Response(400, content=EXPIRED)), signer
    )
    async with http:
        with pytest.raises(UploadError, match="ExpiredToken") as caught:
            await multipart.upload_part("k", "u", 1, b"data", 4, "AAAAAAAAAAA=")
    assert signer.refreshes == 1 and caught.value.status_code == 400


async def test_slow_down_is_retried_and_pauses_the_client() -> None:
    answers = iter(
        [
            httpx.Response(503, content=b"<Error><Code>SlowDown</Code></Error>"),
            httpx.Response(200, headers={"etag": '"ok"'}),
        ]
    )
    signer = ScriptedSigner()
    multipart, http = api(httpx.MockTransport(lambda r: next(answers)), signer)
    async with http:
        assert await multipart.upload_part("k", "u", 1, b"x", 1, "AAAAAAAAAAA=") == '"ok"'
    assert signer.signed == 2  # each attempt signed afresh
