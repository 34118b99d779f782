"""CRC64NVME checksums (base64, as S3 wants them), computed with ``awscrt`` (the ``dropoff``
extra; botocore uses the same library for CRC64NVME). ~20 GB/s: cheaper than the disk."""

from __future__ import annotations

import base64

from .._errors import ConfigError

__all__ = ["Crc64", "crc64nvme"]


def _crc(data: bytes, previous: int = 0) -> int:
    try:
        from awscrt import checksums  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise ConfigError(
            "uploads need 'awscrt' for CRC64NVME checksums: "
            "pip install 'earthscope-sdk-async[dropoff]'"
        ) from None
    return int(checksums.crc64nvme(data, previous))


def _b64(value: int) -> str:
    return base64.b64encode(value.to_bytes(8, "big")).decode()


def crc64nvme(data: bytes) -> str:
    """The CRC64NVME of ``data``, base64 (S3's ``x-amz-checksum-crc64nvme``)."""
    return _b64(_crc(data))


class Crc64:
    """A running CRC64NVME over consecutive parts (the full-object checksum)."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> str:
        """Add ``data``; return the CRC64NVME of ``data`` alone (base64)."""
        self.value = _crc(data, self.value)
        return crc64nvme(data)

    def add(self, data: bytes) -> None:
        """Add ``data``."""
        self.value = _crc(data, self.value)

    @property
    def b64(self) -> str:
        """The CRC64NVME of everything added, base64."""
        return _b64(self.value)
