"""The inverter's snapshot: one file with everything `Inverter.load` needs, apart from training state.

`<run>/snapshot.safetensors` holds the EMA generator's weights (the logit statistics included, as
buffers) and, as JSON in the safetensors header, the resolved config and the data and classifier
facts. Loading it executes no code. It is written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from infra.errors import UserError

SNAPSHOT = "snapshot.safetensors"
SNAPSHOT_FORMAT = "logit-inversion-snapshot/1"


def checksum(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the tensors' names, dtypes, shapes and bytes, in name order: what a snapshot must hold."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def save_snapshot(run_dir: Path, generator: torch.nn.Module, meta: dict) -> Path:
    """Write the snapshot atomically, with the checksum of its tensors; a generator with a non-finite weight
    or batch-norm statistic is refused (the previous snapshot stays)."""
    path = Path(run_dir) / SNAPSHOT
    # Floating-point tensors as fp32; integer ones (a retrieval reference's uint8 images) as they are.
    state = {
        k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().contiguous()
        for k, v in generator.state_dict().items()
    }
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise UserError(
            f"the generator to snapshot at step {meta.get('step')} has non-finite values in {', '.join(bad[:3])}"
            f"{' and more' if len(bad) > 3 else ''}; the previous snapshot {path} is kept. Check the classifier's "
            f"logits on the training images (the standing batch-norm statistics are measured on them)"
        )
    tmp = path.with_name(path.name + ".tmp")
    header = {"format": SNAPSHOT_FORMAT, "meta": json.dumps(meta), "sha256": checksum(state)}
    save_file(state, str(tmp), metadata=header)
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
    with safe_open(str(path), framework="pt") as f:
        expected = (f.metadata() or {}).get("sha256")
    # Snapshots written before checksums (the shipped ones among them) carry none and load as they are.
    if expected is not None and checksum(state) != expected:
        raise UserError(
            f"snapshot {path} is damaged: its tensors do not match the checksum written with them; rebuild it "
            f"from its run's newest checkpoint (`train.py --resume RUN` rewrites it) or copy it again"
        )
    return state, meta
