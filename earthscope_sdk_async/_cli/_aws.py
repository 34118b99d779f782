"""``earthscope-async aws-credentials``: print temporary AWS credentials for a role.

Like ``token``, a command whose purpose is to print secrets (and the only other one that
does). ``--format process`` prints the JSON the AWS ``credential_process`` setting expects,
so any AWS tool (the AWS CLI, boto3, s5cmd, rclone, GDAL) can use EarthScope credentials
with no code::

    [profile earthscope]
    credential_process = earthscope-async aws-credentials --role s3-miniseed-v2 --format process
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import timezone
from typing import TYPE_CHECKING

from ._errors import OK

if TYPE_CHECKING:
    from earthscope_sdk_async._client import AsyncEarthScopeClient, AwsCredentials

__all__ = ["FORMATS", "parse_param", "render", "run"]

FORMATS = ("json", "env", "process")


def parse_param(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` for ``--param`` (argparse type)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. year=2024), got {text!r}")
    return name.strip(), value


def _zulu(credentials: AwsCredentials) -> str:
    return credentials.expiration.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(credentials: AwsCredentials, fmt: str) -> str:
    """The text to print for ``credentials`` in format ``fmt``."""
    if fmt == "process":
        return json.dumps(
            {
                "Version": 1,
                "AccessKeyId": credentials.aws_access_key_id,
                "SecretAccessKey": credentials.aws_secret_access_key,
                "SessionToken": credentials.aws_session_token,
                "Expiration": _zulu(credentials),
            }
        )
    if fmt == "env":
        values = {
            "AWS_ACCESS_KEY_ID": credentials.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": credentials.aws_secret_access_key,
            "AWS_SESSION_TOKEN": credentials.aws_session_token,
            "AWS_CREDENTIAL_EXPIRATION": _zulu(credentials),
        }
        return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in values.items())
    return json.dumps(
        {
            "aws_access_key_id": credentials.aws_access_key_id,
            "aws_secret_access_key": credentials.aws_secret_access_key,
            "aws_session_token": credentials.aws_session_token,
            "expiration": credentials.expiration.isoformat(),
        },
        indent=2,
    )


def _params(pairs: list[tuple[str, str]] | None) -> dict[str, str]:
    from ._errors import USAGE, CliError

    params: dict[str, str] = {}
    for name, value in pairs or []:
        if name in params:
            raise CliError(f"--param {name} given twice", USAGE)
        params[name] = value
    return params


def run(args: argparse.Namespace) -> int:
    """Fetch credentials for ``--role`` and ``--param``s; print them in ``--format``."""
    from earthscope_sdk_async._aws import AwsCredentialsRequest

    from ._run import with_client

    request = AwsCredentialsRequest(args.role, _params(args.param))

    async def fetch(client: AsyncEarthScopeClient) -> int:
        credentials = await client.user.get_aws_credentials(role=request)
        sys.stdout.write(render(credentials, args.format) + "\n")
        sys.stdout.flush()
        return OK

    return with_client(args, fetch)
