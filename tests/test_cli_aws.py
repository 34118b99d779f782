"""earthscope-async aws-credentials: formats, exit codes, and credential_process end to end
(botocore and the AWS CLI run it as a subprocess and use its keys against moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from _moto import MotoS3

from earthscope_sdk_async._cli import main
from earthscope_sdk_async._tokens import Tokens
from earthscope_sdk_async.testing import FakeEarthScope


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEarthScope]:
    with FakeEarthScope() as server:
        monkeypatch.setenv("ES_OAUTH2__DOMAIN", server.url)
        monkeypatch.setenv("ES_RESOURCES__API_URL", server.url)
        yield server


def seed(tokens: Tokens) -> None:
    path = Path.home() / ".earthscope" / "default" / "tokens.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(tokens.to_json())


def test_json_env_and_process_formats(
    fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(fake.issue_tokens())
    role = ["aws-credentials", "--role", "s3-miniseed-v2"]
    assert main([*role, "--param", "network=IU", "--param", "year=2024"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert set(plain) == {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "expiration",
    }
    assert fake.aws.issued[-1].params == {"network": "IU", "year": "2024"}

    assert main([*role, "--format", "process"]) == 0
    process = json.loads(capsys.readouterr().out)
    assert set(process) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    }
    assert process["Version"] == 1 and process["Expiration"].endswith("Z")
    assert datetime.fromisoformat(process["Expiration"].replace("Z", "+00:00")).tzinfo
    assert process["AccessKeyId"] == fake.aws.issued[-1].access_key_id

    assert main([*role, "--format", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
        "export AWS_SESSION_TOKEN",
        "export AWS_CREDENTIAL_EXPIRATION",
    ]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["aws-credentials"], 2, "--role"),
        (["aws-credentials", "--role", "r", "--param", "year"], 2, "NAME=VALUE"),
        (["aws-credentials", "--role", "r", "--format", "yaml"], 2, "invalid choice"),
        (
            ["aws-credentials", "--role", "s3-miniseed-v2", "--param", "a=1", "--param", "a=2"],
            2,
            "twice",
        ),
        (["aws-credentials", "--role", "a/b"], 2, "role"),
        (["aws-credentials", "--role", "no-such-role"], 4, "no-such-role"),
    ],
)
def test_errors_and_exit_codes(
    fake: FakeEarthScope,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    seed(fake.issue_tokens())
    assert main(argv) == code
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_not_logged_in_exits_3(fake: FakeEarthScope, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["aws-credentials", "--role", "s3-miniseed-v2"]) == 3
    assert "login" in capsys.readouterr().err


# -- credential_process, end to end -----------------------------------------------------------


def aws_environment(fake: FakeEarthScope, moto_s3: MotoS3, home: Path) -> dict[str, str]:
    command = f"{sys.executable} -m earthscope_sdk_async aws-credentials --role s3-miniseed-v2"
    config = home / ".aws" / "config"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[profile earthscope]\n"
        f"credential_process = {command} --param year=2024 --format process\n"
        f"region = {moto_s3.region}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ES_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        ES_OAUTH2__DOMAIN=fake.url,
        ES_RESOURCES__API_URL=fake.url,
    )
    return env


@pytest.fixture
def s3_objects(fake: FakeEarthScope, moto_s3: MotoS3) -> str:
    fake.aws.minter = moto_s3.mint
    bucket = moto_s3.bucket("process-tests")
    moto_s3.put(bucket, "miniseed/IU/2024/a.mseed", b"a" * 10)
    moto_s3.put(bucket, "miniseed/IU/2024/b.mseed", b"b" * 20)
    seed(fake.issue_tokens())
    return bucket


def test_boto3_uses_the_credential_process_profile(
    fake: FakeEarthScope, moto_s3: MotoS3, s3_objects: str
) -> None:
    script = (
        "import boto3, sys\n"
        "s3 = boto3.Session(profile_name='earthscope').client('s3', endpoint_url=sys.argv[1])\n"
        "print(s3.get_object(Bucket=sys.argv[2], Key='miniseed/IU/2024/b.mseed')['Body'].read())\n"
    )
    env = aws_environment(fake, moto_s3, Path.home())
    done = subprocess.run(
        [sys.executable, "-c", script, moto_s3.endpoint, s3_objects],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(b"b" * 20)
    assert [i.params for i in fake.aws.issued] == [{"year": "2024"}]


def test_aws_cli_s3_ls_through_credential_process(
    fake: FakeEarthScope, moto_s3: MotoS3, s3_objects: str
) -> None:
    env = aws_environment(fake, moto_s3, Path.home())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "--profile",
            "earthscope",
            "--endpoint-url",
            moto_s3.endpoint,
            "s3",
            "ls",
            f"s3://{s3_objects}/miniseed/IU/2024/",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(line.split()[-1] for line in done.stdout.splitlines())
    assert names == ["a.mseed", "b.mseed"]
    assert len(fake.aws.issued) == 1
