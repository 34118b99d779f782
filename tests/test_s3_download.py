"""client.download with s3:// URLs, against moto (signatures checked), on asyncio and trio.

The same engine as https downloads: concurrency, resume with Range, checksums, progress,
path safety, the shared retry budget. Credentials come from the fake EarthScope, which mints
them with moto's STS; expiry is driven by a ticking fake clock, never by waiting.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from _moto import MotoS3

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    AwsRoleDeniedError,
    ConfigError,
    DownloadError,
    DownloadProgress,
    MemoryTokenStore,
    S3Error,
)
from earthscope_sdk_async.testing import FakeEarthScope

V2 = "s3-miniseed-v2"
BUCKET = "download-tests"
BIG_BUCKET = "listing-tests"
BIG = 1_050  # more than one ListObjectsV2 page


def body(i: int) -> bytes:
    return (f"object {i} ".encode() * (50 + i * 37))[: 300 + i * 1000]


@pytest.fixture(scope="module")
def objects(moto_s3: MotoS3) -> dict[str, bytes]:
    moto_s3.bucket(BUCKET)
    data = {f"net/IU/2024/{i:03d} file.mseed": body(i) for i in range(24)}
    for key, value in data.items():
        moto_s3.put(BUCKET, key, value)
    return data


@pytest.fixture(scope="module")
def many(moto_s3: MotoS3) -> list[str]:
    moto_s3.bucket(BIG_BUCKET)
    keys = [f"mirror/{i // 100:02d}/{i:04d}.dat" for i in range(BIG)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: moto_s3.put(BIG_BUCKET, key, key.encode()), keys))
    moto_s3.put(BIG_BUCKET, "mirror/", b"")  # a "directory marker": not a file
    moto_s3.put(BIG_BUCKET, "other/outside.dat", b"not under the prefix")
    return keys


@pytest.fixture
def s3_fake(fake_earthscope: FakeEarthScope, moto_s3: MotoS3) -> FakeEarthScope:
    fake_earthscope.aws.minter = moto_s3.mint
    return fake_earthscope


class TickingClock:
    """Fake time that moves ``step`` seconds each time anyone asks what time it is."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.t = 0.0
        self.wall = datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        self.t += self.step
        return self.wall + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


def client_for(
    fake: FakeEarthScope, moto_s3: MotoS3, clock: TickingClock | None = None
) -> AsyncEarthScopeClient:
    settings = fake.settings(s3_endpoint_url=moto_s3.endpoint, s3_region=moto_s3.region)
    store = MemoryTokenStore(fake.issue_tokens(lifetime=10 * 86400))
    return AsyncEarthScopeClient(settings, store=store, clock=clock)


def s3_url(key: str, bucket: str = BUCKET) -> str:
    return f"s3://{bucket}/{key.replace(' ', '%20')}"


async def test_objects_download_with_checksums_and_progress(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    urls = [s3_url(key) for key in objects]
    digests = {s3_url(k): hashlib.sha256(v).hexdigest() for k, v in objects.items()}
    seen: list[DownloadProgress] = []
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            urls,
            tmp_path,
            concurrency=8,
            aws_role=V2,
            aws_params={"network": "IU", "year": 2024},
            checksum=digests,
            progress=seen.append,
        )
    assert [r.status for r in report] == ["downloaded"] * len(objects)
    for key, value in objects.items():
        assert (tmp_path / key.rsplit("/", 1)[-1]).read_bytes() == value
    assert all(r.checksum == digests[r.url] for r in report)
    assert seen[-1].bytes_done == sum(len(v) for v in objects.values())
    # one credential request for the whole batch, with the normalised parameters
    assert [(i.role, i.params) for i in s3_fake.aws.issued] == [
        (V2, {"network": "IU", "year": "2024"})
    ]
    assert not any(r.path.startswith("/" + BUCKET) for r in s3_fake.requests)  # no S3 to the API


