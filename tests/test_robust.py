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


def _robustness_file(path, net, mean, std, key="model", data_parallel=True, extra=None, shared_attacker=False):
    """A checkpoint laid out as the robustness library writes it. Its attacker holds the same network
    (shared tensors, as in the library's AttackerModel); by default the copy is zeros here, so that
    a loader that read it instead of the model would fail."""
    prefix = "module." if data_parallel else ""
    state = {}
    for k, v in net.state_dict().items():
        state[f"{prefix}model.{k}"] = v
        state[f"{prefix}attacker.model.{k}"] = v if shared_attacker else torch.zeros_like(v)
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
    with pytest.raises(
        UserError, match="holds the object argparse.Namespace; loading it would execute code.*trust_checkpoint=true"
    ):
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


def test_evaluate_stores_clean_and_robust_accuracy_only_when_asked(tmp_path, capsys):
    from classifiers.evaluate import main as evaluate
    from classifiers.train import main as train

    out = tmp_path / "c.safetensors"
    assert train(["--config", str(CONFIGS / "tiny.yaml"), f"runs_dir={tmp_path}", f"out={out}", "max_steps=20"]) == 0
    attack = ["--norm", "l2", "--eps", "0.5", "--steps", "3", "--autoattack-steps", "3"]
    before = out.read_bytes()
    assert evaluate([str(out), *attack, "--samples", "16"]) == 0  # evaluating never changes its input
    assert out.read_bytes() == before
    assert evaluate([str(out), *attack, "--samples", "16", "--write-metadata"]) == 0
    printed = capsys.readouterr().out
    assert "robust accuracy" in printed and "16 test images" in printed and "stored under 'evaluation'" in printed
    evaluation = load_classifier_checkpoint(out)[2]["evaluation"]
    assert evaluation["attack"]["norm"] == "l2" and evaluation["attack"]["samples"] == 16
    assert evaluation["robust_accuracy"] <= evaluation["clean_accuracy"]
    assert evaluation["autoattack"]["robust_accuracy"] <= evaluation["robust_accuracy"] + 1 / 16
    # A smaller evaluation does not replace a larger one without --force.
    stored = out.read_bytes()
    assert evaluate([str(out), *attack, "--samples", "8", "--write-metadata"]) == 2
    assert "already holds an evaluation on 16 test images" in capsys.readouterr().err and out.read_bytes() == stored
    # eps 0: no attack changes an image, so every robust accuracy is the clean one.
    zero = ["--eps", "0", "--steps", "2", "--autoattack-steps", "2", "--samples", "16", "--write-metadata"]
    assert evaluate([str(out), *zero]) == 0
    evaluation = load_classifier_checkpoint(out)[2]["evaluation"]
    assert evaluation["robust_accuracy"] == evaluation["clean_accuracy"]
    assert evaluation["autoattack"]["robust_accuracy"] == evaluation["clean_accuracy"]
    assert evaluate([str(out), *attack, "--samples", "8", "--write-metadata", "--force"]) == 0
    assert load_classifier_checkpoint(out)[2]["evaluation"]["attack"]["samples"] == 8


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
    for name, act in (("cnn2_k5_tanh", torch.tanh), ("cnn2_k5_relu", torch.relu)):
        net = SMALL_CNNS[name](image_size=28)
        with torch.no_grad():  # fc1 reads nothing and adds -2 ... 2: its features are act(bias), exactly
            net.fc1.weight.zero_()
            net.fc1.bias.copy_(torch.linspace(-2, 2, 50))
        torch.testing.assert_close(net.features(x), act(torch.linspace(-2, 2, 50))[None])
    linear = SMALL_CNNS["cnn2_k5_linear"](image_size=28)
    torch.testing.assert_close(
        linear(2 * x) - linear(torch.zeros_like(x)), 2 * (linear(x) - linear(torch.zeros_like(x))), rtol=1e-4, atol=1e-5
    )  # no activation: affine in its input (max-pool is 1-homogeneous)


# ------------------------------------------------------------------ the library's own architectures
@pytest.fixture(scope="module")
def library():
    """MadryLab's robustness library's model code (make test installs the library without its
    dependencies, which its model code does not need)."""
    import sys
    import types

    # The library imports torchvision.models.utils, which current torchvision no longer has.
    sys.modules.setdefault(
        "torchvision.models.utils", types.SimpleNamespace(load_state_dict_from_url=torch.hub.load_state_dict_from_url)
    )
    try:
        from robustness import cifar_models, imagenet_models
    except ImportError as err:
        pytest.skip(f"the robustness library cannot be imported here ({err})")
    return {"cifar": cifar_models, "imagenet": imagenet_models}


