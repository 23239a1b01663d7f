"""The logit probes (seeds 000, 001, 002, 004): known answers, then each command end to end on tiny data."""

import json
from pathlib import Path

import pytest
import torch

import evaluate
from inversion.probes import confidence, fingerprint, novelty, style_shift
from inversion.probes import feature_reconstruction as features

TINY_DATA = ["--data", "synthetic"]


def test_fingerprint_separates_shifted_logits_but_not_identical_ones():
    torch.manual_seed(0)
    train, test = torch.randn(200, 10), torch.randn(100, 10)
    for kernel in ("linear", "rbf"):
        apart = fingerprint.svm_accuracy([train, train + 10], [test, test + 10], kernel, "raw")
        same = fingerprint.svm_accuracy([train, train], [test, test], kernel, "raw")
        assert apart > 0.99, kernel
        assert 0.3 < same < 0.7, kernel  # chance is 0.5


def test_fingerprint_normalisations():
    z = torch.tensor([[1.0, 3.0]])
    torch.testing.assert_close(fingerprint.normalise(z, "sum-normalised"), torch.tensor([[0.25, 0.75]]))
    torch.testing.assert_close(fingerprint.normalise(z, "softmax").sum(1), torch.ones(1))


def test_linear_map_recovers_features_that_are_linear_in_the_logits():
    torch.manual_seed(0)
    d, k = 6, 10
    head = torch.nn.Linear(d, k)
    f_train, f_test = torch.randn(300, d), torch.randn(100, d)
    with torch.no_grad():
        z_train, z_test = head(f_train), head(f_test)
    A, c = features.fit_linear_map(z_train, f_train)
    result = features.evaluate_map(A, c, z_test, f_test, head, reference_logits=z_test)
    assert result["mse_averaged"] < 1e-8 and result["top1_match"] == 1.0
    unrelated = features.evaluate_map(A, c, torch.randn(100, k), f_test, head, reference_logits=z_test)
    assert unrelated["mse_averaged"] > 0.1 and unrelated["top1_match"] < 0.5


