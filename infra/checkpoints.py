"""Training checkpoints for `--resume`, shared by the inverter's and the classifiers' trainers.

A checkpoint is `<run>/checkpoints/step-NNNNNNN/`, written by `accelerator.save_state` (models,
optimisers, every process's RNG states, and whatever the trainer registered: the EMA, the
`TrainState`). It is written into a hidden temporary folder and renamed into place only when
complete, with a `COMPLETE` marker, so a crash mid-write never leaves a half checkpoint that looks
whole, and never touches the previous one. Only the newest `keep` are kept (0: all).

The marker lists every file of the checkpoint with its size and SHA-256, and a resume verifies
them all before loading anything: a file that is missing, truncated, zeroed or changed by one byte
stops the resume with one line that names it and the earlier checkpoint to fall back to (accelerate
itself would only log a random state it could not load, and go on inexactly).

`TrainState` is the step counter and the batch stream's position, registered with accelerate so
that every checkpoint carries them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .errors import UserError
from .faults import kill_here

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
    accelerator.save_state(str(tmp), safe_serialization=True)
    kill_here("checkpoint-write", step, accelerator.process_index)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / MARKER).write_text(json.dumps({"step": step, "files": _manifest(tmp)}, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, dict]:
    return {
        str(p.relative_to(folder)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def _fallback(path: Path) -> str:
    earlier = [p.name for p in list_checkpoints(path.parent.parent) if p != path]
    if earlier:
        return f"delete {path} to resume from {earlier[-1]}"
    return "no earlier checkpoint exists; start the run again under a new name"


def verify_checkpoint(path: Path) -> None:
    """Every file the marker lists is there, with its size and checksum; else one error naming it."""
    path = Path(path)
    if not (path / MARKER).is_file():
        raise UserError(
            f"{path} is not a complete checkpoint (no {MARKER} marker); it was interrupted while being written. "
            f"Delete it to resume from an earlier one"
        )
    try:
        manifest = json.loads((path / MARKER).read_text())["files"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return  # a marker of an earlier version of the project, which listed no files
    for name, expected in manifest.items():
        file = path / name
        if not file.is_file():
            problem = "is missing"
        elif file.stat().st_size != expected["bytes"]:
            problem = f"has {file.stat().st_size} bytes instead of {expected['bytes']} (truncated or overwritten)"
        elif _sha256(file) != expected["sha256"]:
            problem = "differs from what was written (its checksum does not match)"
        else:
            continue
        raise UserError(f"checkpoint {path} is damaged: {name} {problem}; {_fallback(path)}")


def load_checkpoint(accelerator, path: Path) -> None:
    path = Path(path)
    verify_checkpoint(path)
    try:
        accelerator.load_state(str(path))
    except Exception as err:  # what the checksums cannot see: a checkpoint of another configuration
        raise UserError(f"checkpoint {path} cannot be loaded ({type(err).__name__}: {err}); {_fallback(path)}") from err


def resume_point(run_dir: Path) -> Path:
    """The newest complete checkpoint of `run_dir`, verified; what to do when there is none."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        config = Path(run_dir) / "config.yaml"
        raise UserError(
            f"{run_dir} never reached its first checkpoint (it was stopped during start-up or before its first "
            f"checkpoint step), so there is nothing to resume: start it again with `--config {config}`"
        )
    verify_checkpoint(checkpoints[-1])
    return checkpoints[-1]


def load_latest_checkpoint(accelerator, run_dir: Path) -> Path:
    """Resume from the newest complete checkpoint of `run_dir`; returns its folder."""
    latest = resume_point(run_dir)
    load_checkpoint(accelerator, latest)
    return latest
