"""Robust classifiers: robustness-library checkpoints, PGD, adversarial training and evaluation."""

import argparse
import json
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from classifiers import ClassifierConfig, load_classifier, load_classifier_checkpoint
from classifiers.architectures import SMALL_CNNS, ResNet18, build_arch
from classifiers.attacks import PGDConfig, pgd
from infra.errors import UserError

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "classifiers"


def _robustness_file(path, net, mean, std, key="model", data_parallel=True, extra=None):
    """A checkpoint laid out as the robustness library writes it."""
    prefix = "module." if data_parallel else ""
    state = {}
    for k, v in net.state_dict().items():
        state[f"{prefix}model.{k}"] = v.clone()
        state[f"{prefix}attacker.model.{k}"] = torch.zeros_like(v)  # must be skipped
    for part in ("normalizer", "attacker.normalizer"):
        state[f"{prefix}{part}.new_mean"] = torch.tensor(mean).view(3, 1, 1)
        state[f"{prefix}{part}.new_std"] = torch.tensor(std).view(3, 1, 1)
    torch.save({key: state, "epoch": 150, **(extra or {})}, path)


@pytest.mark.parametrize("key,data_parallel", [("model", True), ("state_dict", False)])
def test_robustness_cifar_checkpoint_reproduces_reference_logits(tmp_path, key, data_parallel):
    torch.manual_seed(0)
    net = ResNet18(num_classes=10, in_channels=3, width=8).eval()
    mean, std = [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]
    path = tmp_path / "cifar.pt"
    _robustness_file(path, net, mean, std, key=key, data_parallel=data_parallel)
    frozen = load_classifier(ClassifierConfig(name="robustness:cifar_resnet18", checkpoint=str(path)), data_channels=3)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    reference = net(((x + 1) / 2 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1))
    torch.testing.assert_close(frozen(x), reference)
    assert frozen.info.input_size == 32 and frozen.num_classes == 10


