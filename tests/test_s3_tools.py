"""Self-refreshing EarthScope credentials in boto3, aioboto3, s3fs and obstore, against moto.

Refreshes are driven by credential lifetimes, not by waiting: with a lifetime shorter than
botocore's refresh window (15 min) every S3 call refreshes; with an hour, none does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _moto import MotoS3

from earthscope_sdk_async import (
    AsyncEarthScopeClient,
    AwsRoleDeniedError,
    EarthScopeClient,
    MemoryTokenStore,
)
from earthscope_sdk_async.testing import FakeEarthScope

V2 = "s3-miniseed-v2"
BUCKET = "tools-tests"


@pytest.fixture
def s3_fake(fake_earthscope: FakeEarthScope, moto_s3: MotoS3) -> FakeEarthScope:
    fake_earthscope.aws.minter = moto_s3.mint
    moto_s3.bucket(BUCKET)
    for i in range(3):
        moto_s3.put(BUCKET, f"tools/{i}.txt", f"object {i}".encode())
    return fake_earthscope


@pytest.fixture
def sync_client(s3_fake: FakeEarthScope, moto_s3: MotoS3) -> Iterator[EarthScopeClient]:
    settings = s3_fake.settings(s3_endpoint_url=moto_s3.endpoint, s3_region=moto_s3.region)
    with EarthScopeClient(settings, store=MemoryTokenStore(s3_fake.issue_tokens())) as client:
        yield client


def read_all(s3: Any) -> list[bytes]:
    return [s3.get_object(Bucket=BUCKET, Key=f"tools/{i}.txt")["Body"].read() for i in range(3)]


@pytest.mark.parametrize(("lifetime", "issues"), [(3600, 1), (700, 4)])
def test_boto3_session_refreshes_through_the_cache(
    sync_client: EarthScopeClient, s3_fake: FakeEarthScope, lifetime: int, issues: int
) -> None:
    s3_fake.aws.lifetime = lifetime
    session = sync_client.user.get_boto3_session(role=V2, year=2024)
    s3 = session.client("s3", endpoint_url=sync_client.settings.s3_endpoint_url)
    assert read_all(s3) == [b"object 0", b"object 1", b"object 2"]
    issued = s3_fake.aws.issued
    # 700 s < botocore's 15-minute window: each call refreshes, and moto accepts every new key
    assert len(issued) == issues and len({i.access_key_id for i in issued}) == issues
    assert all(i.role == V2 and i.params == {"year": "2024"} for i in issued)


def test_boto3_session_without_role_warns_and_unknown_role_is_denied(
    sync_client: EarthScopeClient, s3_fake: FakeEarthScope
) -> None:
    with pytest.warns(DeprecationWarning, match="s3-miniseed-v2") as record:
        sync_client.user.get_boto3_session()
    assert record[0].filename == __file__
    assert s3_fake.aws.issued[-1].role == "s3-miniseed"
    with pytest.raises(AwsRoleDeniedError):
        sync_client.user.get_boto3_session(role="not-a-role")


def test_s3fs_storage_options(sync_client: EarthScopeClient, s3_fake: FakeEarthScope) -> None:
    import fsspec

    s3_fake.aws.lifetime = 700
    options = sync_client.user.get_s3fs_storage_options(role=V2)
    fs = fsspec.filesystem("s3", skip_instance_cache=True, **options)
    assert sorted(fs.ls(f"{BUCKET}/tools/")) == [f"{BUCKET}/tools/{i}.txt" for i in range(3)]
    assert fs.cat(f"{BUCKET}/tools/1.txt") == b"object 1"
    assert len(s3_fake.aws.issued) >= 2  # refreshed in s3fs's own event loop


def test_obstore_credential_provider(
    sync_client: EarthScopeClient, s3_fake: FakeEarthScope, moto_s3: MotoS3
) -> None:
    import obstore
    from obstore.store import S3Store

    provider = sync_client.user.get_obstore_credential_provider(role=V2)
    store = S3Store(
        BUCKET,
        endpoint=moto_s3.endpoint,
        region=moto_s3.region,
        credential_provider=provider,  # type: ignore[arg-type]
        client_options={"allow_http": True},
        virtual_hosted_style_request=False,
    )
    assert bytes(obstore.get(store, "tools/2.txt").bytes()) == b"object 2"
    assert "secret" not in repr(provider).lower()
    assert len(s3_fake.aws.issued) == 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aioboto3 runs on asyncio only


async def test_aioboto3_session_refreshes(s3_fake: FakeEarthScope, moto_s3: MotoS3) -> None:
    s3_fake.aws.lifetime = 700
    settings = s3_fake.settings(s3_endpoint_url=moto_s3.endpoint, s3_region=moto_s3.region)
    store = MemoryTokenStore(s3_fake.issue_tokens())
    async with AsyncEarthScopeClient(settings, store=store) as client:
        session = await client.user.get_aioboto3_session(role=V2, network="IU")
        async with session.client("s3", endpoint_url=moto_s3.endpoint) as s3:
            for i in range(3):
                response = await s3.get_object(Bucket=BUCKET, Key=f"tools/{i}.txt")
                assert await response["Body"].read() == f"object {i}".encode()
    assert len(s3_fake.aws.issued) == 4
    assert {i.params["network"] for i in s3_fake.aws.issued} == {"IU"}


def test_sync_client_downloads_s3_urls(
    sync_client: EarthScopeClient, s3_fake: FakeEarthScope, tmp_path: Any
) -> None:
    report = sync_client.download(
        [f"s3://{BUCKET}/tools/"], tmp_path, aws_role=V2, aws_params={"year": 2024}
    )
    assert sorted(r.status for r in report) == ["downloaded"] * 3
    assert (tmp_path / "1.txt").read_bytes() == b"object 1"
    assert [i.params for i in s3_fake.aws.issued] == [{"year": "2024"}]
