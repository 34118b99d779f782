"""Dropoff uploads end to end: signed multipart uploads to a local S3 server (moto, which
checks every signature), listed back through the fake EarthScope's dropoff routes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from _dropoff_support import (
    MIB,
    USER,
    Recorder,
    dropoff_bucket,
    get_object,
    make_client,
    random_file,
)
from _moto import MotoS3

from earthscope_sdk_async import UploadStatus
from earthscope_sdk_async.testing import FakeEarthScope


async def test_multipart_upload_of_a_file_larger_than_a_part(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = random_file(tmp_path / "big.mseed", 11 * MIB + 123)
    recorder = Recorder()
    statuses: list[UploadStatus] = []
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        client.dropoff._request_hooks.append(recorder)
        result = await client.dropoff.put_object(
            tmp_path / "big.mseed",
            key="net/big.mseed",
            category="assembled",
            progress_cb=statuses.append,
        )
        history = await client.dropoff.get_object_history(key="net/big.mseed", category="assembled")
    assert result.key == f"assembled/{USER}/net/big.mseed"
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert get_object(moto_s3, bucket, result.key) == data
    assert sorted(recorder.parts()) == [1, 2, 3]
    assert all(r.headers["authorization"].startswith("AWS4-HMAC-SHA256") for r in recorder.requests)
    assert statuses[-1].complete and statuses[-1].bytes_done == len(data)
    assert [o.sha256 for o in history.items] == [result.sha256]
    assert [i.role for i in fake_earthscope.aws.issued] == ["s3-dropoff"]
    assert not list((tmp_path / "state").glob("*.json"))  # state removed once complete
