"""Dropoff uploads end to end: signed multipart uploads to a local S3 server (moto, which
checks every signature), listed back through the fake EarthScope's dropoff routes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
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

from earthscope_sdk_async import ConfigError, UploadStatus
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
        recorder.attach(client)
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


async def test_progress_true_shows_the_shared_bar_labelled_upload(
    fake_earthscope: FakeEarthScope,
    moto_s3: MotoS3,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_tqdm)  # the text bar, deterministic
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    async with make_client(fake_earthscope, moto_s3, bucket, tmp_path / "state") as client:
        results = await client.dropoff.put_objects(
            objects=[(b"a" * 1000, "a"), (b"b" * 2000, "b")], category="assembled", progress=True
        )
    err = capsys.readouterr().err
    assert [r.size for r in results] == [1000, 2000]
    assert "upload 100% [########################] 2/2 files" in err


async def test_bodies_of_every_kind(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB: two parts of 5 MiB

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(data), 100_000):
            yield data[i : i + 100_000]

    async def achunks() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    (tmp_path / "f").write_bytes(data)
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        with (tmp_path / "f").open("rb") as fileobj:
            results = await client.dropoff.put_objects(
                objects=[
                    (bytearray(data), "buffer"),
                    (fileobj, "fileobj"),
                    (chunks(), "iterable"),
                    (achunks(), "async-iterable"),
                    (str(tmp_path / "f"), "path"),
                ],
                category="assembled",
            )
    digest = hashlib.sha256(data).hexdigest()
    assert [r.sha256 for r in results] == [digest] * 5
    for result in results:
        assert get_object(moto_s3, bucket, result.key) == data


async def test_an_unsupported_body_is_a_config_error(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    async with make_client(fake_earthscope, moto_s3, bucket, tmp_path / "state") as client:
        with pytest.raises(ConfigError, match="cannot upload a int"):
            await client.dropoff.put_object(42, key="k", category="assembled")  # type: ignore[arg-type]


def test_sync_client_uploads(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    from earthscope_sdk_async import DropoffOptions, EarthScopeClient, MemoryTokenStore

    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = random_file(tmp_path / "f.xml", 1000)
    options = DropoffOptions(
        bucket=bucket, endpoint_url=moto_s3.endpoint, region=moto_s3.region, state_dir=tmp_path
    )
    statuses: list[UploadStatus] = []
    with EarthScopeClient(
        fake_earthscope.settings(),
        store=MemoryTokenStore(fake_earthscope.issue_tokens()),
        dropoff=options,
    ) as client:
        result = client.dropoff.put_object(
            tmp_path / "f.xml", key="meta/f.xml", category="stationxml", progress_cb=statuses.append
        )
        (listed,) = client.dropoff.list_all_objects(category="stationxml")
    assert get_object(moto_s3, bucket, result.key) == data
    head = moto_s3.s3.head_object(Bucket=bucket, Key=result.key)
    assert head["ContentType"] == "application/xml"
    assert listed.sha256 == result.sha256 and statuses[-1].complete