def test_robustness_imagenet_checkpoint_loads_into_torchvision(tmp_path):
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=5).eval()
    path = tmp_path / "imagenet.pt"
    _robustness_file(path, net, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    frozen = load_classifier(ClassifierConfig(name="robustness:resnet18", checkpoint=str(path)), data_channels=3)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    up = F.interpolate((x + 1) / 2, size=(224, 224), mode="bilinear", align_corners=False)
    reference = net(
        (up - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    )
    torch.testing.assert_close(frozen(x), reference, rtol=1e-4, atol=1e-4)
    assert frozen.num_classes == 5


def test_untrusted_pickle_is_refused_without_the_flag(tmp_path):
    torch.manual_seed(0)
    net = ResNet18(num_classes=10, in_channels=3, width=4)
    path = tmp_path / "pickled.pt"
    # An argparse Namespace, as training scripts store their arguments: not loadable without running pickle code.
    _robustness_file(path, net, [0.5] * 3, [0.5] * 3, extra={"args": argparse.Namespace(lr=0.1)})
    cfg = ClassifierConfig(name="robustness:cifar_resnet18", checkpoint=str(path))
    with pytest.raises(UserError, match="would execute code.*trust_checkpoint=true"):
        load_classifier(cfg, 3)
    cfg.trust_checkpoint = True
    assert load_classifier(cfg, 3).num_classes == 10


def test_convert_writes_an_equivalent_safetensors_checkpoint(tmp_path, capsys):
    from classifiers.convert import main

    torch.manual_seed(0)
    net = ResNet18(num_classes=10, in_channels=3, width=8).eval()
    path = tmp_path / "cifar.pt"
    _robustness_file(path, net, [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])
    out = tmp_path / "converted.safetensors"
    assert main(["robustness:cifar_resnet18", str(path), "--out", str(out)]) == 0
    original = load_classifier(ClassifierConfig(name="robustness:cifar_resnet18", checkpoint=str(path)), 3)
    converted = load_classifier(ClassifierConfig(name="project", checkpoint=str(out)), 3)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    assert torch.equal(original(x), converted(x))
    assert load_classifier_checkpoint(out)[2]["converted_from"].startswith("robustness:cifar_resnet18")


class _Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("norm,eps", [("linf", 0.05), ("l2", 0.5)])
def test_pgd_raises_the_loss_and_stays_inside_eps(norm, eps):
    model = _Linear()
    x = torch.rand(16, 3, 8, 8) * 2 - 1
    y = torch.randint(0, 4, (16,))
    adv = pgd(model, x, y, PGDConfig(norm=norm, eps=eps, steps=10, step_size=eps / 4))
    delta = (adv - x).flatten(1)
    radius = 2 * eps  # [0, 1] units -> [-1, 1] units
    size = delta.abs().max(1).values if norm == "linf" else delta.norm(dim=1)
    assert (size <= radius + 1e-5).all()
    assert adv.min() >= -1 and adv.max() <= 1
    assert F.cross_entropy(model(adv), y) > F.cross_entropy(model(x), y) + 0.01
    target = (y + 1) % 4
    targeted = pgd(model, x, y, PGDConfig(norm=norm, eps=eps, steps=10, step_size=eps / 4), targets=target)
    assert F.cross_entropy(model(targeted), target) < F.cross_entropy(model(x), target)
    assert not any(p.grad is not None for p in model.parameters())


def _robust_loss(model, x, y, cfg):
    model.eval()
    adv = pgd(model, x, y, cfg, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return F.cross_entropy(model(adv), y).item()


def test_tiny_adversarial_training_lowers_robust_loss(tmp_path):
    from classifiers.train import main
    from infra.datasets import DataConfig, load_data, to_model_range

    out = tmp_path / "robust.safetensors"
    args = [
        "--config",
        str(CONFIGS / "tiny.yaml"),
        f"runs_dir={tmp_path}",
        f"out={out}",
        "max_steps=40",
        "lr=0.05",
        "adversarial.norm=linf",
        "adversarial.eps=0.03",
        "adversarial.steps=3",
        "adversarial.step_size=0.015",
        "adversarial.eval_steps=5",
        "robust_eval_samples=32",
        "checkpoint_every=1000",
    ]
    assert main(args) == 0
    trained, _, meta = load_classifier_checkpoint(out)
    assert meta["training"] == "adversarial" and 0 <= meta["robust_accuracy"] <= meta["test_accuracy"]
    assert meta["robust_attack"]["steps"] == 5 and meta["robust_attack"]["eps"] == 0.03
    torch.manual_seed(0)
    untrained = build_arch("vgg_small", 10, 3, width=4)  # the same seed-0 initial weights
    data = load_data(DataConfig(name="synthetic", synthetic_size=64, synthetic_channels=3))
    x, y = to_model_range(data.test.images[:64]), data.test.labels[:64]
    attack = PGDConfig(norm="linf", eps=0.03, steps=5, step_size=0.015)
    assert _robust_loss(trained, x, y, attack) < _robust_loss(untrained, x, y, attack) - 0.1


def test_evaluate_stores_clean_and_robust_accuracy(tmp_path, capsys):
    from classifiers.evaluate import main as evaluate
    from classifiers.train import main as train

    out = tmp_path / "c.safetensors"
    assert train(["--config", str(CONFIGS / "tiny.yaml"), f"runs_dir={tmp_path}", f"out={out}", "max_steps=20"]) == 0
    assert evaluate([str(out), "--norm", "l2", "--eps", "0.5", "--steps", "3", "--samples", "16"]) == 0
    printed = capsys.readouterr().out
    assert "robust accuracy" in printed and "16 test images" in printed
    evaluation = load_classifier_checkpoint(out)[2]["evaluation"]
    assert evaluation["attack"]["norm"] == "l2" and evaluation["attack"]["samples"] == 16
    assert 0 <= evaluation["robust_accuracy"] <= 1 and 0 <= evaluation["clean_accuracy"] <= 1


def test_classifier_resume_is_bit_identical(tmp_path):
    from safetensors.torch import load_file

    from classifiers.train import main
    from infra.checkpoints import list_checkpoints

    base = [
        "--config",
        str(CONFIGS / "tiny.yaml"),
        f"runs_dir={tmp_path}",
        "max_steps=6",
        "checkpoint_every=3",
        "keep_checkpoints=5",
        "adversarial.norm=l2",
        "adversarial.eps=0.2",
        "adversarial.steps=2",
    ]
    assert main([*base, "name=full"]) == 0
    part = tmp_path / "part"
    shutil.copytree(tmp_path / "full", part)
    for p in list_checkpoints(part)[1:]:
        shutil.rmtree(p)
    (part / "classifier.safetensors").unlink()
    assert main(["--resume", str(part)]) == 0
    a, b = load_file(str(tmp_path / "full" / "classifier.safetensors")), load_file(str(part / "classifier.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    stats = [json.loads(line) for line in (part / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["step"] == 6


def test_small_cnns_have_the_papers_layer_shapes():
    expected_fc1 = {
        "cnn2_k5_relu": 320,
        "cnn3_k2_relu": 40,
        "cnn2_k3_relu": 500,
        "cnn2_k5_linear": 320,
        "cnn2_k5_tanh": 320,
    }
    for name, fc1 in expected_fc1.items():
        net = SMALL_CNNS[name](num_classes=10, in_channels=1, image_size=28)
        assert net.fc1.in_features == fc1 and net.fc1.out_features == 50 and net.fc2.out_features == 10
        assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
        assert build_arch(name, 10, 1)(torch.zeros(1, 1, 32, 32)).shape == (1, 10)  # 32 px works too
    x = torch.randn(1, 1, 28, 28)
    assert SMALL_CNNS["cnn2_k5_tanh"](image_size=28).features(x).abs().max() <= 1  # tanh hidden layer
    linear = SMALL_CNNS["cnn2_k5_linear"](image_size=28)
    torch.testing.assert_close(
        linear(2 * x) - linear(torch.zeros_like(x)), 2 * (linear(x) - linear(torch.zeros_like(x))), rtol=1e-4, atol=1e-5
    )  # no activation: affine in its input (max-pool is 1-homogeneous)
