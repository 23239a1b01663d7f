"""One picture of every inversion method on the same test images: a row per method, a column per image.

    python experiments/comparison_figure.py runs/reference --out runs/reference/comparison.png

Rows: the test image; then, from the standard and from the robust classifier's logits, the retrieval
lookup, the default GAN inverter, the paper-recipe GAN, the pixel-loss decoder (seed 0 of each) and
optimisation-based inversion (200 Adam steps, TV 0.05, as evaluate.py's default), all at noise 0
(zero initialisation for the optimisation). Run folders by the names of experiments/manifest.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.manifest import CLASSIFIERS  # noqa: E402
from infra.batches import eval_batches  # noqa: E402
from infra.datasets import load_data  # noqa: E402
from inversion import Inverter  # noqa: E402
from inversion.baselines.optimization import optimize_images  # noqa: E402
from inversion.presentation.images import table_grid  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("root", help="the reference experiment's folder")
    p.add_argument("--out", default="docs/comparison.png")
    p.add_argument("--n", type=int, default=12, help="test images (default 12)")
    p.add_argument("--offset", type=int, default=0, help="first test image (default 0)")
    args = p.parse_args(argv)
    root = Path(args.root)
    gans = {kind: Inverter.load(root / f"gan-{kind}-seed0", device="cpu") for kind in CLASSIFIERS}
    test = load_data(gans["std"].config.data).test
    images, _ = next(eval_batches(test, args.offset + args.n, torch.device("cpu")))
    images = images[args.offset :]
    rows, labels = [images], ["test image"]
    for kind, gan in gans.items():
        logits = gan.logits(images)
        for label, folder in (
            ("lookup", f"lookup-{kind}"),
            ("GAN", f"gan-{kind}-seed0"),
            ("paper GAN", f"paper-{kind}-seed0"),
            ("decoder", f"decoder-{kind}-seed0"),
        ):
            rows.append(Inverter.load(root / folder, device="cpu").generate(logits))
            labels.append(f"{label} ({kind})")
        optimised = optimize_images(
            gan.classifier, logits, tuple(images.shape[1:]), steps=200, lr=0.05, tv_weight=0.05, init="zero", seed=0
        )
        rows.append(optimised)
        labels.append(f"optimisation ({kind})")
    cells = torch.stack([r.detach().float().clamp(-1, 1) for r in rows])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table_grid(cells, title="Reconstructions from logits, noise 0", row_labels=labels).save(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
