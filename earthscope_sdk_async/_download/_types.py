"""The values of a bulk download: per-file results, the batch report, progress snapshots."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

from .._errors import DownloadError, EarthScopeError
from ._paths import safe_url

__all__ = ["DownloadProgress", "DownloadReport", "DownloadResult", "DownloadStatus"]

DownloadStatus = Literal["downloaded", "skipped", "failed"]


@dataclass(frozen=True)
class DownloadProgress:
    """A snapshot of a running download, passed to the ``progress`` callback.

    ``bytes_done`` counts bytes received in this batch (resumed files count only the rest);
    ``files_done`` counts files finished in any way (downloaded, skipped or failed).
    ``files_total`` is known once the input is exhausted (at once for a sized collection);
    ``bytes_total`` only in the final call (it then equals ``bytes_done``).
    """

    bytes_done: int
    bytes_total: int | None
    files_done: int
    files_total: int | None
    rate_bytes_per_s: float


@dataclass(frozen=True)
class DownloadResult:
    """What happened to one input item.

    ``path`` is the destination file (``None`` when the name was rejected); ``bytes`` the
    bytes received for a downloaded file, or the size on disk of a skipped one; ``error``
    the reason of a failure; ``checksum`` the verified hex digest of a file downloaded with
    an expected checksum (``None`` otherwise, and for skipped files, which are not read).
    """

    url: str
    path: Path | None
    status: DownloadStatus
    bytes: int = 0
    error: EarthScopeError | None = None
    checksum: str | None = None


class DownloadReport(Sequence[DownloadResult]):
    """The results of a bulk download, in input order, with summaries."""

    def __init__(self, results: Sequence[DownloadResult]) -> None:
        self._results = tuple(results)

    def __repr__(self) -> str:
        return (
            f"DownloadReport(downloaded={len(self.downloaded)}, skipped={len(self.skipped)}, "
            f"failed={len(self.failed)}, total_bytes={self.total_bytes})"
        )

    def __len__(self) -> int:
        return len(self._results)

    @overload
    def __getitem__(self, index: int) -> DownloadResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[DownloadResult]: ...

    def __getitem__(self, index: int | slice) -> DownloadResult | Sequence[DownloadResult]:
        return self._results[index]

    def __iter__(self) -> Iterator[DownloadResult]:
        return iter(self._results)

    def _with(self, status: DownloadStatus) -> list[DownloadResult]:
        return [r for r in self._results if r.status == status]

    @property
    def downloaded(self) -> list[DownloadResult]:
        """The files downloaded (fully or by resuming a ``.part`` file)."""
        return self._with("downloaded")

    @property
    def skipped(self) -> list[DownloadResult]:
        """The files left alone because they already existed (``overwrite=False``)."""
        return self._with("skipped")

    @property
    def failed(self) -> list[DownloadResult]:
        """The items that could not be downloaded, each with its ``error``."""
        return self._with("failed")

    @property
    def total_bytes(self) -> int:
        """Bytes received for the downloaded files."""
        return sum(r.bytes for r in self.downloaded)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise a :class:`DownloadError` summarising the failures, if there were any."""
        failed = self.failed
        if not failed:
            return
        shown = "; ".join(_describe(r) for r in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise DownloadError(
            f"{len(failed)} of {len(self)} downloads failed: {shown}{more}. "
            "Run the download again to retry them (finished files are skipped, partial "
            "ones resumed).",
            failures=tuple((r.url, r.error) for r in failed if r.error is not None),
        )


def _describe(result: DownloadResult) -> str:
    """One failure, naming the URL once and without its query string (signatures)."""
    url, text = safe_url(result.url), str(result.error)
    return text if url in text else f"{url}: {text}"