@pytest.mark.timeout(300)  # 1,050 objects through a moto server in this process
async def test_prefix_with_more_than_a_page_is_mirrored_then_skipped(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, many: list[str], tmp_path: Path
) -> None:
    async with client_for(s3_fake, moto_s3) as client:
        first = await client.download(
            [f"s3://{BIG_BUCKET}/mirror/"], tmp_path, concurrency=32, aws_role=V2
        )
        assert len(first) == BIG and {r.status for r in first} == {"downloaded"}
        for key in many[:: BIG // 7]:
            assert (tmp_path / key.removeprefix("mirror/")).read_bytes() == key.encode()
        assert not (tmp_path / "outside.dat").exists()
        # run again: everything is listed (two pages) and skipped without a GET
        third = await client.download([f"s3://{BIG_BUCKET}/mirror/"], tmp_path, aws_role=V2)
    assert len(third) == BIG and {r.status for r in third} == {"skipped"}


async def test_prefix_into_a_folder(
    http_backend: str,
    s3_fake: FakeEarthScope,
    moto_s3: MotoS3,
    objects: dict[str, bytes],
    tmp_path: Path,
) -> None:
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            [(f"s3://{BUCKET}/net/IU/", "iu"), f"s3://{BUCKET}/net/IU/2024/001 file.mseed"],
            tmp_path,
            aws_role=V2,
        )
    assert len(report) == len(objects) + 1
    assert (tmp_path / "iu" / "2024" / "007 file.mseed").read_bytes() == body(7)
    assert (tmp_path / "001 file.mseed").read_bytes() == body(1)
    # the listing's query (prefix=net%2FIU%2F) went out as signed, on every HTTP backend


async def test_resume_a_half_downloaded_object(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    key = "net/IU/2024/020 file.mseed"
    data = objects[key]
    half = len(data) // 2
    (tmp_path / "020 file.mseed.part").write_bytes(data[:half])
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            [s3_url(key)],
            tmp_path,
            aws_role=V2,
            checksum={s3_url(key): hashlib.sha256(data).hexdigest()},
        )
    (result,) = report
    assert result.status == "downloaded", result.error
    assert result.bytes == len(data) - half  # only the missing half was transferred
    assert (tmp_path / "020 file.mseed").read_bytes() == data
    assert not (tmp_path / "020 file.mseed.part").exists()


