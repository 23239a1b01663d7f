"""Build the retrieval reference (`inversion/model/retrieval.py`): the classifier's outputs of every
training image, kept with the images as an ordinary snapshot (`kind: retrieval`) that every
evaluate.py command scores like a trained inverter.

The lookup set is the training split the inverters train on, at the data set's resolution, through
the classifier's output model (`classifier.output`: raw logits, softmax, top-k, ... exactly what a
GAN inverter of that output would be given). No test image is in it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import torch

from classifiers import load_classifier
from infra.batches import eval_batches
from infra.config import dump_yaml, to_dict
from infra.datasets import load_data, to_uint8
from infra.devices import default_device
from infra.errors import UserError
from infra.progress import progress

from ..config import Config
from ..model.retrieval import RetrievalGenerator
from ..snapshot import SNAPSHOT, save_snapshot


@torch.no_grad()
def build_retrieval(
    cfg: Config, run_dir: Path, k: int = 1, device=None, batch_size: int = 1000, limit: int | None = None
) -> Path:
    """Compute the lookup set of `cfg`'s classifier on its training split (its first `limit` images, or
    all) and write the snapshot."""
    run_dir = Path(run_dir)
    if (run_dir / SNAPSHOT).exists():
        raise UserError(f"{run_dir} already holds a snapshot; choose another --out")
    device = default_device(device)
    start = time.perf_counter()
    data = load_data(cfg.data)
    n = len(data.train) if limit is None else min(limit, len(data.train))
    if not 1 <= k <= n:
        raise UserError(f"--k must be between 1 and the {n} training images of the lookup set, got {k}")
    classifier = load_classifier(cfg.classifier, data.channels, device)
    outputs, images = [], []
    batches = eval_batches(data.train, batch_size, device, indices=torch.arange(n))
    for x, _ in progress(batches, total=math.ceil(n / batch_size), desc="lookup set"):
        outputs.append(classifier(x).float().cpu())
        images.append(to_uint8(x).cpu())
    generator = RetrievalGenerator(torch.cat(outputs), torch.cat(images), k=k)
    cfg = dataclasses.replace(cfg, name=run_dir.name, runs_dir=str(run_dir.parent))
    meta = {
        "kind": "retrieval",
        "step": 0,
        "config": to_dict(cfg),
        "channels": data.channels,
        "resolution": cfg.data.resolution,
        "num_classes": classifier.num_classes,
        "classes": data.classes,
        "classifier": dataclasses.asdict(classifier.info),
        "classifier_checkpoint_absolute": (
            str(Path(cfg.classifier.checkpoint).resolve()) if cfg.classifier.checkpoint else None
        ),
        "retrieval": {"k": k, "images": n, "seconds": time.perf_counter() - start},
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    save_snapshot(run_dir, generator, meta)
    (run_dir / "config.yaml").write_text(dump_yaml(cfg))
    return run_dir
