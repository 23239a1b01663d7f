"""Training checkpoints (for resuming) and inference snapshots (for using the inverter).

Checkpoint: `runs/<name>/checkpoints/step-NNNNNNN/`, written by `accelerator.save_state` (models,
optimisers, every process's RNG states, and the registered EMA and train state). It is written
into a hidden temporary folder and renamed into place only when complete, with a `COMPLETE`
marker, so a crash mid-write never leaves a half checkpoint that looks whole, and never touches
the previous one. Only the newest `keep` are kept.

Snapshot: `runs/<name>/snapshot.safetensors`, the EMA generator's weights (logit statistics
included, as buffers) with the resolved config and the data and classifier facts as JSON in the
safetensors header: everything `Inverter.load` needs, and loading it executes no code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from .errors import UserError

MARKER = "COMPLETE"
SNAPSHOT = "snapshot.safetensors"
SNAPSHOT_FORMAT = "logit-inversion-snapshot/1"
_STEP = re.compile(r"^step-(\d+)$")


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
        raise UserError(f"{path} is not a complete checkpoint (no {MARKER} marker); it was interrupted while "
                        f"being written. Delete it to resume from an earlier one")
    try:
        accelerator.load_state(str(path))
    except Exception as err:  # truncated safetensors/pickle files, missing pieces
        earlier = [p.name for p in list_checkpoints(path.parent.parent) if p != path]
        hint = (f"delete {path} to resume from {earlier[-1]}" if earlier
                else "no earlier checkpoint exists; start the run again under a new name")
        raise UserError(f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: {err}); {hint}") from err


def save_snapshot(run_dir: Path, generator: torch.nn.Module, meta: dict) -> Path:
    path = Path(run_dir) / SNAPSHOT
    state = {k: v.detach().float().cpu().contiguous() for k, v in generator.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata={"format": SNAPSHOT_FORMAT, "meta": json.dumps(meta)})
    os.replace(tmp, path)
    return path


def load_snapshot(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    path = Path(path)
    if path.is_dir():
        path = path / SNAPSHOT
    if not path.is_file():
        raise UserError(f"no inverter snapshot at {path}; train one with `accelerate launch train.py --config ...` "
                        f"(the snapshot is written at every checkpoint and at the end)")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise UserError(f"snapshot {path} cannot be read ({err}); it may be truncated") from err
    if header.get("format") != SNAPSHOT_FORMAT:
        raise UserError(f"{path} is not a logit-inversion snapshot")
    return state, json.loads(header["meta"])
