"""The architectures of MadryLab's robustness library (Engstrom et al. 2019), built with the library's
module names so that its checkpoints load as they are.

CIFAR (`CIFAR_ARCHITECTURES`, the library's `cifar_models`, 32 px, 3x3 stem without pooling):
ResNet-18/34/50/101/152 and the 5x wider ResNet-18, VGG-11/13/16/19, DenseNet-121/161/169/201 and
its small `densenet_cifar`, and Inception-v3. ImageNet (`IMAGENET_ARCHITECTURES`, its
`imagenet_models`): torchvision's networks, whose module names the library kept (ResNets, ResNeXts,
wide ResNets, DenseNets, VGGs, SqueezeNets), plus what torchvision lacks: wide ResNet-50s of width
3 to 6, ResNets with leaky ReLUs, and AlexNet with its last layer under the library's name.

Names are the library's own, lower case (`resnet50`, `vgg16`, `densenet_cifar`, `inceptionv3`,
`wide_resnet50_4`, ...); `canonical_name` also accepts its constructors' names (`ResNet50`,
`DenseNet121`, `ResNet18Wide`, `InceptionV3`). The CIFAR networks expose `features(x)`, their
penultimate representation, like the project's own architectures.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


# ------------------------------------------------------------------ CIFAR ResNets
class CifarBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != out:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


class CifarResNet(nn.Module):
    """The library's CIFAR ResNet: widths 64, 128, 256, 512 times `width_multiplier`, global average
    pooling (a 4x4 map at 32 px) and a `linear` head."""

    def __init__(self, block: type[nn.Module], blocks: list[int], num_classes: int = 10, width_multiplier: float = 1):
        super().__init__()
        widths = [int(w * width_multiplier) for w in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for i, (planes, count) in enumerate(zip(widths, blocks)):
            layers = []
            for j in range(count):
                layers.append(block(cin, planes, stride=2 if i > 0 and j == 0 else 1))
                cin = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.linear = nn.Linear(cin, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


# ------------------------------------------------------------------ CIFAR VGG
VGG_LAYERS = {  # output channels of each 3x3 conv (with batch norm and ReLU); "M" is 2x max-pooling
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class CifarVGG(nn.Module):
    """The library's CIFAR VGG: the conv stack in `features` (down to 1x1 at 32 px), a `classifier` head."""

    def __init__(self, layers: list, num_classes: int = 10):
        super().__init__()
        modules, cin = [], 3
        for spec in layers:
            if spec == "M":
                modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                modules += [nn.Conv2d(cin, spec, 3, padding=1), nn.BatchNorm2d(spec), nn.ReLU(inplace=True)]
                cin = spec
        modules.append(nn.AvgPool2d(kernel_size=1, stride=1))
        self.features = nn.Sequential(*modules)  # named as the library names it (its weights' keys)
        self.classifier = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