def _randomise_batch_norm(net):
    """Eval-mode batch norm that is not the identity, so that a loader that dropped its buffers would fail."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


@pytest.mark.parametrize(
    "name",
    [
        "cifar_resnet18",
        "cifar_ResNet34",
        "cifar_resnet50",
        "cifar_vgg16",
        "cifar_densenet121",
        "cifar_densenet_cifar",
        "cifar_inceptionv3",
        "resnet18",
        "leaky_resnet18",
        "alexnet",
        "squeezenet1_1",
        "densenet121",
        "resnext50_32x4d",
        "wide_resnet50_4",
    ],
)
def test_library_checkpoints_load_with_the_librarys_logits(tmp_path, library, name):
    from classifiers.robustness_architectures import parse_name

    dataset, arch = parse_name(name)
    module = library[dataset]
    constructor = getattr(module, arch, None) or getattr(module, name.split("_", 1)[1])  # ResNet34 has no alias
    torch.manual_seed(0)
    net = constructor() if arch == "inceptionv3" else constructor(num_classes=10)  # its inceptionv3 takes no classes
    net = _randomise_batch_norm(net)
    mean, std = [0.45, 0.46, 0.47], [0.21, 0.22, 0.23]
    path = tmp_path / "library.pt"
    _robustness_file(path, net, mean, std, shared_attacker=True)
    size = 32 if dataset == "cifar" else 64  # ImageNet networks at 64 px: the same weights, cheaper
    frozen = load_classifier(ClassifierConfig(name=f"robustness:{name}", checkpoint=str(path), input_size=size), 3)
    x = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        reference = net(((x + 1) / 2 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1))
        torch.testing.assert_close(frozen(x), reference, rtol=1e-5, atol=1e-5)
    assert frozen.num_classes == 10


def test_a_file_of_another_architecture_is_described_with_the_name_that_fits(tmp_path):
    from classifiers.robustness_architectures import build

    torch.manual_seed(0)
    path = tmp_path / "r50.pt"
    _robustness_file(path, build("cifar", "resnet50", 10), [0.5] * 3, [0.5] * 3)
    with pytest.raises(UserError) as info:
        load_classifier(ClassifierConfig(name="robustness:cifar_resnet18", checkpoint=str(path)), 3)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert (
        "holds a CIFAR ResNet-50 (bottleneck blocks 3-4-6-3" in message and "use robustness:cifar_resnet50" in message
    )
    with pytest.raises(UserError, match="unknown robustness architecture 'cifar_resnet19'.*cifar_resnet50"):
        load_classifier(ClassifierConfig(name="robustness:cifar_resnet19", checkpoint=str(path)), 3)


@pytest.mark.parametrize(
    "dataset, names",
    [
        (
            "cifar",
            [
                "resnet18",
                "resnet34",
                "resnet50",
                "resnet101",
                "vgg11",
                "vgg19",
                "densenet161",
                "densenet_cifar",
                "inceptionv3",
            ],
        ),
        (
            "imagenet",
            [
                "resnet34",
                "resnet50",
                "resnext50_32x4d",
                "wide_resnet50_2",
                "wide_resnet50_3",
                "densenet169",
                "vgg13_bn",
                "squeezenet1_0",
                "alexnet",
            ],
        ),
    ],
)
def test_each_architecture_is_recognised_from_its_weights(dataset, names):
    from classifiers.robustness_architectures import IMAGENET_KEY_RENAMES, build, describe

    for name in names:
        state = build(dataset, name, 10).state_dict()
        for new, old in ((v, k) for k, v in IMAGENET_KEY_RENAMES.get(name, {}).items()):
            state = {old + k[len(new) :] if k.startswith(new) else k: v for k, v in state.items()}
        assert describe(state)[1] == (f"cifar_{name}" if dataset == "cifar" else name)


def test_convert_keeps_a_library_architecture_the_project_does_not_have(tmp_path):
    from classifiers.convert import main
    from classifiers.robustness_architectures import build

    torch.manual_seed(0)
    net = _randomise_batch_norm(build("cifar", "densenet_cifar", 10))
    path, out = tmp_path / "dense.pt", tmp_path / "dense.safetensors"
    _robustness_file(path, net, [0.5] * 3, [0.25] * 3)
    assert main(["robustness:cifar_densenet_cifar", str(path), "--out", str(out)]) == 0
    assert load_classifier_checkpoint(out)[2]["arch"] == "robustness:cifar_densenet_cifar"
    converted = load_classifier(ClassifierConfig(name="project", checkpoint=str(out)), 3)
    original = load_classifier(ClassifierConfig(name="robustness:cifar_densenet_cifar", checkpoint=str(path)), 3)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(original(x), converted(x))
