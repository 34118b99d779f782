"""Dropoff options: bucket, S3 endpoint, part size and concurrency (``ES_DROPOFF__*``).

Kept apart from :class:`~earthscope_sdk_async.Settings` (which is about authentication and
the API) so that only uploads pay for them; resolved "explicit > environment > default".
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checks import check_count
from .._errors import ConfigError
from .._s3._url import S3Endpoint

__all__ = [
    "DEFAULT_BUCKET",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "DropoffOptions",
    "choose_part_size",
]

DEFAULT_BUCKET = "dropoff-prod-us-east-2-k9j3mdz7wq1p"
MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part (every part but the last)."""
MAX_PART_SIZE = 5 * 1024**3
"""S3's largest part."""
MAX_PARTS = 10_000
"""S3's most parts per upload."""

_ENV = {
    "ES_DROPOFF__BUCKET": "bucket",
    "ES_DROPOFF__CATEGORY": "category",
    "ES_DROPOFF__REGION": "region",
    "ES_DROPOFF__ENDPOINT_URL": "endpoint_url",
    "ES_DROPOFF__PART_SIZE": "part_size",
    "ES_DROPOFF__PART_CONCURRENCY": "part_concurrency",
    "ES_DROPOFF__OBJECT_CONCURRENCY": "object_concurrency",
    "ES_DROPOFF__STATE_DIR": "state_dir",
}
_INTS = frozenset({"part_size", "part_concurrency", "object_concurrency"})


@dataclass(frozen=True)
class DropoffOptions:
    """Where and how uploads go.

    ``endpoint_url`` overrides the S3 endpoint (path-style addressing, e.g. a local S3
    server in tests); by default AWS's, for ``region``. ``state_dir`` holds
    the resume state files (default ``~/.earthscope/<profile>/dropoff``).
    """

    bucket: str = DEFAULT_BUCKET
    """The dropoff bucket."""
    category: str | None = None
    """The default category when a call gives none."""
    region: str = "us-east-2"
    """The bucket's AWS region (used for signing)."""
    endpoint_url: str | None = None
    """The S3 endpoint; ``None``: AWS's regional endpoint."""
    part_size: int = 10 * 1024 * 1024
    """Bytes per part (raised automatically to stay within 10,000 parts)."""
    part_concurrency: int = 8
    """Parts in flight at once, over all objects."""
    object_concurrency: int = 3
    """Objects uploaded at once by ``put_objects``."""
    state_dir: Path | str | None = None
    """Where resume state files are kept; ``None``: next to the profile's tokens."""
    role: str = "s3-dropoff"
    """The AWS role whose temporary credentials sign the uploads."""

    def __post_init__(self) -> None:
        for name in _INTS:
            check_count(f"dropoff {name}", getattr(self, name))
        if self.part_size < MIN_PART_SIZE or self.part_size > MAX_PART_SIZE:
            raise ConfigError(
                f"dropoff part_size must be between {MIN_PART_SIZE} (5 MiB) and "
                f"{MAX_PART_SIZE} (5 GiB) bytes, got {self.part_size}"
            )
        if not self.bucket:
            raise ConfigError("dropoff bucket must not be empty")
        if self.state_dir is not None and not isinstance(self.state_dir, Path):
            object.__setattr__(self, "state_dir", Path(self.state_dir).expanduser())

    @property
    def endpoint(self) -> S3Endpoint:
        """Where S3 requests go."""
        return S3Endpoint(region=self.region, endpoint_url=self.endpoint_url)

    def replace(self, **changes: Any) -> DropoffOptions:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> DropoffOptions:
        """Options from ``explicit`` keywords, then ``ES_DROPOFF__*`` variables, then defaults.

        Raises:
            ConfigError: a variable holds an invalid value (the message names it).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, name in _ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            if name in _INTS:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ConfigError(f"{var} must be a whole number, got {raw!r}") from None
            elif name == "state_dir":
                values[name] = Path(raw).expanduser()
            else:
                values[name] = raw
        values.update({k: v for k, v in explicit.items() if v is not None})
        return cls(**values)


def choose_part_size(total: int | None, wanted: int) -> int:
    """``wanted``, raised so that ``total`` bytes fit in :data:`MAX_PARTS` parts.

    Raises:
        PartSizeError: not even 5 GiB parts fit.
    """
    from ._errors import PartSizeError

    if total is None or total <= wanted * MAX_PARTS:
        return wanted
    required = -(-total // MAX_PARTS)
    if required > MAX_PART_SIZE:
        raise PartSizeError(
            f"a file of {total:,} bytes cannot be uploaded: it needs parts of at least "
            f"{required:,} bytes to stay within S3's {MAX_PARTS:,}-part limit, but parts are "
            f"at most {MAX_PART_SIZE:,} bytes (5 GiB); split the file",
            total_bytes=total,
            required_part_size=required,
        )
    mib = 1024 * 1024
    return -(-required // mib) * mib