# ------------------------------------------------------------------ CIFAR DenseNet
class DenseBottleneck(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
        return torch.cat([out, x], 1)


class DenseTransition(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class CifarDenseNet(nn.Module):
    """The library's CIFAR DenseNet: four dense blocks, transitions halving the channels between them."""

    def __init__(self, blocks: list[int], growth: int, num_classes: int = 10, reduction: float = 0.5):
        super().__init__()
        planes = 2 * growth
        self.conv1 = nn.Conv2d(3, planes, 3, padding=1, bias=False)
        for i, count in enumerate(blocks):
            layers = []
            for _ in range(count):
                layers.append(DenseBottleneck(planes, growth))
                planes += growth
            setattr(self, f"dense{i + 1}", nn.Sequential(*layers))
            if i < len(blocks) - 1:
                out = int(math.floor(planes * reduction))
                setattr(self, f"trans{i + 1}", DenseTransition(planes, out))
                planes = out
        self.bn = nn.BatchNorm2d(planes)
        self.linear = nn.Linear(planes, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        out = self.trans3(self.dense3(self.trans2(self.dense2(self.trans1(self.dense1(out))))))
        return F.adaptive_avg_pool2d(F.relu(self.bn(self.dense4(out))), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


# ------------------------------------------------------------------ CIFAR Inception-v3
class ConvBN(nn.Module):
    """Conv (no bias), batch norm, ReLU: the library's `BasicConv2d`."""

    def __init__(self, cin: int, cout: int, **conv):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **conv)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def _chain(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = ConvBN(cin, 64, kernel_size=1)
        self.branch5x5 = _chain(ConvBN(cin, 48, kernel_size=1), ConvBN(48, 64, kernel_size=5, padding=2))
        self.branch3x3 = _chain(
            ConvBN(cin, 64, kernel_size=1),
            ConvBN(64, 96, kernel_size=3, padding=1),
            ConvBN(96, 96, kernel_size=3, padding=1),
        )
        self.branchpool = _chain(
            nn.AvgPool2d(3, stride=1, padding=1), ConvBN(cin, pool_features, kernel_size=3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1x1(x), self.branch5x5(x), self.branch3x3(x), self.branchpool(x)], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = ConvBN(cin, 384, kernel_size=3, stride=2)
        self.branch3x3stack = _chain(
            ConvBN(cin, 64, kernel_size=1),
            ConvBN(64, 96, kernel_size=3, padding=1),
            ConvBN(96, 96, kernel_size=3, stride=2),
        )
        self.branchpool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch3x3(x), self.branch3x3stack(x), self.branchpool(x)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, channels_7x7: int):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = ConvBN(cin, 192, kernel_size=1)
        self.branch7x7 = _chain(
            ConvBN(cin, c7, kernel_size=1),
            ConvBN(c7, c7, kernel_size=(7, 1), padding=(3, 0)),
            ConvBN(c7, 192, kernel_size=(1, 7), padding=(0, 3)),
        )
        self.branch7x7stack = _chain(
            ConvBN(cin, c7, kernel_size=1),
            ConvBN(c7, c7, kernel_size=(7, 1), padding=(3, 0)),
            ConvBN(c7, c7, kernel_size=(1, 7), padding=(0, 3)),
            ConvBN(c7, c7, kernel_size=(7, 1), padding=(3, 0)),
            ConvBN(c7, 192, kernel_size=(1, 7), padding=(0, 3)),
        )
        self.branch_pool = _chain(nn.AvgPool2d(3, stride=1, padding=1), ConvBN(cin, 192, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1x1(x), self.branch7x7(x), self.branch7x7stack(x), self.branch_pool(x)], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = _chain(ConvBN(cin, 192, kernel_size=1), ConvBN(192, 320, kernel_size=3, stride=2))
        self.branch7x7 = _chain(
            ConvBN(cin, 192, kernel_size=1),
            ConvBN(192, 192, kernel_size=(1, 7), padding=(0, 3)),
            ConvBN(192, 192, kernel_size=(7, 1), padding=(3, 0)),
            ConvBN(192, 192, kernel_size=3, stride=2),
        )
        self.branchpool = nn.AvgPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch3x3(x), self.branch7x7(x), self.branchpool(x)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch1x1 = ConvBN(cin, 320, kernel_size=1)
        self.branch3x3_1 = ConvBN(cin, 384, kernel_size=1)
        self.branch3x3_2a = ConvBN(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3stack_1 = ConvBN(cin, 448, kernel_size=1)
        self.branch3x3stack_2 = ConvBN(448, 384, kernel_size=3, padding=1)
        self.branch3x3stack_3a = ConvBN(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3stack_3b = ConvBN(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = _chain(nn.AvgPool2d(3, stride=1, padding=1), ConvBN(cin, 192, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3_1(x)
        b = self.branch3x3stack_2(self.branch3x3stack_1(x))
        return torch.cat(
            [
                self.branch1x1(x),
                torch.cat([self.branch3x3_2a(a), self.branch3x3_2b(a)], 1),
                torch.cat([self.branch3x3stack_3a(b), self.branch3x3stack_3b(b)], 1),
                self.branch_pool(x),
            ],
            1,
        )


class CifarInceptionV3(nn.Module):
    """The library's Inception-v3 for 32 px images (stride-1 stem; 32 -> 30 -> 14 -> 6 -> 1)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, kernel_size=3, padding=1)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, kernel_size=3, padding=1)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.linear = nn.Linear(2048, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for name in (
            "Conv2d_1a_3x3",
            "Conv2d_2a_3x3",
            "Conv2d_2b_3x3",
            "Conv2d_3b_1x1",
            "Conv2d_4a_3x3",
            "Mixed_5b",
            "Mixed_5c",
            "Mixed_5d",
            "Mixed_6a",
            "Mixed_6b",
            "Mixed_6c",
            "Mixed_6d",
            "Mixed_6e",
            "Mixed_7a",
            "Mixed_7b",
            "Mixed_7c",
        ):
            x = getattr(self, name)(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)  # the library's dropout is the identity in eval mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


def _cifar_resnet(block, blocks, width_multiplier=1):
    return lambda num_classes: CifarResNet(block, blocks, num_classes, width_multiplier)


CIFAR_ARCHITECTURES = {
    "resnet18": _cifar_resnet(CifarBasicBlock, [2, 2, 2, 2]),
    "resnet18wide": _cifar_resnet(CifarBasicBlock, [2, 2, 2, 2], width_multiplier=5),
    "resnet34": _cifar_resnet(CifarBasicBlock, [3, 4, 6, 3]),
    "resnet50": _cifar_resnet(CifarBottleneck, [3, 4, 6, 3]),
    "resnet101": _cifar_resnet(CifarBottleneck, [3, 4, 23, 3]),
    "resnet152": _cifar_resnet(CifarBottleneck, [3, 8, 36, 3]),
    **{name: partial(CifarVGG, layers) for name, layers in VGG_LAYERS.items()},
    "densenet121": lambda num_classes: CifarDenseNet([6, 12, 24, 16], 32, num_classes),
    "densenet161": lambda num_classes: CifarDenseNet([6, 12, 36, 24], 48, num_classes),
    "densenet169": lambda num_classes: CifarDenseNet([6, 12, 32, 32], 32, num_classes),
    "densenet201": lambda num_classes: CifarDenseNet([6, 12, 48, 32], 32, num_classes),
    "densenet_cifar": lambda num_classes: CifarDenseNet([6, 12, 24, 16], 12, num_classes),
    "inceptionv3": CifarInceptionV3,
}


# ------------------------------------------------------------------ ImageNet
def _leaky(model: nn.Module) -> nn.Module:
    """The library's leaky ResNets are torchvision's with every ReLU leaky (slope 0.01)."""
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.ReLU):
                setattr(parent, name, nn.LeakyReLU(inplace=True))
    return model


def _leaky_resnet(name: str):
    return lambda num_classes: _leaky(_torchvision(name)(num_classes))


def _wide_resnet50(k: int):
    bottleneck = torchvision.models.resnet.Bottleneck
    return lambda num_classes: torchvision.models.resnet.ResNet(
        bottleneck, [3, 4, 6, 3], num_classes=num_classes, width_per_group=64 * k
    )


def _torchvision(name: str):
    return lambda num_classes: torchvision.models.get_model(name, weights=None, num_classes=num_classes)


IMAGENET_ARCHITECTURES = {
    **{
        n: _torchvision(n)
        for n in (
            "resnet18",
            "resnet34",
            "resnet50",
            "resnet101",
            "resnet152",
            "resnext50_32x4d",
            "resnext101_32x8d",
            "wide_resnet50_2",
            "wide_resnet101_2",
            "densenet121",
            "densenet161",
            "densenet169",
            "densenet201",
            "vgg11",
            "vgg11_bn",
            "vgg13",
            "vgg13_bn",
            "vgg16",
            "vgg16_bn",
            "vgg19",
            "vgg19_bn",
            "squeezenet1_0",
            "squeezenet1_1",
            "alexnet",
        )
    },
    **{f"wide_resnet50_{k}": _wide_resnet50(k) for k in (3, 4, 5, 6)},
    **{f"leaky_{n}": _leaky_resnet(n) for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")},
}
# Keys the library names differently from torchvision: its AlexNet's last layer.
IMAGENET_KEY_RENAMES = {"alexnet": {"last_layer.": "classifier.6."}}


def canonical_name(name: str) -> str:
    """The library's lower-case architecture name for one of its names (`ResNet50` -> `resnet50`)."""
    return name.lower()


def build_cifar(name: str, num_classes: int) -> nn.Module:
    return CIFAR_ARCHITECTURES[canonical_name(name)](num_classes)


def build_imagenet(name: str, num_classes: int) -> nn.Module:
    return IMAGENET_ARCHITECTURES[canonical_name(name)](num_classes)


# ------------------------------------------------------------------ names and what a file holds
def parse_name(name: str) -> tuple[str, str]:
    """("cifar" | "imagenet", the library's architecture name) for `cifar_<arch>`, `imagenet_<arch>`
    or a plain `<arch>` (ImageNet, as the library's ImageNet models are the published ones)."""
    lowered = name.lower()
    for prefix, dataset in (("cifar_", "cifar"), ("imagenet_", "imagenet")):
        if lowered.startswith(prefix):
            return dataset, lowered[len(prefix) :]
    return "imagenet", lowered


def known(dataset: str, arch: str) -> bool:
    return arch in (CIFAR_ARCHITECTURES if dataset == "cifar" else IMAGENET_ARCHITECTURES)


def all_names() -> list[str]:
    return [f"cifar_{n}" for n in CIFAR_ARCHITECTURES] + list(IMAGENET_ARCHITECTURES)


def build(dataset: str, arch: str, num_classes: int, base_width: int = 64) -> nn.Module:
    """A library architecture; CIFAR ResNets take the base width of the file (64, or 320 for the wide one)."""
    if dataset == "cifar":
        if arch.startswith("resnet") and base_width != 64:
            block = CifarBottleneck if arch in ("resnet50", "resnet101", "resnet152") else CifarBasicBlock
            blocks = {
                "resnet18": [2, 2, 2, 2],
                "resnet18wide": [2, 2, 2, 2],
                "resnet34": [3, 4, 6, 3],
                "resnet50": [3, 4, 6, 3],
                "resnet101": [3, 4, 23, 3],
                "resnet152": [3, 8, 36, 3],
            }[arch]
            return CifarResNet(block, blocks, num_classes, width_multiplier=base_width / 64)
        return CIFAR_ARCHITECTURES[arch](num_classes)
    return IMAGENET_ARCHITECTURES[arch](num_classes)


def _resnet_name(net: dict, keys: set[str]) -> tuple[str, str]:
    stem = net["conv1.weight"].shape[-1]
    bottleneck = any(".conv3." in k for k in keys)
    blocks = [len({k.split(".")[1] for k in keys if k.startswith(f"layer{i}.")}) for i in range(1, 5)]
    depth = sum(blocks) * (3 if bottleneck else 2) + 2
    head = next((h for h in ("linear", "fc") if f"{h}.weight" in keys), "none")
    width = net["conv1.weight"].shape[0]
    inner = net["layer1.0.conv1.weight"].shape[0]  # a bottleneck's inner width: 64, or 64 * k when wide
    groups = inner // net["layer1.0.conv2.weight"].shape[1]
    cifar = stem == 3
    what = (
        f"a{'' if cifar else 'n'} {'CIFAR' if cifar else 'ImageNet'} ResNet-{depth} "
        f"({'bottleneck' if bottleneck else 'basic'} blocks {'-'.join(map(str, blocks))}, the first "
        f"{inner} channels wide in {groups} group{'s' if groups > 1 else ''}; its first conv is {stem}x{stem} with "
        f"{width} channels and its head is `{head}`)"
    )
    if cifar:
        return what, "cifar_resnet18wide" if depth == 18 and width == 320 else f"cifar_resnet{depth}"
    if not bottleneck:
        return what, f"resnet{depth}"
    if groups > 1:
        return what, f"resnext{depth}_{groups}x{inner // groups}d"
    return what, f"resnet{depth}" if inner == 64 else f"wide_resnet{depth}_{inner // 64}"


def describe(net: dict[str, torch.Tensor]) -> tuple[str, str | None]:
    """What a state dict looks like, in words, and the architecture name that would fit it (or None)."""
    keys = set(net)
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys:
        return _resnet_name(net, keys)
    if "dense1.0.conv1.weight" in keys:
        blocks = [len({k.split(".")[1] for k in keys if k.startswith(f"dense{i}.")}) for i in range(1, 5)]
        growth = net["dense1.0.conv2.weight"].shape[0]
        names = {
            ((6, 12, 24, 16), 32): "densenet121",
            ((6, 12, 36, 24), 48): "densenet161",
            ((6, 12, 32, 32), 32): "densenet169",
            ((6, 12, 48, 32), 32): "densenet201",
            ((6, 12, 24, 16), 12): "densenet_cifar",
        }
        name = names.get((tuple(blocks), growth))
        return (
            f"a CIFAR DenseNet (dense blocks {'-'.join(map(str, blocks))}, growth {growth})",
            f"cifar_{name}" if name else None,
        )
    if any(k.startswith("features.denseblock") for k in keys):
        blocks = [len({k.split(".")[2] for k in keys if k.startswith(f"features.denseblock{i}.")}) for i in range(1, 5)]
        names = {
            (6, 12, 24, 16): "densenet121",
            (6, 12, 36, 24): "densenet161",
            (6, 12, 32, 32): "densenet169",
            (6, 12, 48, 32): "densenet201",
        }
        return f"an ImageNet DenseNet (dense blocks {'-'.join(map(str, blocks))})", names.get(tuple(blocks))
    if "Mixed_5b.branch1x1.conv.weight" in keys:
        return "a CIFAR Inception-v3 (stem Conv2d_1a_3x3, head `linear`)", "cifar_inceptionv3"
    if "features.3.squeeze.weight" in keys:
        version = "1_1" if net["features.0.weight"].shape[-1] == 3 else "1_0"
        return f"an ImageNet SqueezeNet {version.replace('_', '.')}", f"squeezenet{version}"
    if "features.0.weight" in keys:
        convs = [k for k in keys if k.startswith("features.") and k.endswith(".weight") and net[k].ndim == 4]
        bn = any(k.endswith("running_mean") for k in keys if k.startswith("features."))
        if "classifier.weight" in keys and net["classifier.weight"].ndim == 2:
            n = len(convs) + 3  # named for the ImageNet VGG it shrinks, which has three linear layers
            return f"a CIFAR VGG-{n} ({len(convs)} convs and a linear `classifier` head)", f"cifar_vgg{n}"
        if net["features.0.weight"].shape[-1] == 11:
            return "an ImageNet AlexNet (an 11x11 first conv)", "alexnet"
        n = len(convs) + 3
        return (
            f"an ImageNet VGG-{n}{' with batch norm' if bn else ''} ({len(convs)} convs)",
            f"vgg{n}{'_bn' if bn else ''}",
        )
    first = sorted(keys)[:3]
    return f"a network of {len(keys)} tensors ({', '.join(first)}, ...) that is none of the library's", None
