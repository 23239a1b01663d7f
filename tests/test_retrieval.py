"""The retrieval reference (`evaluate.py baseline retrieval`) held to known answers: an image in the
lookup set retrieves itself; a classifier output that carries only the class retrieves one image per
class, so identification cannot exceed the class floor; the k-nearest mean is the mean of those
images; and every command takes it as an ordinary run."""

import json
from pathlib import Path

import pytest
import torch

import evaluate
from classifiers import ClassifierInfo, save_classifier
from classifiers.architectures import build_arch
from infra.batches import eval_batches
from infra.config import load_config
from infra.datasets import load_data
from infra.estimate import read_estimates
from inversion import Inverter
from inversion.config import Config

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs/tiny.yaml")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrieval")
    torch.manual_seed(0)
    info = ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(10)])
    classifier = save_classifier(
        root / "classifier.safetensors", build_arch("vgg_small", 10, 3, width=4), "vgg_small", 4, info, {}
    )
    evaluator = save_classifier(
        root / "evaluator.safetensors", build_arch("vgg_small", 10, 3, width=8), "vgg_small", 8, info, {}
    )
    return {"root": root, "classifier": str(classifier), "evaluator": str(evaluator)}


def _build(files, name, *extra):
    out = files["root"] / name
    args = ["baseline", "retrieval", "--classifier", files["classifier"], "--config", TINY, "--out", str(out)]
    assert evaluate.main([*args, "--device", "cpu", *extra]) == 0
    return out


def _training_images(n):
    cfg = load_config(Config, TINY)
    return next(eval_batches(load_data(cfg.data).train, n, "cpu"))


def test_an_image_of_the_lookup_set_retrieves_itself(files):
    run = _build(files, "nearest")
    inverter = Inverter.load(run, device="cpu")
    assert inverter.kind == "retrieval"
    images, _ = _training_images(16)
    recon = inverter.reconstruct(images)
    assert torch.equal(recon, images)  # uint8 images: exactly, not approximately
    assert torch.equal(inverter.reconstruct(images, noise="random", seed=3), recon)  # noise is ignored


def test_a_lookup_set_of_the_first_n_images_holds_those_and_no_other(files):
    from inversion.snapshot import read_snapshot_meta

    run = _build(files, "first-20", "--lookup-images", "20")
    assert read_snapshot_meta(run)["retrieval"]["images"] == 20
    images, _ = _training_images(40)
    recon = Inverter.load(run, device="cpu").reconstruct(images)
    assert torch.equal(recon[:20], images[:20])  # in the set: themselves
    assert not any(torch.equal(recon[i], images[i]) for i in range(20, 40))  # not in it: another image


def test_the_k_nearest_mean_is_the_mean_of_the_nearest_images(files):
    nearest, mean = Inverter.load(_build(files, "k1b"), device="cpu"), Inverter.load(_build(files, "k3", "--k", "3"))
    images, _ = _training_images(4)
    logits = nearest.logits(images)
    index = mean.generator.nearest(logits)  # (4, 3), the own image first (distance 0)
    assert torch.equal(index[:, 0], nearest.generator.nearest(logits)[:, 0])
    lookup = mean.generator.images.float() / 127.5 - 1
    assert torch.allclose(mean.generate(logits), lookup[index].mean(1), atol=1e-6)


def test_a_label_only_output_gives_one_image_per_class_the_class_floor(files):
    run = _build(files, "label", "classifier.output=label")
    inverter = Inverter.load(run, device="cpu")
    cfg = load_config(Config, TINY)
    images, _ = next(eval_batches(load_data(cfg.data).test, 64, "cpu"))
    outputs = inverter.logits(images)
    recon = inverter.generate(outputs)
    predicted = outputs.argmax(1)
    for c in predicted.unique():  # every image the classifier puts in class c gets the same picture
        same = recon[predicted == c]
        assert torch.equal(same, same[:1].expand_as(same))
    assert evaluate.main(["fidelity", "--run", str(run), "--evaluator", files["evaluator"], "--candidates", "64"]) == 0
    fidelity = read_estimates(json.loads((run / "eval/fidelity/results.json").read_text()))["fidelity"]
    # One picture per predicted class: at most one image per class can be nearest to it.
    assert fidelity["id_top1"].value * 64 <= len(predicted.unique())
    assert fidelity["top1_agreement"].value == 1.0  # the lookup image of class c is one the classifier calls c
    assert fidelity["diversity"].value == 0.0


def test_every_command_takes_a_retrieval_run(files):
    run = _build(files, "commands")
    assert evaluate.main(["grid", "--run", str(run), "--n", "4"]) == 0
    edit = ["--edit", "scale", "--n", "2", "--table-images", "8", "--evaluator", files["evaluator"]]
    assert evaluate.main(["manipulate", "--run", str(run), *edit]) == 0
    assert (run / "eval/grid/grid.png").is_file() and (run / "eval/manipulate-scale/results.json").is_file()


def test_a_second_build_into_the_same_folder_is_refused(files, capsys):
    run = _build(files, "twice")
    args = ["baseline", "retrieval", "--classifier", files["classifier"], "--config", TINY, "--out", str(run)]
    assert evaluate.main(args) == 2
    assert "already holds a snapshot" in capsys.readouterr().err
