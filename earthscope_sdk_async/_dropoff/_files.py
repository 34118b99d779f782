"""Choosing what to upload: local files mapped to object keys, validated before upload.

The names and behaviour are earthscope-sdk 1.9.3's ``earthscope_sdk.client.dropoff.files``:
:func:`collect_files` maps sources to keys (a destination ending in ``/`` is a prefix, else
the exact key), refusing a second file for a key already taken
(:class:`DuplicateDestinationError`); :func:`validate_files` checks each file's format.
Results are :class:`UploadCandidate` values: ``ok`` ones can be passed to ``put_objects``,
failed ones carry the reason in ``error`` and are never uploaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from .._errors import ConfigError, EarthScopeError
from ._errors import DuplicateDestinationError, FileValidationError
from ._models import DropoffCategory
from ._validate import validate_path

__all__ = [
    "UploadCandidate",
    "build_key",
    "collect_and_validate_files",
    "collect_files",
    "coerce_category",
    "validate_files",
    "validate_one",
]

PathLike: TypeAlias = "str | os.PathLike[str]"


def coerce_category(category: DropoffCategory | str | None) -> DropoffCategory:
    """``category`` as a :class:`DropoffCategory`.

    Raises:
        ConfigError: it is missing or not one of ``miniseed``, ``assembled``, ``stationxml``.
    """
    if isinstance(category, DropoffCategory):
        return category
    try:
        return DropoffCategory(category)
    except ValueError:
        choices = ", ".join(c.value for c in DropoffCategory)
        what = "No category provided" if not category else f"unknown category {category!r}"
        raise ConfigError(f"{what}: the dropoff category must be one of {choices}") from None


@dataclass(frozen=True)
class UploadCandidate:
    """A local file mapped to a dropoff object key; ``error`` says why it must not be
    uploaded (a key collision, a missing file, a failed validation), ``None`` when it may."""

    path: Path
    """The local file."""
    key: str
    """The object key it would be uploaded to."""
    error: EarthScopeError | None = None
    """Why the file is not uploaded, or ``None``."""

    @property
    def ok(self) -> bool:
        """True when the file may be uploaded."""
        return self.error is None

    def as_tuple(self) -> tuple[Path, str]:
        """``(path, key)``, as ``put_objects`` takes them."""
        return (self.path, self.key)


def build_key(file_path: Path, source: Path, destination: str) -> str:
    """The object key of ``file_path``, found under ``source``, for ``destination``.

    A destination ending in ``/`` is a prefix: the file's path relative to a source
    directory (or its name, for a source file) is appended. Otherwise it is the exact key.
    """
    if not destination.endswith("/"):
        return destination
    if source.is_dir():
        return destination + file_path.relative_to(source).as_posix()
    return destination + file_path.name


def _files_of(source: Path, recursive: bool) -> Iterator[Path]:
    entries = source.rglob("*") if recursive else source.iterdir()
    return (e for e in sorted(entries) if e.is_file() and not e.is_symlink())


def collect_files(
    sources: PathLike | Iterable[PathLike], destination: str, recursive: bool = False
) -> Iterator[UploadCandidate]:
    """The files of ``sources`` (files, or directories: their files, all levels with
    ``recursive``), each with its object key (see :func:`build_key`).

    Yields one :class:`UploadCandidate` per file, lazily. A second file mapped to a key
    already produced is yielded with a :class:`DuplicateDestinationError`; a source that
    is neither a file nor a directory with a :class:`FileValidationError`.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    seen: dict[str, Path] = {}
    for raw in sources:
        source = Path(raw)
        if source.is_file():
            paths: Iterable[Path] = (source,)
        elif source.is_dir():
            paths = _files_of(source, recursive)
        else:
            why = "is not a file or directory" if source.exists() else "does not exist"
            error: EarthScopeError = FileValidationError(f"{source} {why}", path=str(source))
            yield UploadCandidate(source, build_key(source, source, destination), error)
            continue
        for path in paths:
            key = build_key(path, source, destination)
            first = seen.get(key)
            if first is None:
                seen[key] = path
                yield UploadCandidate(path, key)
                continue
            if first == path:  # the same file named twice: listed once
                continue
            error = DuplicateDestinationError(
                f"{path} is not uploaded: its destination {key!r} is already taken by "
                f"{first}; rename one of them or upload them under different prefixes"
            )
            yield UploadCandidate(path, key, error)


def validate_one(
    item: tuple[PathLike, str] | UploadCandidate, category: DropoffCategory | str
) -> UploadCandidate:
    """``item`` validated for ``category``: a candidate with ``error`` set when it failed
    (a failed candidate is returned unchanged)."""
    kind = coerce_category(category)
    if isinstance(item, UploadCandidate):
        if not item.ok:
            return item
        path, key = item.path, item.key
    else:
        path, key = Path(item[0]), item[1]
    try:
        validate_path(path, kind)
    except FileValidationError as exc:
        return UploadCandidate(path, key, exc)
    return UploadCandidate(path, key)


def validate_files(
    files: Iterable[tuple[PathLike, str] | UploadCandidate], category: DropoffCategory | str
) -> Iterator[UploadCandidate]:
    """:func:`validate_one` for each of ``files``, lazily."""
    kind = coerce_category(category)
    for item in files:
        yield validate_one(item, kind)


def collect_and_validate_files(
    sources: PathLike | Iterable[PathLike],
    destination: str,
    category: DropoffCategory | str,
    recursive: bool = False,
) -> Iterator[UploadCandidate]:
    """:func:`collect_files` then :func:`validate_files`, lazily."""
    yield from validate_files(collect_files(sources, destination, recursive), category)
