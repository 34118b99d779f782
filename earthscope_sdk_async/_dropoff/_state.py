"""The resume state of one multipart upload, kept in a small JSON file (written atomically).

One file per object, ``<state_dir>/<bucket>__<key with "/" as "__">.json`` (plus a hash
of the bucket and key where that name could be another object's too), holding what
earthscope-sdk 1.9.3 keeps (``UploadId``, ``Parts`` = {part number: [ETag, CRC64NVME]},
``Completed``, ``TotalBytes``, ``PartSize``) plus the source file's size and modification
time, so a changed file restarts the upload instead of mixing old and new bytes. The file
is rewritten (temp file, fsync, rename) after every part, so a crash, SIGKILL or Ctrl-C
loses at most the parts in flight; it is deleted once the upload completes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._stores._fileio import atomic_write, ensure_private_dir, read_bytes, remove

__all__ = ["UploadState", "state_path"]

logger = logging.getLogger(__name__)


def state_path(state_dir: Path, bucket: str, key: str) -> Path:
    """The state file of ``bucket``/``key``: earthscope-sdk 1.9.3's name (``/`` in the key
    becomes ``__``) when that name can only come from this object; otherwise (underscores
    that two keys could share once ``/`` is replaced, a backslash or ``..``, or a name too
    long for a file system) its start plus a hash of the exact bucket and key.
    """
    plain = f"{bucket}__{key.replace('/', '__')}"
    name = plain.replace("\\", "_").replace("..", "_.")
    # 1.9.3's name decodes to one object only when no "_" in the bucket, no "__" in the key
    # and no "_" next to a "/" (each "_" run is then a single "_" or "/"s only)
    ambiguous = name != plain or "_" in bucket or any(s in key for s in ("__", "_/", "/_"))
    if ambiguous or len(name.encode()) > 200:
        digest = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()[:16]
        name = name.encode()[:160].decode(errors="ignore") + "__" + digest
    return state_dir / f"{name}.json"


@dataclass
class UploadState:
    """What is known about one object's multipart upload; :meth:`save` persists it."""

    path: Path
    upload_id: str | None = None
    total_bytes: int | None = None
    part_size: int | None = None
    source: dict[str, Any] = field(default_factory=dict)
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)
    completed: bool = False

    @classmethod
    def load(cls, path: Path) -> UploadState:
        """The state saved at ``path``, or an empty one (a missing or unreadable file is an
        empty state: the upload then starts afresh)."""
        raw = read_bytes(path)
        if raw is None:
            return cls(path)
        try:
            data = json.loads(raw)
            parts = {int(n): (str(v[0]), str(v[1])) for n, v in data.get("Parts", {}).items()}
            return cls(
                path,
                upload_id=data.get("UploadId") or None,
                total_bytes=data.get("TotalBytes"),
                part_size=data.get("PartSize"),
                source=dict(data.get("Source") or {}),
                parts=parts,
                completed=bool(data.get("Completed")),
            )
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            logger.warning("ignoring unreadable dropoff state file %s", path)
            return cls(path)

    def to_json(self) -> bytes:
        """The file's content."""
        data = {
            "UploadId": self.upload_id,
            "Parts": {str(n): list(v) for n, v in sorted(self.parts.items())},
            "Completed": self.completed,
            "TotalBytes": self.total_bytes,
            "PartSize": self.part_size,
            "Source": self.source,
        }
        return json.dumps(data, indent=1).encode()

    def save(self) -> None:
        """Write the state atomically (creating its private directory)."""
        ensure_private_dir(self.path.parent)
        atomic_write(self.path, self.to_json())

    def delete(self) -> None:
        """Remove the state file."""
        remove(self.path)

    def matches(self, *, total_bytes: int | None, part_size: int, source: dict[str, Any]) -> bool:
        """Whether the saved upload may be resumed for this source and part size."""
        return (
            self.upload_id is not None
            and self.total_bytes == total_bytes
            and self.part_size == part_size
            and self.source == source
        )

    def reset(self, *, total_bytes: int | None, part_size: int, source: dict[str, Any]) -> None:
        """Forget the previous upload; describe the new one."""
        self.upload_id, self.parts, self.completed = None, {}, False
        self.total_bytes, self.part_size, self.source = total_bytes, part_size, source
