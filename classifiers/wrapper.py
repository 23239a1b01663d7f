"""The frozen classifier phi as the rest of the project sees it.

`FrozenClassifier` takes images in [-1, 1] at the data set's resolution and channel count, and
does whatever its network needs: grey <-> RGB, resizing to the network's input size, and its own
mean/std normalisation. Its weights never train and it stays in eval mode (`.train()` is a no-op),
so batch statistics of generated images can never leak into it. Gradients still flow to the
*input*, which the logit-consistency ablation and attacks need; call it under `torch.no_grad()`
when only the logits are wanted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .outputs import LOGITS, OutputModel

# Input normalisation (mean, std per RGB channel) of the usual pretrained networks, for loaders whose
# files do not record their own.
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]


@dataclass
class ClassifierInfo:
    """What the wrapper needs to know about a network's input, and where the network came from."""

    num_classes: int
    in_channels: int
    input_size: int | None  # None: use images at the data resolution
    mean: list[float]
    std: list[float]
    source: str = ""
    classes: list[str] = field(default_factory=list)


class FrozenClassifier(nn.Module):
    """`forward` returns what the classifier's output model exposes (raw logits unless `output` says
    otherwise: softmax, top-k, rounded, label; see outputs.py); `logits` always the raw logits."""

    def __init__(self, model: nn.Module, info: ClassifierInfo, output: OutputModel = LOGITS):
        super().__init__()
        self.model = model
        self.info = info
        self.output = output
        self.register_buffer("mean", torch.tensor(info.mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(info.std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.model.eval().requires_grad_(False)
        super().train(False)

    @property
    def num_classes(self) -> int:
        return self.info.num_classes

    def train(self, mode: bool = True) -> FrozenClassifier:
        return self  # always frozen in eval mode

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images at data resolution -> the network's normalised input."""
        x = (images + 1) / 2
        if x.shape[1] == 1 and self.info.in_channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 3 and self.info.in_channels == 1:
            x = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        size = self.info.input_size
        if size is not None and (x.shape[-1] != size or x.shape[-2] != size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=size < x.shape[-1])
        return (x - self.mean) / self.std

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """The network's raw logits (what attacks differentiate), whatever the output model."""
        return self.model(self.preprocess(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """What the output model exposes; the one place it is applied."""
        return self.output(self.logits(images))

    def stages(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Per-stage activations, then the pooled features, for this project's architectures (see
        classifiers/architectures.py)."""
        return self.model.stages(self.preprocess(images))

    @property
    def has_spatial_stages(self) -> bool:
        """Whether `spatial_stages` can read this network: this project's architectures and timm's."""
        return hasattr(self.model, "stages") or hasattr(self.model, "forward_intermediates")

    def spatial_stages(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps at the end of each stage (N, C, H, W each), shallow to deep: this project's
        architectures' `stages` without the pooled vector, or timm's `forward_intermediates`."""
        x = self.preprocess(images)
        if hasattr(self.model, "stages"):
            return [s for s in self.model.stages(x) if s.dim() == 4]
        if hasattr(self.model, "forward_intermediates"):
            return list(self.model.forward_intermediates(x, intermediates_only=True))
        raise TypeError(f"{type(self.model).__name__} exposes no stage activations")

    def features_and_output(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`features(images)` and `self(images)`, from one pass through the network's body where it exposes
        its head (this project's architectures: `classify`; timm's: `forward_head`), else from two."""
        x = self.preprocess(images)
        if hasattr(self.model, "features") and hasattr(self.model, "classify"):
            features = self.model.features(x)
            return features, self.output(self.model.classify(features))
        if hasattr(self.model, "forward_features") and hasattr(self.model, "forward_head"):
            body = self.model.forward_features(x)
            return self.model.forward_head(body, pre_logits=True), self.output(self.model.forward_head(body))
        return self.features(images), self(images)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features, for networks that expose them (this project's architectures, timm)."""
        x = self.preprocess(images)
        if hasattr(self.model, "features"):
            return self.model.features(x)
        if hasattr(self.model, "forward_features") and hasattr(self.model, "forward_head"):
            return self.model.forward_head(self.model.forward_features(x), pre_logits=True)
        raise TypeError(f"{type(self.model).__name__} exposes no penultimate features")
