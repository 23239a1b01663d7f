import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from classifiers import (
    ClassifierConfig,
    ClassifierInfo,
    FrozenClassifier,
    load_classifier,
    load_classifier_checkpoint,
    save_classifier,
)
from classifiers.architectures import ARCHITECTURES, build_arch
from infra.errors import UserError


class Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = None
        self.lin = nn.Linear(1, 4)

    def forward(self, x):
        self.seen = x
        return torch.zeros(x.shape[0], 4)


def test_wrapper_resizes_and_normalises_like_a_hand_computation():
    info = ClassifierInfo(num_classes=4, in_channels=3, input_size=64, mean=[0.1, 0.2, 0.3], std=[0.5, 0.25, 2.0])
    rec = Recorder()
    wrapped = FrozenClassifier(rec, info)
    grey = torch.rand(2, 1, 32, 32) * 2 - 1
    wrapped(grey)
    x01 = ((grey + 1) / 2).repeat(1, 3, 1, 1)
    up = F.interpolate(x01, size=(64, 64), mode="bilinear", align_corners=False)
    expected = (up - torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)) / torch.tensor([0.5, 0.25, 2.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(rec.seen, expected)


def test_wrapper_is_frozen_and_stays_in_eval_mode():
    model = build_arch("vgg_small", 10, 1, width=4)
    wrapped = FrozenClassifier(model, ClassifierInfo(10, 1, None, [0.5], [0.5]))
    wrapped.train()
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    x = torch.zeros(2, 1, 32, 32, requires_grad=True)
    wrapped(x).sum().backward()  # gradients still reach the input
    assert x.grad is not None


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_project_checkpoint_round_trip_keeps_logits(tmp_path, arch):
    torch.manual_seed(0)
    model = build_arch(arch, 10, 3, width=8).eval()
    info = ClassifierInfo(
        num_classes=10, in_channels=3, input_size=None, mean=[0.5] * 3, std=[0.5] * 3, classes=list("abcdefghij")
    )
    path = save_classifier(tmp_path / "c.safetensors", model, arch, 8, info, {"test_accuracy": 0.5})
    loaded, info2, meta = load_classifier_checkpoint(path)
    x = torch.randn(4, 3, 32, 32)
    assert torch.equal(model(x), loaded.eval()(x))
    assert meta["test_accuracy"] == 0.5 and info2.classes == info.classes
    frozen = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), data_channels=3)
    torch.testing.assert_close(frozen(x), model(x))  # (x + 1) / 2 then (x - 0.5) / 0.5: equal up to rounding


