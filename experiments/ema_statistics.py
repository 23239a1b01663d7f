"""Does the EMA generator need batch-norm statistics of its own? The fidelity table before and after.

    python experiments/ema_statistics.py checkpoints/fmnist/inverter-std.safetensors \
        checkpoints/fmnist/inverter-robust.safetensors runs/ema-retrained-std \
        --evaluator checkpoints/fmnist/evaluator.safetensors --limit 10000 --out runs/ema-statistics

For each inverter, two generators with the same EMA weights: "live statistics", the batch-norm
statistics (and spectral-norm vectors) copied from the live generator, as every snapshot had them
before standing statistics; and "standing statistics", the same weights with statistics measured
for them (inversion/training/standing_statistics.py, over the logits of 1,024 training images). A
snapshot written before the change is the first; a run folder's newest checkpoint holds the EMA
weights with copied statistics. Both are scored by the fidelity table on the same test images, with
95% bootstrap intervals; the Markdown table and results.json go to --out.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.batches import eval_batches  # noqa: E402
from infra.checkpoints import list_checkpoints  # noqa: E402
from infra.datasets import load_data  # noqa: E402
from inversion import Inverter  # noqa: E402
from inversion.commands.base import load_evaluator  # noqa: E402
from inversion.evaluation.fidelity import (  # noqa: E402
    collect,
    inverter_reconstruct,
    reference_features,
    summarize,
)
from inversion.presentation.tables import fidelity_table  # noqa: E402
from inversion.training.standing_statistics import with_standing_statistics  # noqa: E402


def live_statistics_generator(inverter: Inverter, source: Path) -> torch.nn.Module:
    """The EMA weights with the live generator's statistics: a run's newest checkpoint (its EMA copies
    them at every step), or a snapshot written before standing statistics."""
    model = copy.deepcopy(inverter.generator)
    if source.is_dir() and list_checkpoints(source):
        ema = list_checkpoints(source)[-1] / "custom_checkpoint_0.pkl"  # the EMA, registered first
        model.load_state_dict(torch.load(ema, map_location="cpu", weights_only=True)["model"])
    return model.eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inverters", nargs="+", help="snapshot files or run folders")
    p.add_argument("--evaluator", required=True, help="the independent evaluator's checkpoint")
    p.add_argument("--limit", type=int, default=10000, help="test images (default 10000)")
    p.add_argument("--standing-samples", type=int, default=1024, help="training images for the statistics")
    p.add_argument("--out", required=True, help="folder for the table and results.json")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, tables = {}, []
    for source in map(Path, args.inverters):
        inverter = Inverter.load(source, device="cpu")
        data = load_data(inverter.config.data)
        evaluator = load_evaluator(args.evaluator, data.classes, inverter.channels, "cpu")
        live = live_statistics_generator(inverter, source)
        train = data.train
        picks = torch.randperm(len(train), generator=torch.Generator().manual_seed(inverter.config.train.seed + 7))
        logits = torch.cat(
            [inverter.logits(x) for x, _ in eval_batches(train, 256, "cpu", picks[: args.standing_samples])]
        )
        standing = with_standing_statistics(
            live,
            logits,
            inverter.generator.dim_noise,
            inverter.config.train.batch_size,
            seed=inverter.config.train.seed,
        )
        reference = reference_features(evaluator, data.train, 10000, "cpu")
        columns = {}
        for name, generator in (("live statistics", live.eval()), ("standing statistics", standing)):
            inverter.generator = generator
            start = time.perf_counter()
            collected = collect(
                inverter_reconstruct(inverter),
                inverter.classifier,
                evaluator,
                data.test,
                torch.arange(min(args.limit, len(data.test))),
                noise_draws=2,
                device="cpu",
            )
            columns[name] = summarize(collected, evaluator_checkpoint=args.evaluator, reference=reference)
            columns[name]["seconds"] = time.perf_counter() - start
        label = source.stem if source.is_file() else source.name
        results[label] = columns
        tables.append(f"### {label}\n\n{fidelity_table(columns)}")
        print(tables[-1], flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (out / "ema_statistics.md").write_text("\n".join(tables))
    print(out / "ema_statistics.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
