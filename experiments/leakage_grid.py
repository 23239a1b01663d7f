"""The same test images rebuilt from every output kind of experiments/api_leakage.sh, one picture.

    python experiments/leakage_grid.py runs/api-leakage --out runs/api-leakage/grid.png

Columns: the first image of each class in the test split (10 for Fashion-MNIST). Rows: the test images,
then the GAN inverter of each output kind, for the standard classifier and then for the robust one, all
at noise 0. Output kinds without a finished inverter are left out (and named on the console).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.batches import eval_batches  # noqa: E402
from infra.datasets import load_data, split_labels, spread_over_classes  # noqa: E402
from inversion import Inverter  # noqa: E402
from inversion.presentation.images import table_grid  # noqa: E402
from inversion.snapshot import SNAPSHOT, read_snapshot_meta  # noqa: E402

KINDS = ("logits", "log_softmax", "softmax", "topk:5", "round:2", "topk:1", "label")


def finished(run: Path) -> bool:
    """A run whose snapshot is from its last step (a snapshot is also written at every checkpoint)."""
    if not (run / SNAPSHOT).is_file():
        return False
    meta = read_snapshot_meta(run)
    return meta["step"] >= meta["config"]["train"]["max_steps"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("root", help="experiments/api_leakage.sh's folder")
    p.add_argument("--out", required=True, help="the PNG to write")
    args = p.parse_args(argv)
    root = Path(args.root)
    found = {
        (cls, kind): root / f"gan-{cls}-{kind.replace(':', '')}"
        for cls in ("std", "robust")
        for kind in KINDS
        if finished(root / f"gan-{cls}-{kind.replace(':', '')}")
    }
    if not found:
        raise SystemExit(f"no finished inverter under {root}")
    missing = [f"{c} {k}" for c in ("std", "robust") for k in KINDS if (c, k) not in found]
    if missing:
        print("not finished, left out:", ", ".join(missing))
    inverters = {key: Inverter.load(path, device="cpu") for key, path in found.items()}
    test = load_data(next(iter(inverters.values())).config.data).test
    labels = split_labels(test)
    indices = spread_over_classes(labels, len(set(labels.tolist())))
    images, _ = next(eval_batches(test, len(indices), "cpu", indices=indices))
    rows, names = [images], ["test image"]
    for (cls, kind), inverter in inverters.items():
        rows.append(inverter.reconstruct(images))
        names.append(f"{kind} ({cls})")
    cells = torch.stack([r.float().clamp(-1, 1) for r in rows])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table_grid(cells, title="Rebuilt from what the API returns (noise 0)", row_labels=names).save(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
