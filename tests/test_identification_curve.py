"""experiments/identification_curve.py: every kept snapshot scored, and each score kept beside the run so
that a second call (while the run trains on, or after it finished) scores only the snapshots it has not."""

import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

import identification_curve as curve  # noqa: E402


@pytest.fixture(scope="module")
def run_and_evaluator(tmp_path_factory):
    import train
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch

    root = tmp_path_factory.mktemp("curve")
    args = ["--config", str(ROOT / "configs/tiny.yaml"), f"runs_dir={root}", "name=run", "train.keep_snapshots=true"]
    assert train.main(args) == 0
    torch.manual_seed(0)
    info = ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(10)])
    evaluator = save_classifier(
        root / "evaluator.safetensors", build_arch("vgg_small", 10, 3, width=4), "vgg_small", 4, info, {}
    )
    return root / "run", str(evaluator)


def test_each_snapshot_is_scored_once_and_reused(run_and_evaluator, tmp_path, monkeypatch):
    run, evaluator = run_and_evaluator
    args = [str(run), "--evaluator", evaluator, "--out", str(tmp_path / "a"), "--candidates", "16"]
    assert curve.main(args) == 0
    first = json.loads((tmp_path / "a" / "curve.json").read_text())
    assert [p["step"] for p in first["points"]] == [2, 4] and (tmp_path / "a" / "curve.png").is_file()
    assert sorted(p.name for p in (run / "eval" / "curve").iterdir()) == [
        "step-0000002.json",
        "step-0000004.json",
    ]

    calls = []
    real = curve.score_inverter
    monkeypatch.setattr(curve, "score_inverter", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert curve.main([*args[:-4], "--out", str(tmp_path / "b"), "--candidates", "16"]) == 0
    assert calls == []  # both points came from the cache
    assert json.loads((tmp_path / "b" / "curve.json").read_text())["points"] == first["points"]

    # Other settings, or a snapshot that is not the one scored (other bytes, the same size), are scored again.
    assert curve.main([*args[:-4], "--out", str(tmp_path / "c"), "--candidates", "8"]) == 0
    assert len(calls) == 2
    snapshot = run / "snapshots" / "step-0000002.safetensors"
    snapshot.write_bytes((run / "snapshots" / "step-0000004.safetensors").read_bytes())
    assert curve.main([*args[:-4], "--out", str(tmp_path / "d"), "--candidates", "8"]) == 0
    assert len(calls) == 3


def test_a_run_without_kept_snapshots_says_how_to_get_them(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit, match="train.keep_snapshots=true"):
        curve.main([str(tmp_path / "run"), "--out", str(tmp_path / "out")])
