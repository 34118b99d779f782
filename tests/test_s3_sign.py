"""SigV4 signing of httpx requests (botocore's signer) against a real S3 server (moto)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import httpx
import pytest
from _moto import MotoS3

from earthscope_sdk_async import AwsCredentials, AwsCredentialsRequest, ConfigError
from earthscope_sdk_async._s3._credentials import S3Credentials
from earthscope_sdk_async._s3._sign import S3Auth, sign_request
from earthscope_sdk_async._s3._url import S3Endpoint, S3Location, parse_s3_url


def credentials(keys: dict[str, str]) -> AwsCredentials:
    return AwsCredentials(
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
        aws_session_token=keys["aws_session_token"],
        expiration=datetime.now(timezone.utc) + timedelta(hours=1),
    )


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    name = moto_s3.bucket("sign-tests")
    moto_s3.put(name, "dir/a file+plus=.txt", b"hello s3")
    return name


async def test_signed_get_is_accepted_and_a_wrong_secret_is_refused(
    moto_s3: MotoS3, bucket: str
) -> None:
    endpoint = S3Endpoint(region=moto_s3.region, endpoint_url=moto_s3.endpoint)
    url = endpoint.object_url(S3Location(bucket, "dir/a file+plus=.txt"))
    good = credentials(moto_s3.mint("r", {}, 3600))
    bad = credentials(moto_s3.mint_broken("r", {}, 3600))
    async with httpx.AsyncClient() as http:
        request = sign_request(
            http.build_request("GET", url, headers={"Range": "bytes=0-4"}),
            good,
            region=moto_s3.region,
        )
        assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
        assert good.aws_secret_access_key not in str(request.headers)
        response = await http.send(request)
        assert response.status_code == 206 and response.content == b"hello"
        refused = await http.send(
            sign_request(http.build_request("GET", url), bad, region=moto_s3.region)
        )
    assert refused.status_code == 403
    assert b"SignatureDoesNotMatch" in refused.content


async def test_signed_payload_put(moto_s3: MotoS3, bucket: str) -> None:
    endpoint = S3Endpoint(region=moto_s3.region, endpoint_url=moto_s3.endpoint)
    url = endpoint.object_url(S3Location(bucket, "put/signed.bin"))
    good = credentials(moto_s3.mint("r", {}, 3600))
    async with httpx.AsyncClient() as http:
        request = http.build_request("PUT", url, content=b"payload")
        sign_request(request, good, region=moto_s3.region, sign_payload=True)
        assert request.headers["x-amz-content-sha256"] != "UNSIGNED-PAYLOAD"
        assert (await http.send(request)).status_code == 200
    assert moto_s3.s3.get_object(Bucket=bucket, Key="put/signed.bin")["Body"].read() == b"payload"


class CountingSource:
    """A user service stand-in: counts calls, hands out minted keys."""

    def __init__(self, moto_s3: MotoS3) -> None:
        self.moto_s3 = moto_s3
        self.calls: list[tuple[AwsCredentialsRequest, bool, float | None]] = []

    async def get_aws_credentials(
        self,
        /,
        *,
        role: object = None,
        force: bool = False,
        ttl_threshold: object = None,
    ) -> AwsCredentials:
        assert isinstance(role, AwsCredentialsRequest)
        assert isinstance(ttl_threshold, float)
        self.calls.append((role, force, ttl_threshold))
        return credentials(self.moto_s3.mint(role.role, role.params, 3600))


async def test_s3_auth_signs_each_attempt_with_credentials_from_the_source(
    moto_s3: MotoS3, bucket: str
) -> None:
    source = CountingSource(moto_s3)
    request = AwsCredentialsRequest("s3-miniseed-v2", {"year": 2024})
    creds = S3Credentials(source, request, refresh_margin=120.0)
    auth = S3Auth(creds, region=moto_s3.region)
    url = S3Endpoint(moto_s3.region, moto_s3.endpoint).object_url(
        S3Location(bucket, "dir/a file+plus=.txt")
    )
    # the client's own auth (a bearer) is replaced by the per-request S3 auth
    async with httpx.AsyncClient(headers={"Authorization": "Bearer nope"}) as http:
        for _ in range(2):
            response = await http.get(url, auth=auth)
            assert response.status_code == 200 and response.content == b"hello s3"
        await creds.refresh()
    assert [(c[0], c[1], c[2]) for c in source.calls] == [
        (request, False, 120.0),
        (request, False, 120.0),
        (request, True, 120.0),
    ]
    assert "year" in repr(creds) and "S3Auth(region=" in repr(auth)


def test_sign_payload_of_a_streaming_body_is_refused() -> None:
    async def body() -> object:  # pragma: no cover - never iterated
        yield b"x"

    request = httpx.Request("PUT", "https://example.org/b/k", content=body())  # type: ignore[arg-type]
    creds = AwsCredentials("AKIA", "s", "t", datetime.now(timezone.utc))
    with pytest.raises(ConfigError, match="streaming"):
        sign_request(request, creds, region="us-east-2", sign_payload=True)


def test_parse_and_address_s3_urls() -> None:
    loc = parse_s3_url("s3://my-bucket/a/b%20c.mseed")
    assert loc == S3Location("my-bucket", "a/b c.mseed") and not loc.is_prefix
    assert parse_s3_url("s3://my-bucket/a/").is_prefix and parse_s3_url("s3://my-bucket").is_prefix
    aws = S3Endpoint()
    assert aws.object_url(loc) == "https://my-bucket.s3.us-east-2.amazonaws.com/a/b%20c.mseed"
    assert aws.bucket_url("dotted.bucket") == "https://s3.us-east-2.amazonaws.com/dotted.bucket/"
    local = S3Endpoint("eu-west-1", "http://127.0.0.1:9000/")
    assert local.object_url(loc) == "http://127.0.0.1:9000/my-bucket/a/b%20c.mseed"
    for bad in ("https://x/y", "s3://UPPER/k", "s3://b/k?versionId=1", "s3://a..b/k", "s3://"):
        with pytest.raises(ConfigError):
            parse_s3_url(bad)


def _error(code: str, status: int = 400) -> httpx.Response:
    body = f"<Error><Code>{code}</Code><Message>no</Message></Error>".encode()
    return httpx.Response(status, content=body, headers={"content-type": "application/xml"})


class RotatingSource:
    """Hands out keys ``key-0``, ``key-1``, ...: ``get`` the current ones, ``refresh`` the next."""

    def __init__(self) -> None:
        self.n = 0
        self.refreshes: list[str | None] = []

    def current(self) -> AwsCredentials:
        expiry = datetime.now(timezone.utc) + timedelta(days=1)
        return AwsCredentials(f"key-{self.n}", "secret", "token", expiry)

    async def get(self) -> AwsCredentials:
        return self.current()

    async def refresh(self, *, stale: AwsCredentials | None = None) -> AwsCredentials:
        self.refreshes.append(None if stale is None else stale.aws_access_key_id)
        self.n += 1
        return self.current()


def _key(request: httpx.Request) -> str:
    return request.headers["authorization"].split("Credential=")[1].split("/")[0]


@pytest.mark.parametrize(
    ("code", "status"),
    [("ExpiredToken", 400), ("InvalidAccessKeyId", 403), ("SignatureDoesNotMatch", 403)],
)
async def test_s3_auth_refreshes_refused_credentials_and_sends_once_more(
    code: str, status: int
) -> None:
    source = RotatingSource()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_key(request))
        return _error(code, status) if _key(request) == "key-0" else httpx.Response(200, text="ok")

    auth = S3Auth(source, region="us-east-2")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        response = await http.get("http://127.0.0.1:9/b/k", auth=auth)
    assert response.status_code == 200 and response.text == "ok"
    assert seen == ["key-0", "key-1"] and source.refreshes == ["key-0"]


async def test_s3_auth_retries_refused_credentials_only_once_and_nothing_else() -> None:
    source = RotatingSource()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_key(request))
        if request.url.path == "/b/missing":
            return _error("NoSuchKey", 404)
        if request.url.path == "/b/denied":
            return _error("AccessDenied", 403)
        return _error("ExpiredToken")  # whatever the keys

    auth = S3Auth(source, region="us-east-2")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        expired = await http.get("http://127.0.0.1:9/b/k", auth=auth)
        assert expired.status_code == 400 and b"ExpiredToken" in expired.content
        assert seen == ["key-0", "key-1"] and source.refreshes == ["key-0"]
        for path in ("/b/missing", "/b/denied"):
            assert (await http.get(f"http://127.0.0.1:9{path}", auth=auth)).status_code in (
                403,
                404,
            )
    assert seen == ["key-0", "key-1", "key-1", "key-1"]  # no refresh for other refusals
    assert source.refreshes == ["key-0"]


class CachingSource:
    """A user service stand-in with a cache: keys ``key-N`` change only when forced."""

    def __init__(self) -> None:
        self.n = 0
        self.forced = 0

    async def get_aws_credentials(
        self, /, *, role: object = None, force: bool = False, ttl_threshold: object = None
    ) -> AwsCredentials:
        if force:
            await anyio.lowlevel.checkpoint()  # a fetch: others run meanwhile
            self.forced += 1
            self.n += 1
        expiry = datetime.now(timezone.utc) + timedelta(days=1)
        return AwsCredentials(f"key-{self.n}", "secret", "token", expiry)


async def test_concurrent_refusals_refresh_the_credentials_once() -> None:
    source = CachingSource()
    creds = S3Credentials(source, AwsCredentialsRequest("s3-miniseed-v2"), refresh_margin=1.0)
    stale = await creds.get()
    fresh: list[AwsCredentials] = []

    async def refused() -> None:
        fresh.append(await creds.refresh(stale=stale))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(refused)
    assert {c.aws_access_key_id for c in fresh} == {"key-1"} and source.forced == 1
    await creds.refresh()  # no stale keys named: always new ones
    assert source.forced == 2 and (await creds.get()).aws_access_key_id == "key-2"
