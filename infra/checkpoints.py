"""Training checkpoints for `--resume`, shared by the inverter's and the classifiers' trainers.

A checkpoint is `<run>/checkpoints/step-NNNNNNN/`, written by `accelerator.save_state` (models,
optimisers, every process's RNG states, and whatever the trainer registered: the EMA, the
`TrainState`). It is written into a hidden temporary folder and renamed into place only when
complete, with a `COMPLETE` marker, so a crash mid-write never leaves a half checkpoint that looks
whole, and never touches the previous one. Only the newest `keep` are kept (0: all).

The marker lists every file of the checkpoint with its size and SHA-256, its step, and a SHA-256 of
that content itself, and a resume verifies them all before loading anything: a file that is missing,
truncated, zeroed or changed by one byte stops the resume with one line that names it and the newest
earlier checkpoint that verifies (accelerate itself would only log a random state it could not load,
and go on inexactly). The marker is checked first, so a damaged marker is blamed, not the intact file
its changed record disagrees with; a marker swapped in from another checkpoint names its own step; a
step folder without a marker (it is renamed into place only after the marker is written) means the
marker was deleted, never a silent fall-back to an older checkpoint. A marker of the project's first
format, which listed no files, cannot be verified: it is accepted only with `--accept-old-marker`,
which records the files as they are now.

`TrainState` is the step counter and the batch stream's position, registered with accelerate so
that every checkpoint carries them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from .errors import UserError
from .faults import kill_here
from .manifest import file_problem, manifest, seal

MARKER = "COMPLETE"
_STEP = re.compile(r"^step-(\d+)$")


class TrainState:
    """Step counter and data position; registered with accelerate so checkpoints carry it.

    `stream` is anything with `state_dict()` / `load_state_dict()` (an `infra.batches.BatchStream`)."""

    def __init__(self, stream):
        self.step = 0
        self.stream = stream

    def state_dict(self) -> dict:
        return {"step": self.step, "stream": self.stream.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.stream.load_state_dict(state["stream"])


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = checkpoint_dir(run_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _STEP.match(p.name)) and (p / MARKER).is_file()]
    return [p for _, p in sorted(found)]


def save_checkpoint(accelerator, run_dir: Path, step: int, keep: int) -> Path:
    """Collective: every process must call it (each saves its own RNG state)."""
    root = checkpoint_dir(run_dir)
    final = root / f"step-{step:07d}"
    tmp = root / f".tmp-step-{step:07d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    try:
        accelerator.save_state(str(tmp), safe_serialization=True)
    except RuntimeError as err:  # torch's writer reports a failed write (a full disk) as a RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        free, what = shutil.disk_usage(root).free / 2**20, (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(
            f"could not write checkpoint step-{step:07d} into {root} ({what}); {free:.1f} MiB are free there, and a "
            f"full disk is the usual cause. The newest complete checkpoint is kept: make room, then --resume"
        ) from err
    kill_here("checkpoint-write", step, accelerator.process_index)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        _write_marker(tmp, step)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def _write_marker(folder: Path, step: int) -> None:
    content = {"step": step, "files": manifest(folder, skip=(MARKER,))}
    (folder / MARKER).write_text(json.dumps({**content, "sha256": seal(content)}, indent=1) + "\n")


def _step_of(path: Path) -> int | None:
    m = _STEP.match(Path(path).name)
    return int(m.group(1)) if m else None


def _problem(path: Path, accept_old: bool = False) -> str | None:
    """What is wrong with the checkpoint in `path` (the first thing found), or None when it verifies."""
    marker = path / MARKER
    if not marker.is_file():
        return f"has no {MARKER} marker (it was deleted: checkpoints are renamed into place only after it is written)"
    try:
        record = json.loads(marker.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return f"has a damaged {MARKER} marker (it does not parse: truncated, zeroed or overwritten)"
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        if accept_old and isinstance(record, dict):
            return None
        return (
            f"has a {MARKER} marker without its list of files (the project's first format, or damaged), so nothing "
            f"in it can be verified; if you trust it, resume with --accept-old-marker"
        )
    content = {"step": record.get("step"), "files": record["files"]}
    if "sha256" in record and record["sha256"] != seal(content):
        return f"has a damaged {MARKER} marker (its own checksum does not match: it was changed after it was written)"
    if record.get("step") != _step_of(path):
        return f"has the {MARKER} marker of step {record.get('step')} (swapped in from another checkpoint)"
    sealed = "sha256" in record  # markers written before the seal: a mismatch may be in the marker as well
    for name, expected in record["files"].items():
        problem = file_problem(path, name, expected if isinstance(expected, dict) else {})
        if problem is not None:
            older = "" if sealed else f" (or the unsealed {MARKER} marker of an older version was)"
            return f"{name} {problem}{older}"
    return None


def _fallback(path: Path) -> str:
    """The newest earlier checkpoint that itself verifies, as advice."""
    for earlier in reversed([p for p in list_checkpoints(path.parent.parent) if p != path]):
        if _problem(earlier) is None:
            return f"delete {path} to resume from {earlier.name} (verified)"
    return "no earlier checkpoint verifies; start the run again under a new name"


def verify_checkpoint(path: Path, accept_old: bool = False) -> None:
    """The marker and every file it lists are intact; else one error naming what changed and the fallback."""
    path = Path(path)
    problem = _problem(path, accept_old)
    if problem is not None:
        what = "damaged" if (path / MARKER).is_file() else "incomplete"
        raise UserError(f"checkpoint {path} is {what}: {problem}; {_fallback(path)}")


def load_checkpoint(accelerator, path: Path) -> None:
    path = Path(path)
    verify_checkpoint(path)
    _load_verified(accelerator, path)


def _load_verified(accelerator, path: Path) -> None:
    try:
        accelerator.load_state(str(path))
    except Exception as err:  # what the checksums cannot see: a checkpoint of another configuration
        raise UserError(f"checkpoint {path} cannot be loaded ({type(err).__name__}: {err}); {_fallback(path)}") from err


def _unmarked(run_dir: Path, after: int) -> list[Path]:
    """Step folders newer than step `after` that have no marker: their marker was deleted."""
    root = checkpoint_dir(run_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (n := _step_of(p)) is not None and n > after and not (p / MARKER).exists()]
    return sorted(found)


def resume_point(run_dir: Path, accept_old: bool = False) -> Path:
    """The newest checkpoint of `run_dir`, verified; what to do when there is none.

    With `accept_old`, a marker of the first format (no file list) is accepted and rewritten with the
    files as they are now, by the process that calls it (rank 0, before the others load)."""
    checkpoints = list_checkpoints(run_dir)
    unmarked = _unmarked(run_dir, _step_of(checkpoints[-1]) if checkpoints else -1)
    if unmarked:
        verify_checkpoint(unmarked[-1])  # raises: names the missing marker and a fallback that verifies
    if not checkpoints:
        config = Path(run_dir) / "config.yaml"
        raise UserError(
            f"{run_dir} never reached its first checkpoint (it was stopped during start-up or before its first "
            f"checkpoint step), so there is nothing to resume: start it again with `--config {config}`"
        )
    latest = checkpoints[-1]
    verify_checkpoint(latest, accept_old)
    if accept_old and _problem(latest) is not None and int(os.environ.get("RANK", "0")) == 0:
        _write_marker(latest, _step_of(latest))
        print(f"accepted the old-format marker of {latest} and recorded its files as they are now")
    return latest


def load_latest_checkpoint(accelerator, run_dir: Path) -> Path:
    """Resume from the newest complete checkpoint of `run_dir`; returns its folder."""
    latest = resume_point(run_dir)  # verified there: its files are hashed once
    _load_verified(accelerator, latest)
    return latest
