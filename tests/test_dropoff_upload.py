"""Dropoff uploads end to end: multipart to a local S3 server, listed by the fake API."""

from __future__ import annotations

import hashlib
from pathlib import Path

from _dropoff_support import (
    MIB,
    RecordingSigner,
    get_object,
    make_client,
    new_bucket,
    random_file,
    use_signer,
)

from earthscope_sdk_async import UploadStatus
from earthscope_sdk_async.testing import FakeEarthScope

USER = "YXV0aDB8ZmFrZS11c2Vy"  # base64url("auth0|fake-user")


async def test_multipart_upload_of_a_file_larger_than_a_part(
    fake_earthscope: FakeEarthScope, dropoff_s3_server: str, tmp_path: Path
) -> None:
    bucket = new_bucket(dropoff_s3_server)
    fake_earthscope.watch_dropoff_bucket(dropoff_s3_server, bucket)
    data = random_file(tmp_path / "big.mseed", 11 * MIB + 123)
    signer = RecordingSigner()
    statuses: list[UploadStatus] = []
    async with make_client(
        fake_earthscope, dropoff_s3_server, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        use_signer(client, signer)
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
    assert get_object(dropoff_s3_server, bucket, result.key) == data
    assert signer.count("PUT", "partNumber=") == 3
    assert statuses[-1].complete and statuses[-1].bytes_done == len(data)
    assert [o.sha256 for o in history.items] == [result.sha256]
    assert not list((tmp_path / "state").glob("*.json"))  # state removed once complete