def test_confidence_scores_and_auroc():
    logits = torch.tensor([[2.0, 0.0, -1.0], [1.0, 1.0, 0.0]])
    torch.testing.assert_close(confidence.margin(logits), torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(confidence.ratio(logits), torch.tensor([float(torch.e**2), 1.0]))
    high, low = torch.linspace(5, 6, 50), torch.linspace(0, 1, 50)
    assert confidence.auroc(high, low) == 1.0
    assert confidence.auroc(high, high) == 0.5
    assert confidence.kept_at_clean_rejection(high, low, 0.1) == 0.0
    assert confidence.kept_at_clean_rejection(torch.arange(10.0), torch.arange(10.0), 0.2) == 0.8


def test_style_shift_pieces():
    f = torch.ones(1, 2, 3, 3)
    torch.testing.assert_close(style_shift.gram(f), torch.full((1, 2, 2), 0.5))  # 9 / 9 / 2
    logits = torch.tensor([[0.1, 3.0, 2.0], [5.0, 1.0, 0.0]])
    assert style_shift.rank_of(logits, torch.tensor([2, 0])).tolist() == [2, 1]
    pairs = style_shift.pick_pairs(torch.tensor([0, 0, 1, 1, 2, 2]), n=3, seed=0)
    labels = [0, 0, 1, 1, 2, 2]
    assert all(labels[i] == labels[j] and i != j for i, j in pairs["intra-class"])
    assert all(labels[i] != labels[j] for i, j in pairs["inter-class"])


def test_novelty_class_sets_never_overlap():
    sets = novelty.class_sets(10, (4, 3, 3), seed=0)
    assert [len(s) for s in sets] == [4, 3, 3] and len(set(sum(sets, []))) == 10
    with pytest.raises(ValueError):
        novelty.class_sets(5, (4, 3, 3), seed=0)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from classifiers.train import main

    root = tmp_path_factory.mktemp("probes")
    cfg = str(Path(__file__).resolve().parents[1] / "configs" / "classifiers" / "tiny.yaml")
    paths = []
    for seed in (0, 1):
        out = root / f"net{seed}.safetensors"
        assert (
            main(
                [
                    "--config",
                    cfg,
                    f"runs_dir={root}",
                    f"name=n{seed}",
                    f"out={out}",
                    f"seed={seed}",
                    "max_steps=10",
                    "data.synthetic_channels=1",
                ]
            )
            == 0
        )
        paths.append(str(out))
    return paths


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def test_fingerprint_command(tmp_path):
    assert (
        evaluate.main(
            [
                "probe",
                "fingerprint",
                "--family",
                "cnn-shapes",
                "--epochs",
                "0.2",
                "--train-logits",
                "60",
                "--test-logits",
                "40",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    res = _results(tmp_path)
    assert res["networks"] == ["cnn2_k5_relu", "cnn3_k2_relu", "cnn2_k3_relu"] and res["chance"] == pytest.approx(1 / 3)
    assert set(res["accuracy"]) == {f"{k}/{n}" for k in ("linear", "rbf") for n in fingerprint.NORMALISATIONS}
    assert "transfer" in res and "random_init" in res and (tmp_path / "accuracy_vs_size.png").is_file()


def test_fingerprint_command_on_checkpoints(tmp_path, checkpoints):
    assert (
        evaluate.main(
            [
                "probe",
                "fingerprint",
                "--family",
                *checkpoints,
                "--train-logits",
                "60",
                "--test-logits",
                "40",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    assert _results(tmp_path)["networks"] == ["net0", "net1"]


def test_features_command(tmp_path, checkpoints):
    assert (
        evaluate.main(
            [
                "probe",
                "features",
                "--models",
                *checkpoints,
                "--train-images",
                "200",
                "--test-images",
                "100",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    matrix = _results(tmp_path)["matrix"]
    assert set(matrix) == {"net0", "net1"} and set(matrix["net0"]) == {"net0", "net1"}
    # A network's own logits mapped to its own features and back through its own head give the same
    # logits (least squares from z onto f, then W, is the identity on the logits' span): top-1 matches.
    assert matrix["net0"]["net0"]["top1_match"] > 0.99 and matrix["net1"]["net1"]["top1_match"] > 0.99


def test_confidence_command(tmp_path, checkpoints):
    assert (
        evaluate.main(
            [
                "probe",
                "confidence",
                "--classifier",
                *checkpoints,
                "--limit",
                "32",
                "--steps",
                "2",
                "--eps",
                "0.05",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    res = _results(tmp_path)["results"]
    assert set(res["net0"]) == {"ratio", "margin"}
    assert (tmp_path / "cdf_ratio.png").is_file() and (tmp_path / "cdf_margin.png").is_file()


def test_novelty_command(tmp_path):
    assert (
        evaluate.main(
            [
                "probe",
                "novelty",
                "--arch",
                "vgg_small",
                "--width",
                "4",
                "--backbone-epochs",
                "0.5",
                "--backbone-images",
                "100",
                "--probe-images",
                "40",
                "--test-images",
                "30",
                "--probe-epochs",
                "1",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    res = _results(tmp_path)
    assert set(res["layers"]) == {"fine-tuned", "not fine-tuned"}
    assert len(res["layers"]["fine-tuned"]) == 5  # the image, three stages, the pooled features
    assert all(0 <= r["mlp_test_acc"] <= 1 for r in res["layers"]["fine-tuned"])


def test_style_shift_command(tmp_path, checkpoints):
    assert (
        evaluate.main(
            [
                "probe",
                "style-shift",
                "--classifier",
                checkpoints[0],
                "--pairs",
                "4",
                "--steps",
                "3",
                "--pool",
                "64",
                "--out",
                str(tmp_path),
                *TINY_DATA,
            ]
        )
        == 0
    )
    res = _results(tmp_path)["results"]
    assert res["intra-class"]["pairs"] == 4 and res["inter-class"]["pairs"] == 4
    assert (tmp_path / "inter-class.png").is_file()
