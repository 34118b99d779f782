"""Dropoff: submit miniSEED, assembled data and StationXML to EarthScope (``client.dropoff``)."""

from ._errors import (
    DropoffError,
    DuplicateDestinationError,
    FileValidationError,
    PartSizeError,
    UploadBatchError,
    UploadError,
)
from ._files import (
    UploadCandidate,
    build_key,
    collect_and_validate_files,
    collect_files,
    validate_files,
    validate_one,
)
from ._models import (
    DropoffCategory,
    DropoffObject,
    DropoffStatusCount,
    DropoffSummary,
    Page,
    UploadResult,
    UploadStatus,
)
from ._options import DropoffOptions
from ._service import DropoffService

__all__ = [
    "DropoffCategory",
    "DropoffError",
    "DropoffObject",
    "DropoffOptions",
    "DropoffService",
    "DropoffStatusCount",
    "DropoffSummary",
    "DuplicateDestinationError",
    "FileValidationError",
    "Page",
    "PartSizeError",
    "UploadBatchError",
    "UploadCandidate",
    "UploadError",
    "UploadResult",
    "UploadStatus",
    "build_key",
    "collect_and_validate_files",
    "collect_files",
    "validate_files",
    "validate_one",
]
