"""Identification against training step: every kept snapshot of a run (train.keep_snapshots) scored on
the test images, beside the retrieval lookup's value.

    python experiments/identification_curve.py runs/reference/gan-std-seed0 --lookup runs/reference/lookup-std \\
        --out runs/reference/curve-std

Writes OUT/curve.json (per snapshot: step, identification top-1 and FID with evaluator features, each an
Estimate) and OUT/curve.png. It answers how far a budget is from converged, and what budget would
reach the lookup.

Each snapshot's scores are also kept in RUN/eval/curve/ and reused when the same snapshot (its bytes
hashed) is scored again with the same evaluator and settings, so running this while the run still trains
scores the snapshots written so far, and the final run scores only the new ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.estimate import read_estimates, to_json  # noqa: E402
from inversion import Inverter  # noqa: E402
from inversion.evaluation.scoring import FidelitySettings, open_inverter, score_inverter  # noqa: E402
from inversion.measures import EVALUATOR_FID  # noqa: E402

EVALUATOR = "checkpoints/fmnist/evaluator.safetensors"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", help="a run folder trained with train.keep_snapshots=true")
    p.add_argument("--lookup", help="the retrieval lookup's run folder (its fidelity results are read)")
    p.add_argument("--evaluator", default=EVALUATOR, help=f"the evaluator (default {EVALUATOR})")
    p.add_argument("--out", required=True, help="the folder to write curve.json and curve.png into")
    p.add_argument("--limit", type=int, default=0, help="score the first N test images (default: all)")
    p.add_argument("--candidates", type=int, default=1000, help="identification: sources per group (default 1000)")
    args = p.parse_args(argv)
    run, out = Path(args.run), Path(args.out)
    snapshots = sorted((run / "snapshots").glob("step-*.safetensors"))
    if not snapshots:
        raise SystemExit(f"error: {run}/snapshots holds no snapshot; train with train.keep_snapshots=true")
    out.mkdir(parents=True, exist_ok=True)
    _, data = open_inverter(snapshots[0], "cpu")
    settings = FidelitySettings(limit=args.limit, candidates=args.candidates, noise_draws=0, reference_images=0)
    points = []
    for path in snapshots:
        point = scored(path, run / "eval" / "curve", args.evaluator, settings, data)
        points.append(point)
        print(f"step {point['step']}: identification {point['id_top1'].cell('{:.1%}')}", flush=True)
    lookup = None
    if args.lookup:
        results = read_estimates(json.loads((Path(args.lookup) / "eval/fidelity/results.json").read_text()))
        lookup = results["fidelity"]["id_top1"]
    (out / "curve.json").write_text(json.dumps({"run": str(run), "points": points, "lookup": lookup}, default=to_json))
    plot(points, lookup, out / "curve.png", run.name)
    print(out / "curve.json")
    return 0


def scored(snapshot: Path, cache: Path, evaluator: str, settings: FidelitySettings, data) -> dict:
    """One snapshot's point: from the cache when this snapshot (the same bytes) was scored with the same
    evaluator and settings, else scored now and cached."""
    key = {
        "snapshot": snapshot.name,
        "sha256": hashlib.sha256(snapshot.read_bytes()).hexdigest(),
        "evaluator": str(evaluator),
        "limit": settings.limit,
        "candidates": settings.candidates,
    }
    path = cache / f"{snapshot.stem}.json"
    if path.is_file():
        kept = read_estimates(json.loads(path.read_text()))
        if kept["key"] == key:
            return kept["point"]
    inverter = Inverter.load(snapshot, device="cpu")
    numbers = score_inverter(inverter, data, evaluator, settings)
    point = {"step": inverter.meta["step"], "id_top1": numbers["id_top1"], "fid": numbers[EVALUATOR_FID]}
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "point": point}, default=to_json))
    return point


def plot(points: list[dict], lookup, path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [p["step"] for p in points]
    values = [100 * p["id_top1"].value for p in points]
    lows = [v - 100 * p["id_top1"].low for v, p in zip(values, points)]
    highs = [100 * p["id_top1"].high - v for v, p in zip(values, points)]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.errorbar(steps, values, yerr=[lows, highs], fmt="-o", capsize=3, label=name)
    if lookup is not None:
        ax.axhline(100 * lookup.value, color="tab:red", ls="--", label="retrieval lookup")
    ax.set_xlabel("training step")
    ax.set_ylabel("identification top-1 of 1,000 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
