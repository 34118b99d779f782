"""The dropoff errors, all :class:`~earthscope_sdk_async.EarthScopeError` subclasses::

EarthScopeError
└── DropoffError                      a dropoff operation failed
    ├── DuplicateDestinationError     two files map to one object key (also ValueError)
    ├── FileValidationError           a file failed validation (also ValueError)
    ├── PartSizeError                 no valid multipart part size (also ValueError)
    └── UploadError                   an upload failed (S3 refused, network, integrity)
        └── UploadBatchError          some uploads of a batch failed
"""

from __future__ import annotations

from .._errors import EarthScopeError

__all__ = [
    "DropoffError",
    "DuplicateDestinationError",
    "FileValidationError",
    "PartSizeError",
    "UploadBatchError",
    "UploadError",
]


class DropoffError(EarthScopeError):
    """A dropoff operation (validation or upload) failed; the message says why."""


class DuplicateDestinationError(DropoffError, ValueError):
    """Two distinct source files would be uploaded to the same object key.

    Rename one of them, or upload them under different prefixes.
    """


class FileValidationError(DropoffError, ValueError):
    """A file failed validation before upload (missing, empty, not miniSEED, not valid
    StationXML); ``path`` names it and the message gives the reason. It is never uploaded."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class PartSizeError(DropoffError, ValueError):
    """No part size fits the object within S3's limits (10,000 parts of at most 5 GiB).

    ``total_bytes`` is the object's size (``None`` for a stream), ``required_part_size`` the
    smallest part size that would fit (``None`` when unknown).
    """

    def __init__(
        self, message: str, *, total_bytes: int | None, required_part_size: int | None
    ) -> None:
        super().__init__(message)
        self.total_bytes = total_bytes
        self.required_part_size = required_part_size


class UploadError(DropoffError):
    """An upload failed: S3 refused it, the network failed after the retries, or the data
    changed or did not verify. ``key`` is the object key; ``retryable`` tells whether running
    the upload again (it resumes) may succeed; ``status_code`` is S3's HTTP status if any."""

    def __init__(
        self,
        message: str,
        *,
        key: str,
        retryable: bool = False,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.retryable = retryable
        self.status_code = status_code


class UploadBatchError(UploadError):
    """Some uploads of a ``put_objects`` batch failed (the others completed).

    ``results`` holds the completed uploads, ``failures`` ``(key, error)`` for each failed
    one. Running the same batch again resumes the failed ones.
    """

    def __init__(
        self,
        message: str,
        *,
        results: tuple[object, ...],
        failures: tuple[tuple[str, EarthScopeError], ...],
    ) -> None:
        retryable = all(e.retryable for _, e in failures)
        super().__init__(message, key=failures[0][0] if failures else "", retryable=retryable)
        self.results = results
        self.failures = failures
