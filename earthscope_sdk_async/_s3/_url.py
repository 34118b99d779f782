"""``s3://bucket/key`` URLs and where to send them (endpoint, region, addressing style).

AWS by default (``https://<bucket>.s3.<region>.amazonaws.com/<key>``, virtual-hosted; path
style for bucket names that are not DNS labels); a configured endpoint (``s3_endpoint_url``,
e.g. a local test server) is addressed path-style: ``<endpoint>/<bucket>/<key>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from .._errors import ConfigError

__all__ = ["S3Endpoint", "S3Location", "is_s3_url", "parse_s3_url"]

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,254}")
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9\-]{1,61}[a-z0-9]")


def is_s3_url(url: object) -> bool:
    """True for a string starting with ``s3://``."""
    return isinstance(url, str) and url[:5].lower() == "s3://"


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key (``key`` may be empty or end in ``/``: a prefix)."""

    bucket: str
    key: str

    @property
    def url(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def is_prefix(self) -> bool:
        """True when the key is empty or ends with ``/`` (a "directory" to list)."""
        return self.key == "" or self.key.endswith("/")


def parse_s3_url(url: str) -> S3Location:
    """Split ``s3://bucket/key`` (the key percent-decoded if it was encoded).

    Raises:
        ConfigError: not an ``s3://`` URL, or the bucket name is invalid.
    """
    if not is_s3_url(url):
        raise ConfigError(f"not an s3:// URL: {url!r} (expected s3://bucket/key)")
    parts = urlsplit(url)
    bucket = parts.netloc
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ConfigError(
            f"{url!r}: {bucket!r} is not a valid S3 bucket name (lower-case letters, "
            "digits, '.', '-'; 3 to 255 characters)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{url!r}: an s3:// URL has no query or fragment")
    key = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
    return S3Location(bucket, key)


@dataclass(frozen=True)
class S3Endpoint:
    """Where S3 requests go: ``endpoint_url`` (``None``: AWS) and the signing ``region``."""

    region: str = "us-east-2"
    endpoint_url: str | None = None

    def bucket_url(self, bucket: str) -> str:
        """The URL of ``bucket`` itself (for listing), ending with ``/``."""
        if self.endpoint_url is not None:
            return f"{self.endpoint_url.rstrip('/')}/{bucket}/"
        if _DNS_BUCKET.fullmatch(bucket):
            return f"https://{bucket}.s3.{self.region}.amazonaws.com/"
        return f"https://s3.{self.region}.amazonaws.com/{bucket}/"

    def object_url(self, location: S3Location) -> str:
        """The HTTPS (or, for a loopback endpoint, HTTP) URL of an object."""
        return self.bucket_url(location.bucket) + quote(location.key, safe="/~")

    def host(self, bucket: str) -> str:
        """The host name requests for ``bucket`` go to."""
        return urlsplit(self.bucket_url(bucket)).hostname or ""