async def test_credentials_expiring_mid_batch_are_refreshed(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    clock = TickingClock(step=10)
    s3_fake.aws.clock = clock.now
    s3_fake.aws.lifetime = 600  # renewed 5 minutes before expiry: every ~30 ticks
    urls = [(s3_url(key), f"{n}/{i}.mseed") for n in range(4) for i, key in enumerate(objects)]
    async with client_for(s3_fake, moto_s3, clock) as client:
        report = await client.download(urls, tmp_path, concurrency=6, aws_role=V2)
    assert {r.status for r in report} == {"downloaded"}, [r.error for r in report if r.error]
    issued = s3_fake.aws.issued
    assert len(issued) >= 3 and len({i.access_key_id for i in issued}) == len(issued)
    assert (tmp_path / "3" / "5.mseed").read_bytes() == objects["net/IU/2024/005 file.mseed"]


async def test_bad_signatures_and_missing_objects_are_typed_errors(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            [s3_url("net/IU/2024/000 file.mseed"), s3_url("no/such.key")],
            tmp_path,
            aws_role=V2,
        )
        assert report[0].status == "downloaded"
        missing = report[1].error
        assert isinstance(missing, S3Error) and missing.code == "NoSuchKey"
        assert missing.status_code == 404 and missing.key == "no/such.key"
        assert "s3://download-tests/no/such.key" in str(missing)

        s3_fake.aws.minter = moto_s3.mint_broken
        await client.user.get_aws_credentials(role="s3-dropoff", force=True)  # unrelated key
        report = await client.download(
            [s3_url("net/IU/2024/001 file.mseed")], tmp_path / "broken", aws_role="s3-dropoff"
        )
    error = report[0].error
    assert isinstance(error, S3Error) and error.code == "SignatureDoesNotMatch"
    assert error.status_code == 403 and "s3_region" in str(error)
    assert not (tmp_path / "broken" / "001 file.mseed").exists()


async def test_option_errors(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download([s3_url("net/IU/2024/000 file.mseed")], tmp_path)
        assert isinstance(report[0].error, DownloadError)
        assert "aws_role" in str(report[0].error)
        with pytest.raises(AwsRoleDeniedError):
            await client.download([s3_url("x")], tmp_path, aws_role="no-such-role")
        with pytest.raises(ConfigError, match="aws_role"):
            await client.download([s3_url("x")], tmp_path, aws_params={"year": 2024})
        with pytest.raises(ConfigError, match="single string"):
            await client.download(s3_url("x"), tmp_path, aws_role=V2)  # type: ignore[arg-type]
        bad = await client.download(
            ["s3://Bad_Bucket/k", ("s3://b2/x", "../up")], tmp_path, aws_role=V2
        )
    assert all(r.status == "failed" for r in bad)
    assert isinstance(bad[0].error, ConfigError) and isinstance(bad[1].error, DownloadError)


async def test_credentials_rotated_under_the_batch_are_refreshed_once_and_retried(
    http_backend: str,
    s3_fake: FakeEarthScope,
    moto_s3: MotoS3,
    objects: dict[str, bytes],
    tmp_path: Path,
) -> None:
    # the first keys are refused (as old keys are right after a rotation): every request,
    # the listing included, is refused once, and the batch then gets new keys once
    minted: list[str] = []

    def rotating(role: str, params: object, lifetime: float) -> dict[str, str]:
        mint = moto_s3.mint_broken if not minted else moto_s3.mint
        keys = mint(role, params, lifetime)  # type: ignore[arg-type]
        minted.append(keys["aws_access_key_id"])
        return keys

    s3_fake.aws.minter = rotating
    keys = [f"net/IU/2024/{i:03d} file.mseed" for i in range(3)]
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            [*(s3_url(key) for key in keys), (f"s3://{BUCKET}/net/IU/", "all")],
            tmp_path,
            concurrency=4,
            aws_role=V2,
        )
    assert {r.status for r in report} == {"downloaded"}, [r.error for r in report if r.error]
    assert len(report) == 3 + len(objects)
    assert (tmp_path / "002 file.mseed").read_bytes() == objects[keys[2]]
    assert (tmp_path / "all" / "2024" / "023 file.mseed").read_bytes() == body(23)
    assert len(minted) == 2 and len(s3_fake.aws.issued) == 2  # one refresh for everyone


async def test_a_failed_prefix_listing_fails_that_item_alone(
    s3_fake: FakeEarthScope, moto_s3: MotoS3, objects: dict[str, bytes], tmp_path: Path
) -> None:
    async with client_for(s3_fake, moto_s3) as client:
        report = await client.download(
            [
                "s3://no-such-bucket-here/some/prefix/",
                s3_url("net/IU/2024/004 file.mseed"),
                (f"s3://{BUCKET}/net/IU/2024/", "year"),
                ("s3://no-such-bucket-here/other/", "other"),
            ],
            tmp_path,
            aws_role=V2,
        )
    failed = [r for r in report if r.status == "failed"]
    assert [r.url for r in failed] == [
        "s3://no-such-bucket-here/some/prefix/",
        "s3://no-such-bucket-here/other/",
    ]
    for result in failed:
        assert isinstance(result.error, S3Error) and result.error.code == "NoSuchBucket"
        assert result.path is None and "no-such-bucket-here" in str(result.error)
    assert report[0] is failed[0] and report[-1] is failed[1]  # in input order
    assert [r.status for r in report[1:-1]] == ["downloaded"] * (1 + len(objects))
    assert (tmp_path / "004 file.mseed").read_bytes() == body(4)
    assert (tmp_path / "year" / "017 file.mseed").read_bytes() == body(17)
    assert not (tmp_path / "other").exists()
    with pytest.raises(DownloadError):
        report.raise_for_failures()
