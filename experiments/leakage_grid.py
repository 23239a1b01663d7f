"""The same test images rebuilt from every output kind of the leakage experiment, one picture.

    python experiments/leakage_grid.py runs/leakage --out runs/leakage/grid.png
    python experiments/leakage_grid.py runs/leakage --reference runs/reference --out grid.png   # with logits

Columns: the first image of each class in the test split (10 for Fashion-MNIST). Rows: the test images,
then, for the standard and then the robust classifier, the GAN inverter (seed 0) of each output kind
that has one (experiments/manifest.py), all at noise 0. The `logits` inverters are the reference
experiment's default recipe: their rows come in with --reference. Inverters not finished are left out
(and named on the console).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.manifest import CLASSIFIERS, LEAKAGE_GAN_KINDS, leakage_gan_run  # noqa: E402
from infra.batches import eval_batches  # noqa: E402
from infra.datasets import load_data, split_labels, spread_over_classes  # noqa: E402
from inversion import Inverter  # noqa: E402
from inversion.presentation.images import table_grid  # noqa: E402
from inversion.snapshot import SNAPSHOT, read_snapshot_meta  # noqa: E402


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
    p.add_argument("root", help="the leakage experiment's folder")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--reference", help="the reference experiment's folder, for the `logits` rows (left out without it)")
    args = p.parse_args(argv)
    roots = {"leakage": Path(args.root), "reference": Path(args.reference) if args.reference else None}
    folders = {}
    for cls in CLASSIFIERS:
        for kind in LEAKAGE_GAN_KINDS:
            where, run = leakage_gan_run(cls, kind, 0)
            if roots[where] is not None:
                folders[(cls, kind)] = roots[where] / run
    root = roots["leakage"]
    found = {key: path for key, path in folders.items() if finished(path)}
    if not found:
        raise SystemExit(f"no finished inverter under {root}")
    missing = [f"{c} {k}" for (c, k) in folders if (c, k) not in found]
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