class HeadHidden(nn.Module):
    """A network with features and logits but no `classify`: the wrapper cannot split it."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def features(self, x):
        return self.inner.features(x)

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize("arch", [*sorted(ARCHITECTURES), "timm:resnet18", "other"])
def test_features_and_output_in_one_pass_equal_the_two_calls(arch):
    """The evaluator's features and its (output model's) answer from one pass of the body must be what
    `features` and `forward` give apart, for every architecture, through an output model, and for a
    network without a head the wrapper can call (two passes)."""
    from classifiers.outputs import parse_output

    torch.manual_seed(0)
    if arch.startswith("timm:"):
        frozen = load_classifier(ClassifierConfig(name=arch, pretrained=False), data_channels=1)
        x = torch.rand(2, 1, 32, 32) * 2 - 1
    else:
        model = build_arch("vgg_small" if arch == "other" else arch, 10, 1, width=8)
        if arch == "other":
            model = HeadHidden(model)
        info = ClassifierInfo(10, 1, None, [0.5], [0.5])
        frozen = FrozenClassifier(model, info, parse_output("softmax+log"))
        x = torch.rand(4, 1, 32, 32) * 2 - 1
    features, output = frozen.features_and_output(x)
    assert torch.equal(features, frozen.features(x)) and torch.equal(output, frozen(x))


def test_project_checkpoint_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_classifier(ClassifierConfig(name="project", checkpoint=str(tmp_path / "none.safetensors")), 1)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot be read"):
        load_classifier(ClassifierConfig(name="project", checkpoint=str(bad)), 1)
    with pytest.raises(UserError, match="needs classifier.checkpoint"):
        load_classifier(ClassifierConfig(name="project"), 1)
    with pytest.raises(UserError, match="unknown classifier"):
        load_classifier(ClassifierConfig(name="keras:foo"), 1)


def test_timm_and_torchvision_models_are_created_offline():
    timm_model = load_classifier(ClassifierConfig(name="timm:resnet18", pretrained=False), data_channels=1)
    assert timm_model.num_classes == 1000 and timm_model.info.input_size == 224
    assert timm_model(torch.zeros(1, 1, 32, 32)).shape == (1, 1000)
    tv = load_classifier(ClassifierConfig(name="torchvision:resnet18", pretrained=False), data_channels=3)
    assert tv.num_classes == 1000 and tv.info.mean == [0.485, 0.456, 0.406]
    assert tv(torch.zeros(1, 3, 32, 32)).shape == (1, 1000)


def test_timm_local_weights_file(tmp_path):
    import timm

    model = timm.create_model("resnet18", pretrained=False, num_classes=1000)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "w.pth")
    loaded = load_classifier(ClassifierConfig(name="timm:resnet18", checkpoint=str(tmp_path / "w.pth")), 3)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded(x), FrozenClassifier(model, loaded.info)(x))


def test_classifier_training_end_to_end(tmp_path):
    from classifiers.train import main

    cfg = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "configs" / "classifiers" / "tiny.yaml")
    out = tmp_path / "c.safetensors"
    assert main(["--config", cfg, f"runs_dir={tmp_path}", f"out={out}", "max_steps=30", "lr=0.05"]) == 0
    _, info, meta = load_classifier_checkpoint(out)
    assert meta["arch"] == "vgg_small" and meta["steps"] == 30 and info.in_channels == 3
    metrics = json.loads((tmp_path / "tiny" / "metrics.json").read_text())
    assert metrics["test_accuracy"] == meta["test_accuracy"]
    assert meta["test_accuracy"] > 0.3  # synthetic classes are easy; chance is 0.1


class _Brightness(torch.nn.Module):
    """Classes 0 and 1 by mean brightness s in [-1, 1]: logits (-10 s, 10 s, -5, -5) (APGD-T's loss needs
    four classes; the last two never win). An image's L-inf distance to the boundary is its mean's
    distance to 0.5 in [0, 1] pixel units."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # torchattacks finds the device from a parameter

    def forward(self, x):
        s = x.flatten(1).mean(1)
        never = torch.full_like(s, -5.0)
        return torch.stack([-10 * s, 10 * s, never, never], dim=1) + 0 * self.unused


def test_autoattack_finds_exactly_the_images_within_eps():
    from accelerate import Accelerator

    from classifiers.autoattack import autoattack_accuracy

    # Flat uint8 images: 115 and 140 lie 0.049 from the boundary (0.5), 89 and 166 lie 0.151 from it.
    values, labels = [115, 89, 140, 166] * 5, [0, 0, 1, 1] * 5
    data = [(torch.full((1, 4, 4), v, dtype=torch.uint8), torch.tensor(y)) for v, y in zip(values, labels)]
    result = autoattack_accuracy(_Brightness(), data, 8, Accelerator(cpu=True), "linf", eps=0.1, steps=10)
    # All right when clean; within eps 0.1 of the boundary: half of them. eps in the wrong units (2x or
    # 0.5x) gives 0% or 100%.
    assert result["clean_accuracy"] == 1.0 and result["robust_accuracy"] == 0.5 and result["images"] == 20
    assert result["robust_per_image"].tolist() == [False, True, False, True] * 5
    small = autoattack_accuracy(_Brightness(), data, 8, Accelerator(cpu=True), "linf", eps=0.04, steps=10)
    assert small["robust_accuracy"] == 1.0


def test_autoattack_says_when_a_classifier_has_too_few_classes():
    from classifiers.autoattack import build_attacks
    from infra.errors import UserError

    with pytest.raises(UserError, match="at least 4 classes; this classifier has 3"):
        build_attacks(_Brightness(), "linf", 0.1, 10, num_classes=3)
