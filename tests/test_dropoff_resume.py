"""Resuming an upload after the uploading process was SIGKILLed mid-upload: the parts S3
already holds are not sent again, and the object is byte-identical."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

from _dropoff_support import (
    MIB,
    Recorder,
    dropoff_bucket,
    get_object,
    make_client,
    random_file,
)
from _moto import MotoS3

from earthscope_sdk_async import UploadStatus
from earthscope_sdk_async._dropoff._state import UploadState
from earthscope_sdk_async.testing import FakeEarthScope

WORKER = Path(__file__).with_name("_dropoff_worker.py")


def crash_upload(fake: FakeEarthScope, s3: MotoS3, bucket: str, tmp: Path, kill_after: int) -> None:
    settings = fake.settings()
    spec = {
        "settings": {
            "domain": settings.domain,
            "api_url": settings.api_url,
            "audience": settings.audience,
            "client_id": settings.client_id,
        },
        "tokens": fake.issue_tokens().to_json(),
        "bucket": bucket,
        "endpoint": s3.endpoint,
        "region": s3.region,
        "state_dir": str(tmp / "state"),
        "path": str(tmp / "data.bin"),
        "key": "resume/data.bin",
        "part_size": 5 * MIB,
        "part_concurrency": 2,
        "kill_after": kill_after,
    }
    proc = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr + proc.stdout


async def test_resume_after_sigkill_sends_no_completed_part_again(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = random_file(tmp_path / "data.bin", 26 * MIB + 7)  # 6 parts of 5 MiB
    crash_upload(fake_earthscope, moto_s3, bucket, tmp_path, kill_after=2)

    (state_file,) = (tmp_path / "state").glob("*.json")
    state = UploadState.load(state_file)
    assert state.upload_id and len(state.parts) >= 2 and not state.completed
    s3_key = "assembled/YXV0aDB8ZmFrZS11c2Vy/resume/data.bin"
    held = moto_s3.s3.list_parts(Bucket=bucket, Key=s3_key, UploadId=state.upload_id)
    before = {p["PartNumber"] for p in held.get("Parts", [])}
    assert set(state.parts) <= before

    recorder = Recorder()
    statuses: list[UploadStatus] = []
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        recorder.attach(client)
        result = await client.dropoff.put_object(
            tmp_path / "data.bin",
            key="resume/data.bin",
            category="assembled",
            progress_cb=statuses.append,
        )
    sent = recorder.parts()
    (held,) = recorder.listed  # what S3 held when the upload resumed (verified with ListParts)
    # parts whose upload was still being processed by S3 when we looked may have landed since
    assert before <= held
    assert not set(sent) & held, f"re-sent completed parts {set(sent) & held}"
    assert sorted(sent) == sorted(set(range(1, 7)) - held)
    assert recorder.count("POST", "uploads") == 0  # the same upload was resumed
    assert get_object(moto_s3, bucket, s3_key) == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert statuses[-1].complete and statuses[-1].bytes_resumed == len(held) * 5 * MIB
    assert not state_file.exists()


async def test_changed_file_restarts_the_upload(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    random_file(tmp_path / "data.bin", 12 * MIB)
    crash_upload(fake_earthscope, moto_s3, bucket, tmp_path, kill_after=1)
    data = random_file(tmp_path / "data.bin", 12 * MIB)  # new content, same size
    recorder = Recorder()
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        recorder.attach(client)
        result = await client.dropoff.put_object(
            tmp_path / "data.bin", key="resume/data.bin", category="assembled"
        )
    assert sorted(recorder.parts()) == [1, 2, 3]
    assert recorder.count("DELETE", "uploadId") == 1  # the stale upload was aborted
    assert get_object(moto_s3, bucket, result.key) == data


async def test_cancelled_upload_resumes_without_resending(
    fake_earthscope: FakeEarthScope, moto_s3: MotoS3, tmp_path: Path
) -> None:
    """Ctrl-C (a cancellation) mid-upload, then the same upload again."""
    import anyio

    bucket = dropoff_bucket(fake_earthscope, moto_s3)
    data = random_file(tmp_path / "data.bin", 21 * MIB)  # 5 parts
    first, second = Recorder(), Recorder()
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB, part_concurrency=1
    ) as client:
        first.attach(client)
        with anyio.CancelScope() as scope:

            def stop_after_two(status: UploadStatus) -> None:
                if status.bytes_done >= 10 * MIB:
                    scope.cancel()

            await client.dropoff.put_object(
                tmp_path / "data.bin", key="c.bin", category="assembled", progress_cb=stop_after_two
            )
        assert scope.cancelled_caught
        assert list((tmp_path / "state").glob("*.json"))  # the upload can be resumed
    async with make_client(
        fake_earthscope, moto_s3, bucket, tmp_path / "state", part_size=5 * MIB
    ) as client:
        second.attach(client)
        result = await client.dropoff.put_object(
            tmp_path / "data.bin", key="c.bin", category="assembled"
        )
    (held,) = second.listed
    assert {1, 2} <= held
    assert not set(second.parts()) & held
    assert sorted(set(second.parts()) | held) == [1, 2, 3, 4, 5]
    assert get_object(moto_s3, bucket, result.key) == data
