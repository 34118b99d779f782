"""Bulk downloads: a batch of URLs saved under one folder, resumable, retried, verified.

Reading order: :mod:`._batch` (the batch: workers, results), :mod:`._file` (one file: the
``.part``, ``Range`` resume, retries, the atomic rename), then its helpers :mod:`._resume`,
:mod:`._sink`, :mod:`._checksum`, :mod:`._paths`, :mod:`._progress` and :mod:`._types` (the
public result types). The batch takes a :class:`~earthscope_sdk_async._http.Requester`,
never the client.
"""

from ._batch import ChecksumOption as ChecksumOption
from ._batch import DownloadItem as DownloadItem
from ._batch import DownloadSource as DownloadSource
from ._batch import run_download as run_download
from ._paths import safe_url as safe_url
from ._progress import ProgressCallback as ProgressCallback
from ._progress import ProgressOption as ProgressOption
from ._types import DownloadProgress as DownloadProgress
from ._types import DownloadReport as DownloadReport
from ._types import DownloadResult as DownloadResult

__all__ = [
    "ChecksumOption",
    "DownloadItem",
    "DownloadProgress",
    "DownloadReport",
    "DownloadResult",
    "DownloadSource",
    "ProgressCallback",
    "ProgressOption",
    "run_download",
    "safe_url",
]
