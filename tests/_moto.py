"""A real S3 server for tests and benchmarks: moto in server mode on 127.0.0.1.

Set-up happens with authentication off (moto's default): an admin IAM user (``*`` allowed)
and a role ``earthscope-reader`` (``s3:*``). Then authentication is switched on
(``/moto-api/reset-auth``), so from then on every request must carry a valid SigV4 signature
from known keys: moto checks the signature, the access key and the session token.
:meth:`MotoS3.mint` assumes the role through STS, as EarthScope's credentials service does;
:meth:`MotoS3.mint_broken` hands out a wrong secret (every signature then fails).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any

import httpx

ACCOUNT = "123456789012"
REGION = "us-east-2"
ROLE = "earthscope-reader"
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class MotoS3:
    """A configured moto server at ``endpoint`` (``http://127.0.0.1:<port>``)."""

    def __init__(self, endpoint: str, admin_keys: dict[str, str] | None = None) -> None:
        """Set the server up (or, given ``admin_keys``, attach to one already set up)."""
        self.endpoint = endpoint
        self.region = REGION
        self.admin_keys = admin_keys or self._set_up(endpoint)
        self.s3: Any = self.client("s3")
        self._sts: Any = self.client("sts")
        self._lock = threading.Lock()
        self._names = itertools.count()
        self.minted = 0

    @staticmethod
    def _set_up(endpoint: str) -> dict[str, str]:
        import boto3

        boot = {"aws_access_key_id": "boot", "aws_secret_access_key": "boot"}
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, **boot)
        iam.create_user(UserName="admin")
        iam.put_user_policy(
            UserName="admin", PolicyName="all", PolicyDocument=json.dumps(_ALLOW_ALL)
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(_TRUST))
        iam.put_role_policy(RoleName=ROLE, PolicyName="s3", PolicyDocument=json.dumps(_ALLOW_ALL))
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0", timeout=30).raise_for_status()
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` with the admin keys."""
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, **self.admin_keys
        )

    def bucket(self, name: str) -> str:
        """Create bucket ``name`` (if new); return it."""
        with contextlib.suppress(self.s3.exceptions.BucketAlreadyOwnedByYou):
            self.s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        return name

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Upload one object."""
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def mint(self, role: str, params: Mapping[str, str], lifetime: float) -> dict[str, str]:
        """Temporary keys for the reader role (the fake EarthScope's minter)."""
        with self._lock:
            name = f"es-{role}-{next(self._names)}"
            found = self._sts.assume_role(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
                RoleSessionName=name,
                DurationSeconds=max(900, int(lifetime)),
            )["Credentials"]
            self.minted += 1
        return {
            "aws_access_key_id": found["AccessKeyId"],
            "aws_secret_access_key": found["SecretAccessKey"],
            "aws_session_token": found["SessionToken"],
        }

    def mint_broken(self, role: str, params: Mapping[str, str], lifetime: float) -> dict[str, str]:
        """Keys whose secret is wrong: every signature made with them fails."""
        keys = self.mint(role, params, lifetime)
        return {**keys, "aws_secret_access_key": "wrong" + keys["aws_secret_access_key"][5:]}


def start_threaded() -> tuple[Any, MotoS3]:
    """Start moto in a thread of this process on a free port; return (server, MotoS3)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, MotoS3(f"http://{host}:{port}")
