"""Validating files before they are uploaded: miniSEED with ``pymseed``, StationXML against
the bundled FDSN StationXML 1.2 schema with ``lxml`` (both in the ``dropoff`` extra,
imported only when a file of that category is validated).

The schema (``fdsn-station-1.2.xsd``) is the FDSN's published StationXML 1.2 schema,
unchanged; it is compiled once per process. StationXML is parsed incrementally, element by
element, so large documents stay cheap in memory.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import FileValidationError
from ._models import DropoffCategory

__all__ = ["validate_path"]

_SCHEMA = "fdsn-station-1.2.xsd"


def _missing(module: str) -> FileValidationError:
    return FileValidationError(
        f"validating this file needs {module!r}: pip install 'earthscope-sdk-async[dropoff]'",
        path="",
    )


def _basics(path: Path) -> None:
    if not path.exists():
        raise FileValidationError(f"{path} does not exist", path=str(path))
    if not path.is_file():
        raise FileValidationError(f"{path} is not a regular file", path=str(path))
    if path.stat().st_size == 0:
        raise FileValidationError(f"{path} is empty", path=str(path))


def _miniseed(path: Path) -> None:
    try:
        from pymseed import MS3RecordValidator
    except ImportError:
        raise _missing("pymseed") from None
    try:
        errors, _ = MS3RecordValidator.from_file(str(path)).validate()
    except OSError as exc:
        raise FileValidationError(f"{path}: cannot read it ({exc})", path=str(path)) from None
    except Exception as exc:  # pymseed raises its own types for unparsable data
        raise FileValidationError(f"{path} is not valid miniSEED: {exc}", path=str(path)) from None
    if errors:
        reasons = "; ".join(str(getattr(e, "message", e)) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise FileValidationError(f"{path} is not valid miniSEED: {reasons}{more}", path=str(path))


@functools.lru_cache(maxsize=1)
def _schema() -> Any:
    from lxml import etree  # type: ignore[import-untyped,unused-ignore]

    with resources.files(__package__).joinpath(_SCHEMA).open("rb") as f:
        return etree.XMLSchema(etree.parse(f))


def _stationxml(path: Path) -> None:
    try:
        from lxml import etree  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise _missing("lxml") from None
    schema = _schema()
    try:
        with path.open("rb") as f:
            for _, element in etree.iterparse(f, schema=schema, events=("end",)):
                element.clear()
    except OSError as exc:
        raise FileValidationError(f"{path}: cannot read it ({exc})", path=str(path)) from None
    except etree.XMLSyntaxError as exc:
        raise FileValidationError(
            f"{path} is not valid FDSN StationXML 1.2: {exc}", path=str(path)
        ) from None


def validate_path(path: Path, category: DropoffCategory) -> None:
    """Check that ``path`` is a non-empty regular file of ``category``'s format.

    Raises:
        FileValidationError: the reason the file is not fit for upload.
    """
    _basics(path)
    if category is DropoffCategory.miniSEED:
        _miniseed(path)
    elif category is DropoffCategory.stationxml:
        _stationxml(path)
