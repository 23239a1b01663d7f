"""Training checkpoints for `--resume`, shared by the inverter's and the classifiers' trainers.

A checkpoint is `<run>/checkpoints/step-NNNNNNN/`, written by `accelerator.save_state` (models,
optimisers, every process's RNG states, and whatever the trainer registered: the EMA, the
`TrainState`). It is written into a hidden temporary folder and renamed into place only when
complete, with a `COMPLETE` marker, so a crash mid-write never leaves a half checkpoint that looks
whole, and never touches the previous one. Only the newest `keep` are kept.

`TrainState` is the step counter and the batch stream's position, registered with accelerate so
that every checkpoint carries them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .errors import UserError

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
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / MARKER).write_text(f"{step}\n")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator, path: Path) -> None:
    path = Path(path)
    if not (path / MARKER).is_file():
        raise UserError(
            f"{path} is not a complete checkpoint (no {MARKER} marker); it was interrupted while "
            f"being written. Delete it to resume from an earlier one"
        )
    try:
        accelerator.load_state(str(path))
    except Exception as err:  # truncated safetensors/pickle files, missing pieces
        earlier = [p.name for p in list_checkpoints(path.parent.parent) if p != path]
        hint = (
            f"delete {path} to resume from {earlier[-1]}"
            if earlier
            else "no earlier checkpoint exists; start the run again under a new name"
        )
        raise UserError(f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: {err}); {hint}") from err


def load_latest_checkpoint(accelerator, run_dir: Path) -> Path:
    """Resume from the newest complete checkpoint of `run_dir`; returns its folder."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise UserError(
            f"{run_dir} has no complete checkpoint to resume from; start it afresh with --config (and without --resume)"
        )
    load_checkpoint(accelerator, checkpoints[-1])
    return checkpoints[-1]
