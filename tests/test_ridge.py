"""The ridge reference (`evaluate.py baseline ridge`) held to known answers: the fit is scikit-learn's
Ridge on standardised inputs; an exactly linear target is recovered; the command's identification is
the one an independent computation (scikit-learn and a brute-force rank) gives; a label-only output
cannot identify more images than there are classes."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import evaluate
from classifiers import ClassifierInfo, load_classifier, save_classifier
from classifiers.architectures import build_arch
from classifiers.config import ClassifierConfig
from infra.batches import eval_batches
from infra.config import load_config
from infra.datasets import load_data
from infra.estimate import read_estimates
from inversion.baselines.ridge import explained_variance, fit_ridge
from inversion.config import Config

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs/tiny.yaml")


def test_the_fit_is_scikit_learns_ridge_on_standardised_inputs():
    from sklearn.linear_model import Ridge

    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 6, generator=g, dtype=torch.float64) * torch.tensor([1, 10, 0.1, 3, 1, 5.0]) + 4
    y = torch.randn(200, 3, generator=g, dtype=torch.float64) + x[:, :3] ** 2
    for alpha in (0.0, 1.0, 50.0):
        fit = fit_ridge(x, y, alpha=alpha)
        z = (x - x.mean(0)) / x.std(0, correction=0)
        reference = Ridge(alpha=alpha, fit_intercept=True, solver="svd").fit(z.numpy(), y.numpy())
        assert np.allclose(fit.weight.numpy(), reference.coef_.T, atol=1e-8)
        assert np.allclose(fit.predict(x).numpy(), reference.predict(z.numpy()), atol=1e-4)
    # A heavier penalty shrinks the weights.
    assert fit.weight.norm() < fit_ridge(x, y, alpha=0.0).weight.norm()


def test_an_exactly_linear_target_is_recovered_and_a_constant_input_is_harmless():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(100, 4, generator=g)
    x[:, 2] = 7.0  # a column that never changes (a top-k output's zeros, say)
    y = x @ torch.randn(4, 5, generator=g) + torch.tensor([1.0, -2, 0, 3, 0.5])
    fit = fit_ridge(x, y, alpha=0.0)
    assert torch.allclose(fit.predict(x), y, atol=1e-4)
    assert explained_variance(y, fit.predict(x)) == pytest.approx(1.0, abs=1e-9)
    assert explained_variance(y, y.mean(0).expand_as(y)) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="non-finite"):
        fit_ridge(torch.tensor([[float("nan")], [1.0]]), torch.ones(2, 1))
    with pytest.raises(ValueError, match="alpha"):
        fit_ridge(x, y, alpha=-1.0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ridge")
    torch.manual_seed(0)
    info = ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(10)])
    classifier = save_classifier(
        root / "classifier.safetensors", build_arch("vgg_small", 10, 3, width=4), "vgg_small", 4, info, {}
    )
    evaluator = save_classifier(
        root / "evaluator.safetensors", build_arch("vgg_small", 10, 3, width=8), "vgg_small", 8, info, {}
    )
    return {"root": root, "classifier": str(classifier), "evaluator": str(evaluator)}


def _run(files, name, *extra):
    out = files["root"] / name
    args = ["baseline", "ridge", "--classifier", files["classifier"], "--evaluator", files["evaluator"]]
    args += ["--config", TINY, "--out", str(out), "--candidates", "64", "--device", "cpu", *extra]
    assert evaluate.main(args) == 0
    data = json.loads((out / "eval/fidelity/results.json").read_text())
    return read_estimates(data)["fidelity"], data["ridge"]


def _features(files, split, output="logits"):
    cfg = load_config(Config, TINY)
    data = load_data(cfg.data)
    classifier = load_classifier(
        ClassifierConfig(name="project", checkpoint=files["classifier"], output=output), data.channels, "cpu"
    )
    evaluator = load_classifier(ClassifierConfig(name="project", checkpoint=files["evaluator"]), data.channels, "cpu")
    x, _ = next(eval_batches(getattr(data, split), 64, "cpu"))
    with torch.no_grad():
        return classifier(x).double().numpy(), evaluator.features(x).double().numpy()


def test_the_commands_identification_is_an_independent_computations(files):
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    fidelity, ridge = _run(files, "logits", "--alpha", "3")
    x_train, f_train = _features(files, "train")
    x_test, f_test = _features(files, "test")
    scaler = StandardScaler().fit(x_train)
    predicted = Ridge(alpha=3.0).fit(scaler.transform(x_train), f_train).predict(scaler.transform(x_test))
    distances = np.linalg.norm(predicted[:, None, :] - f_test[None, :, :], axis=2)
    own = distances[np.arange(64), np.arange(64)]
    # With all 64 test images as candidates the rank is exact: a hit when no other source is as near.
    hits = ((distances <= own[:, None]).sum(1) - 1 == 0).mean()
    assert fidelity["id_top1"].value == pytest.approx(hits, abs=1e-9)
    assert fidelity["images"].value == 64 and ridge["train_images"] == 64 and ridge["alpha"] == 3.0
    residual = ((f_test - predicted) ** 2).sum() / ((f_test - f_test.mean(0)) ** 2).sum()
    assert ridge["explained_variance_test"] == pytest.approx(1 - residual, abs=1e-4)


def test_a_label_only_output_identifies_at_most_one_image_per_class(files):
    fidelity, ridge = _run(files, "label", "classifier.output=label")
    assert ridge["output"] == "label"
    x_test, _ = _features(files, "test", output="label")
    classes = len(np.unique(x_test.argmax(1)))
    # Every image of a predicted class gets the same predicted features: at most one of them is a hit.
    assert fidelity["id_top1"].value * 64 <= classes


def test_the_training_images_option_and_the_refusals(files, capsys):
    _, ridge = _run(files, "first-32", "--train-images", "32")
    assert ridge["train_images"] == 32
    args = [
        "baseline",
        "ridge",
        "--classifier",
        files["classifier"],
        "--config",
        TINY,
        "--out",
        str(files["root"] / "x"),
    ]
    assert evaluate.main(args) == 2
    assert "--evaluator PATH is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as error:
        evaluate.main([*args, "--evaluator", files["evaluator"], "--alpha", "-1"])
    assert error.value.code == 2 and "--alpha: must be a number >= 0" in capsys.readouterr().err
