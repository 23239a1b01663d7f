"""experiments/collect_results.py: RESULTS.md is written from run folders, and its verdicts read the numbers."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

import collect_results  # noqa: E402


def _fidelity(root: Path, run: str, **values):
    folder = root / run / "eval" / "fidelity"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"fidelity": {"images": 10000, **values}}))


def test_the_document_is_built_from_the_folders_and_its_verdict_reads_the_intervals(tmp_path):
    root = tmp_path / "reference-shipped"
    # Robust ahead on identification (intervals apart), level on PSNR (overlapping), behind on the
    # evaluator's accuracy (apart, lower).
    _fidelity(
        root, "std", id_top1=0.029, id_top1_ci=[0.026, 0.033], psnr=13.5, psnr_ci=[13.4, 13.6],
        evaluator_acc_recon=0.84, evaluator_acc_recon_ci=[0.83, 0.85],
    )  # fmt: skip
    _fidelity(
        root, "robust", id_top1=0.045, id_top1_ci=[0.041, 0.049], psnr=13.55, psnr_ci=[13.45, 13.65],
        evaluator_acc_recon=0.79, evaluator_acc_recon_ci=[0.78, 0.80],
    )  # fmt: skip
    (root / "timings.tsv").write_text("step\tseconds\tcommand\nfidelity-std\t253\tpython evaluate.py fidelity\n")
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main([str(root), "--out", str(out)]) == 0
    text = out.read_text()
    verdict = next(line for line in text.splitlines() if line.startswith("| Reconstructions from robust"))
    ahead, rest = verdict.split("Behind:")
    behind, level = rest.split("Intervals overlap:")
    assert "on 1 of 3 main measures" in ahead and "identification top-1 of 1,000 4.5% [4.1%, 4.9%]" in ahead
    assert "evaluator accuracy" in behind and "PSNR" in level and "PSNR" not in ahead + behind
    assert "Not re-measured in this run yet" in text  # no baseline folders: said, not invented
    assert "| fidelity-std | 4 min 13 s | `python evaluate.py fidelity` |" in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# ") and all(not h.startswith("####") for h in headings)
