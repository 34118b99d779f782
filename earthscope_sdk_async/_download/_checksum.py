"""Optional checksum verification of downloads: expected digests, hashers, prefix hashing.

``checksum`` maps a URL to its expected hex digest (a mapping, or a callable returning the
digest or ``None`` for "do not check this one"); ``checksum_algorithm`` is any fixed-size
:mod:`hashlib` algorithm. The digest is computed while the body streams (the hashing runs in
the same worker thread as the write, and releases the GIL); a resumed ``.part`` file has its
existing prefix hashed first.
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, TypeAlias

from .._errors import ConfigError, DownloadError
from .._files import open_regular
from ._paths import safe_url

__all__ = ["ChecksumOption", "Checksums", "Hasher", "hash_prefix"]

ChecksumOption: TypeAlias = "Callable[[str], str | None] | Mapping[str, str] | None"
"""What ``download(checksum=...)`` accepts: url -> expected hex digest."""

_READ = 1024 * 1024
_HEX = frozenset(string.hexdigits)


class Hasher(Protocol):
    """The part of a :mod:`hashlib` object the downloader uses."""

    def update(self, data: bytes | bytearray, /) -> None: ...

    def hexdigest(self) -> str: ...


class Checksums:
    """The expected digests of one batch and the algorithm that computes them."""

    def __init__(self, source: ChecksumOption, algorithm: str) -> None:
        if source is not None and not (isinstance(source, Mapping) or callable(source)):
            raise ConfigError(
                f"checksum must be a mapping url -> hex digest or a callable; got {source!r}"
            )
        self.source = source
        self.algorithm = _check_algorithm(algorithm) if source is not None else algorithm
        self.size = hashlib.new(self.algorithm).digest_size if source is not None else 0

    @property
    def enabled(self) -> bool:
        """True when some files are to be verified."""
        return self.source is not None

    def new(self) -> Hasher:
        """A fresh hasher."""
        return hashlib.new(self.algorithm)

    def expected(self, url: str) -> str | None:
        """The expected lower-case hex digest of ``url``; ``None`` when it is not checked.

        Raises:
            DownloadError: the lookup failed or gave something that is not a hex digest.
        """
        source = self.source
        if source is None:
            return None
        try:
            value = source.get(url) if isinstance(source, Mapping) else source(url)
        except Exception as exc:
            error = DownloadError(
                f"{safe_url(url)}: the checksum lookup failed ({type(exc).__name__}); "
                "fix the checksum callable"
            )
            raise error from exc
        if value is None:
            return None
        digest = value.strip().lower() if isinstance(value, str) else None
        if digest is None or len(digest) != 2 * self.size or not _HEX.issuperset(digest):
            raise DownloadError(
                f"{safe_url(url)}: the expected checksum {value!r} is not a {self.algorithm} "
                f"hex digest ({2 * self.size} hex characters)"
            )
        return digest


def _check_algorithm(name: object) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"checksum_algorithm must be a hashlib name, got {name!r}")
    try:
        hasher = hashlib.new(name)
    except (ValueError, TypeError):
        hasher = None
    if hasher is None or hasher.digest_size == 0 or name.lower().startswith("shake"):
        known = ", ".join(sorted(a for a in hashlib.algorithms_guaranteed if "shake" not in a))
        raise ConfigError(
            f"unknown or variable-length checksum_algorithm {name!r}; use one of {known}"
        )
    return name


def hash_prefix(hasher: Hasher, path: Path | str, size: int) -> None:
    """Feed the first ``size`` bytes of ``path`` to ``hasher`` (blocking: run in a thread).

    Raises:
        OSError: the file cannot be read, or is shorter than ``size``.
    """
    left = size
    with os.fdopen(open_regular(path, os.O_RDONLY), "rb") as source:
        while left > 0:
            block = source.read(min(_READ, left))
            if not block:
                raise OSError(f"{path} is shorter than {size} bytes")
            hasher.update(block)
            left -= len(block)
