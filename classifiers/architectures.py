"""Classifier architectures for small images (32 px, 1 or 3 channels), by name.

Each takes `num_classes`, `in_channels` and a `width`, and exposes `features(x)` (the penultimate
representation) beside `forward(x)` (logits), so any of them can also serve as an evaluator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from infra.errors import UserError
from infra.optional import require

from . import robustness_architectures


def _conv_bn(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class VGGSmall(nn.Module):
    """A small VGG-style CNN: three stages of two 3x3 conv-BN-ReLU layers (widths w, 2w, 4w), 2x
    max-pooling between stages, global average pooling and a linear head."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            *_conv_bn(in_channels, w),
            *_conv_bn(w, w),
            nn.MaxPool2d(2),
            *_conv_bn(w, 2 * w),
            *_conv_bn(2 * w, 2 * w),
            nn.MaxPool2d(2),
            *_conv_bn(2 * w, 4 * w),
            *_conv_bn(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * w, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations of each of the three stages, then the pooled features."""
        out, h = [], x
        for layer in self.body:
            if isinstance(layer, nn.AdaptiveAvgPool2d):
                out.append(h)  # the last stage has no max-pool: take it before the global pooling
            h = layer(h)
            if isinstance(layer, nn.MaxPool2d):
                out.append(h)
        return out + [h]

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The logits from `features` (forward is classify(features(x)))."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR-style ResNet-18 (He et al. 2016): a 3x3 stem without pooling, four stages of two basic
    blocks at widths w, 2w, 4w, 8w (w = 64 is the usual model; w = 32 the narrower variant).

    Module names follow the MadryLab robustness library's CIFAR ResNet (conv1, bn1, layer1-4,
    linear; blocks with conv1, bn1, conv2, bn2, shortcut), so its checkpoints load as they are.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for i, cout in enumerate([width, 2 * width, 4 * width, 8 * width]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.linear = nn.Linear(cin, num_classes)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stem's output, each of the four stages', then the pooled features."""
        out = [F.relu(self.bn1(self.conv1(x)))]
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            out.append(layer(out[-1]))
        return out + [F.adaptive_avg_pool2d(out[-1], 1).flatten(1)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)[-1]

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The logits from `features` (forward is classify(features(x)))."""
        return self.linear(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


class SmallCNN(nn.Module):
    """The small CNNs of Borji, "Logits are predictive of network type" (2022, Figure 9): convolutions
    each followed by 2x max-pooling and then the activation, a 50-unit hidden layer, and a linear
    output. The layer shapes are the paper's; fc1's input size follows from the image size (at 28 px
    it is the paper's 320, 40 and 500; Fashion-MNIST here is padded to 32 px)."""

    ACTIVATIONS = {"relu": F.relu, "tanh": torch.tanh, "linear": lambda x: x}

    def __init__(
        self,
        convs: list[tuple[int, int]],
        activation: str,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 32,
    ):
        super().__init__()
        self.act = self.ACTIVATIONS[activation]
        layers, cin = [], in_channels
        for cout, k in convs:
            layers.append(nn.Conv2d(cin, cout, kernel_size=k))
            cin = cout
        self.convs = nn.ModuleList(layers)
        with torch.no_grad():
            flat = self._trunk(torch.zeros(1, in_channels, image_size, image_size)).shape[1]
        self.fc1 = nn.Linear(flat, 50)
        self.fc2 = nn.Linear(50, num_classes)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations after each convolution block, then the hidden layer."""
        out = []
        for conv in self.convs:
            x = self.act(F.max_pool2d(conv(x), 2))
            out.append(x)
        return out + [self.act(self.fc1(x.flatten(1)))]

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = self.act(F.max_pool2d(conv(x), 2))
        return x.flatten(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc1(self._trunk(x)))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The logits from `features` (forward is classify(features(x)))."""
        return self.fc2(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def _small_cnn(convs, activation):
    def build(num_classes: int = 10, in_channels: int = 1, width: int | None = None, image_size: int = 32):
        return SmallCNN(convs, activation, num_classes=num_classes, in_channels=in_channels, image_size=image_size)

    return build


# Named for their shape: cnn<convolutions>_k<kernel size>_<activation>, (output channels, kernel) per
# convolution. The paper's names: NetTest and Net = cnn2_k5_relu (the same shapes, trained
# separately), NetTest2 = cnn3_k2_relu, NetTest3 = cnn2_k3_relu, Net2 = cnn2_k5_linear, Net3 = cnn2_k5_tanh.
SMALL_CNNS = {
    "cnn2_k5_relu": _small_cnn([(10, 5), (20, 5)], "relu"),
    "cnn3_k2_relu": _small_cnn([(10, 2), (20, 2), (10, 2)], "relu"),
    "cnn2_k3_relu": _small_cnn([(30, 3), (20, 3)], "relu"),
    "cnn2_k5_linear": _small_cnn([(10, 5), (20, 5)], "linear"),
    "cnn2_k5_tanh": _small_cnn([(10, 5), (20, 5)], "tanh"),
}
# The paper's two families of networks to tell apart by their logits.
SMALL_CNN_FAMILIES = {
    "cnn-shapes": ["cnn2_k5_relu", "cnn3_k2_relu", "cnn2_k3_relu"],  # its "MNIST I": depth and kernel size differ
    "cnn-activations": ["cnn2_k5_relu", "cnn2_k5_linear", "cnn2_k5_tanh"],  # its "MNIST II": activation differs
}


ARCHITECTURES = {"vgg_small": VGGSmall, "resnet18": ResNet18, **SMALL_CNNS}


def build_arch(
    name: str, num_classes: int, in_channels: int, width: int | None = None, image_size: int = 32
) -> nn.Module:
    """A network by name, with random weights: one of ARCHITECTURES, `torchvision:<name>`, `timm:<name>`,
    or `robustness:<name>` (an architecture of MadryLab's robustness library; `width` is a CIFAR
    ResNet's base width)."""
    if name.startswith("robustness:"):
        dataset, arch = robustness_architectures.parse_name(name[11:])
        if not robustness_architectures.known(dataset, arch):
            raise UserError(f"unknown robustness architecture {name[11:]!r}")
        return robustness_architectures.build(dataset, arch, num_classes, base_width=width or 64)
    if name.startswith("torchvision:"):
        return torchvision.models.get_model(name[12:], weights=None, num_classes=num_classes)
    if name.startswith("timm:"):
        timm = require("timm", f"classifier architecture {name}")
        return timm.create_model(name[5:], pretrained=False, num_classes=num_classes, in_chans=in_channels)
    if name not in ARCHITECTURES:
        raise UserError(
            f"unknown classifier architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}, "
            f"torchvision:<name> or timm:<name>"
        )
    kwargs = {} if width is None else {"width": width}
    if name in SMALL_CNNS:
        kwargs["image_size"] = image_size
    return ARCHITECTURES[name](num_classes=num_classes, in_channels=in_channels, **kwargs)
