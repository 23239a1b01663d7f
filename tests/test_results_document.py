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
    # Robust ahead on identification (intervals apart) and on FID (lower, apart), level on PSNR
    # (overlapping), behind on the evaluator's accuracy (apart, lower).
    fid = "fid[logit-inversion-evaluator]"
    _fidelity(
        root, "std", id_top1=0.029, id_top1_ci=[0.026, 0.033], psnr=13.5, psnr_ci=[13.4, 13.6],
        evaluator_acc_recon=0.84, evaluator_acc_recon_ci=[0.83, 0.85], **{fid: 5.0, f"{fid}_ci": [4.8, 5.2]},
    )  # fmt: skip
    _fidelity(
        root, "robust", id_top1=0.045, id_top1_ci=[0.041, 0.049], psnr=13.55, psnr_ci=[13.45, 13.65],
        evaluator_acc_recon=0.79, evaluator_acc_recon_ci=[0.78, 0.80], **{fid: 4.0, f"{fid}_ci": [3.8, 4.2]},
    )  # fmt: skip
    (root / "timings.tsv").write_text("step\tseconds\tcommand\nfidelity-std\t253\tpython evaluate.py fidelity\n")
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main([str(root), "--out", str(out)]) == 0
    text = out.read_text()
    verdict = next(line for line in text.splitlines() if line.startswith("| Reconstructions from robust"))
    ahead, rest = verdict.split("Behind:")
    behind, level = rest.split("Intervals overlap:")
    assert "on 2 of 4 main measures" in ahead and "identification top-1 of 1,000 4.5% [4.1%, 4.9%]" in ahead
    assert "FID (evaluator features, lower is better) 4.00 [3.80, 4.20] vs 5.00 [4.80, 5.20]" in ahead
    assert "evaluator accuracy" in behind and "PSNR" in level and "PSNR" not in ahead + behind
    assert "Not re-measured in this run yet" in text  # no baseline folders: said, not invented
    assert "| fidelity-std | 4 min 13 s | `python evaluate.py fidelity` |" in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# ") and all(not h.startswith("####") for h in headings)


def test_the_leakage_section_places_each_output_between_the_floor_and_the_ceiling(tmp_path):
    root, leakage = tmp_path / "reference-shipped", tmp_path / "api-leakage"
    _fidelity(root, "std", id_top1=0.029, id_top1_ci=[0.026, 0.033])
    common = {"evaluator_acc_recon": 0.8, "knn_distance": 1.4, "psnr": 13.0, "fid[logit-inversion-evaluator]": 3.0}
    _fidelity(leakage, "gan-std-label", id_top1=0.01, id_top1_ci=[0.008, 0.012], **common)
    _fidelity(leakage, "gan-std-logits", id_top1=0.03, id_top1_ci=[0.027, 0.033], **common)
    _fidelity(
        leakage,
        "gan-std-softmax",
        id_top1=0.02,
        id_top1_ci=[0.018, 0.022],
        **{**common, "fid[logit-inversion-evaluator]_ci": [2.8, 3.2]},
    )  # halfway; fmt: skip
    _fidelity(leakage, "gan-std-topk1", id_top1=0.011, id_top1_ci=[0.009, 0.013], **common)  # at the floor
    _fidelity(leakage, "gan-std-log_softmax", id_top1=0.029, id_top1_ci=[0.026, 0.032], **common)  # at the ceiling
    _fidelity(leakage, "gan-robust-label", id_top1=0.009, id_top1_ci=[0.007, 0.011], **common)
    _fidelity(leakage, "gan-robust-logits", id_top1=0.026, id_top1_ci=[0.023, 0.029], **common)
    _fidelity(leakage, "gan-robust-log_softmax", id_top1=0.036, id_top1_ci=[0.032, 0.039], **common)  # above it
    _fidelity(leakage, "gan-robust-topk1", id_top1=0.004, id_top1_ci=[0.002, 0.006], **common)  # below the floor
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main([str(root), "--leakage", str(leakage), "--out", str(out)]) == 0
    text = out.read_text()
    assert f"python experiments/collect_results.py {root} --leakage {leakage}" in text
    verdict = next(line for line in text.splitlines() if line.startswith("- GAN inverter, standard classifier"))
    assert "from the label alone 1.0% [0.8%, 1.2%], from the logits 3.0% [2.7%, 3.3%]" in verdict
    assert "softmax 2.0% [1.8%, 2.2%], 50% of the way from the floor to the ceiling;" in verdict
    assert "top-1 probability with its class 1.1% [0.9%, 1.3%], 5% of the way" in verdict
    assert "(interval overlaps label)" in verdict and "top-5 probabilities: not run yet" in verdict
    assert "log-probabilities (softmax, log taken) 2.9% [2.6%, 3.2%], 95% of the way" in verdict
    assert "(interval overlaps logits)" in verdict
    robust = next(line for line in text.splitlines() if line.startswith("- GAN inverter, robust classifier"))
    assert "3.6% [3.2%, 3.9%], above the ceiling by 1.0 points (interval above the logits', apart);" in robust
    assert "top-1 probability with its class 0.4% [0.2%, 0.6%], below the floor by 0.5 points." in robust
    rows = [line.split(" | ")[0][2:] for line in text.splitlines() if line.startswith("| ") and " | GAN | " in line]
    assert list(dict.fromkeys(rows))[:3] == ["logits (ceiling)", "log-probabilities (softmax, log taken)", "softmax"]
    assert "| softmax | GAN | standard | 2.0% [1.8%, 2.2%] |" in text and "| 3.00 [2.80, 3.20] |" in text
    assert "| 13.00 | 3.00 |" in text  # a fidelity run from before FID had an interval: the value alone
    assert "| softmax | decoder | standard | not run yet |" in text
    assert (tmp_path / "docs" / "results" / "leakage.png").is_file()


def test_the_seed_section_says_which_numbers_moved_between_training_runs(tmp_path):
    root, seeds, ema = tmp_path / "reference-shipped", tmp_path / "second-seed", tmp_path / "ema"
    _fidelity(root, "std", id_top1=0.029, id_top1_ci=[0.026, 0.033])
    same = {"ssim": 0.55, "ssim_ci": [0.54, 0.56], "top1_agreement": 0.88, "top1_agreement_ci": [0.87, 0.89]}
    same |= {"evaluator_acc_recon": 0.8, "evaluator_acc_recon_ci": [0.79, 0.81], "psnr": 13.0, "psnr_ci": [12.9, 13.1]}
    seed0 = {"id_top1": 0.029, "id_top1_ci": [0.026, 0.033], "fid[logit-inversion-evaluator]": 3.0, **same}
    ema.mkdir()
    (ema / "results.json").write_text(
        json.dumps({"inverter-std": {"live statistics": seed0, "standing statistics": seed0}})
    )
    _fidelity(seeds, "std-seed1", **{**seed0, "id_top1": 0.040, "id_top1_ci": [0.036, 0.044]})  # apart
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main([str(root), "--ema", str(ema), "--seeds", str(seeds), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| standard | 2.9% [2.6%, 3.3%] / 4.0% [3.6%, 4.4%] | 0.550 [0.540, 0.560] / 0.550 [0.540, 0.560] |" in text
    assert "| robust | not run yet |" in text
    assert "Intervals apart between the seeds: identification top-1 (standard); the others overlap." in text
