"""A folder's files recorded as written, and checked later: the content lists of completion markers.

Both kinds of folder that are committed as a whole, a training checkpoint (`infra.checkpoints`) and a
command's output folder (`infra.outputs`), record every file's size and SHA-256 in a marker, and seal
the marker with a SHA-256 of its own content, so that a damaged marker is told apart from a damaged
file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """Every file under `folder` (but those named in `skip`, at any depth): its size and SHA-256."""
    return {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.name not in skip
    }


def seal(content: dict) -> str:
    """The marker's own checksum: SHA-256 of its content in a canonical form."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def file_problem(folder: Path, name: str, expected: dict) -> str | None:
    """What differs between the file `name` in `folder` and its record, or None."""
    file = Path(folder) / name
    if not file.is_file():
        return "is missing"
    if file.stat().st_size != expected.get("bytes"):
        return f"has {file.stat().st_size} bytes instead of {expected.get('bytes')} (truncated or overwritten)"
    if file_sha256(file) != expected.get("sha256"):
        return "differs from what was written (its checksum does not match)"
    return None
