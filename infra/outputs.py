"""A command's output folder, committed as a whole: never half old and half new, never a broken file.

A command writes everything into `OUT/.staging/`. Only when it has finished are the files moved into
`OUT` (each `os.replace`, atomic), between two states of the folder's `COMPLETE` marker: first
`{"state": "committing"}`, then the list of every file with its size and SHA-256, sealed with a
checksum of its own (`infra.manifest`). A kill or Ctrl-C while the command works leaves the previous
outputs and their marker untouched (the next run of the command clears the staging folder); a kill
while the files move leaves the marker saying so. Files of the previous outputs that the new ones do
not have are removed, so the folder holds exactly one command's outputs.

`output_problem(OUT)` is what a reader of the folder (the HTML report) asks first: None, or in a few
words what is wrong. A folder written before markers existed has none; it is accepted when its
`results.json` parses and its pictures decode.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .faults import kill_here
from .manifest import file_problem, manifest, seal

STAGING = ".staging"
MARKER = "COMPLETE"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _recorded_files(folder: Path) -> list[str]:
    try:
        files = json.loads((folder / MARKER).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return []
    return list(files) if isinstance(files, dict) else []


def commit(staging: Path, folder: Path) -> None:
    """Move the finished outputs in `staging` into `folder`, replacing the previous ones."""
    content = {"files": manifest(staging)}
    previous = _recorded_files(folder)
    _write_atomically(folder / MARKER, json.dumps({"state": "committing"}) + "\n")
    for i, name in enumerate(content["files"]):
        if i == len(content["files"]) // 2:
            kill_here("output-commit", 0)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(staging / name, target)
    for name in set(previous) - set(content["files"]):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    _write_atomically(folder / MARKER, json.dumps({**content, "sha256": seal(content)}, indent=1) + "\n")


@contextmanager
def staged(folder: Path) -> Iterator[Path]:
    """A fresh staging folder inside `folder`; committed when the block ends without an error, else removed."""
    folder = Path(folder)
    staging = folder / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run of the command left
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    kill_here("output-write", 0)
    commit(staging, folder)


def _legacy_problem(folder: Path) -> str | None:
    """A folder without a marker (written before markers existed): its results and pictures must read."""
    from PIL import Image

    results = folder / "results.json"
    if results.is_file():
        try:
            json.loads(results.read_text())
        except (UnicodeDecodeError, ValueError):
            return "results.json does not parse (truncated or overwritten)"
    for png in sorted(folder.glob("*.png")):
        try:
            with Image.open(png) as image:
                image.verify()
        except Exception:  # PIL raises several kinds for a broken file
            return f"{png.name} is not a readable PNG (truncated or overwritten)"
    return None


def output_problem(folder: Path) -> str | None:
    """What makes the outputs in `folder` unreadable as one command's results, or None."""
    folder = Path(folder)
    marker = folder / MARKER
    if not marker.is_file():
        return _legacy_problem(folder)
    try:
        record = json.loads(marker.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return f"its {MARKER} marker does not parse (damaged)"
    if not isinstance(record, dict):
        return f"its {MARKER} marker is damaged"
    if record.get("state") == "committing":
        return "the command was stopped while its outputs were being replaced"
    files = record.get("files")
    if not isinstance(files, dict) or record.get("sha256") != seal({"files": files}):
        return f"its {MARKER} marker is damaged (its own checksum does not match)"
    for name, expected in files.items():
        problem = file_problem(folder, name, expected if isinstance(expected, dict) else {})
        if problem is not None:
            return f"{name} {problem}"
    return None
