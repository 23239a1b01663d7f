"""The inverter's snapshot: one file with everything `Inverter.load` needs, apart from training state.

`<run>/snapshot.safetensors` holds the EMA generator's weights (the logit statistics included, as
buffers) and, as JSON in the safetensors header, the resolved config and the data and classifier
facts. Loading it executes no code. It is written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from infra.errors import UserError

SNAPSHOT = "snapshot.safetensors"
SNAPSHOT_FORMAT = "logit-inversion-snapshot/1"


def save_snapshot(run_dir: Path, generator: torch.nn.Module, meta: dict) -> Path:
    path = Path(run_dir) / SNAPSHOT
    # Floating-point tensors as fp32; integer ones (a retrieval reference's uint8 images) as they are.
    state = {
        k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().contiguous()
        for k, v in generator.state_dict().items()
    }
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata={"format": SNAPSHOT_FORMAT, "meta": json.dumps(meta)})
    os.replace(tmp, path)
    return path


def snapshot_file(path: Path) -> Path:
    """The snapshot file of a run folder, or `path` itself; an error if there is none."""
    path = Path(path)
    if path.is_dir():
        path = path / SNAPSHOT
    if not path.is_file():
        raise UserError(
            f"no inverter snapshot at {path}; train one with `accelerate launch train.py --config ...` "
            f"(the snapshot is written at every checkpoint and at the end)"
        )
    return path


def read_snapshot_meta(path: Path) -> dict:
    """A snapshot's metadata (config, data and classifier facts) without reading its weights."""
    path = snapshot_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise UserError(f"snapshot {path} cannot be read ({err}); it may be truncated") from err
    if header.get("format") != SNAPSHOT_FORMAT:
        raise UserError(f"{path} is not a logit-inversion snapshot")
    return json.loads(header["meta"])


def load_snapshot(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    meta = read_snapshot_meta(path)
    path = snapshot_file(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise UserError(f"snapshot {path} cannot be read ({err}); it may be truncated") from err
    return state, meta
