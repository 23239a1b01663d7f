"""Load checkpoints written by MadryLab's `robustness` library (Engstrom et al. 2019).

The library itself is not used: its PyPI release imports `torchvision.models.utils`, which current
torchvision no longer has, and its loader calls `.cuda()` unconditionally. Its files are simple
enough to read here, on a CPU or a GPU:

- a dict with the state dict under `model` (or `state_dict`), saved with `torch.save(...,
  pickle_module=dill)`;
- keys prefixed `module.model.` (the network; DataParallel's `module.` may be absent), a duplicate
  copy under `module.attacker.model.` (skipped), and `module.normalizer.new_mean` / `new_std`
  buffers, shaped (3, 1, 1), which become the wrapper's mean/std.

Architectures: `cifar_resnet18` (this project's CIFAR ResNet-18, whose module names match the
library's) and the ImageNet models, which are torchvision's (`resnet18`, `resnet50`,
`wide_resnet50_2`, ...).

Such files are pickles: loading one can execute code stored in it. They are read with
`weights_only=True` first, which executes nothing; a file that needs more is refused unless the
user says it is trusted (`classifier.trust_checkpoint: true` / `--trust-checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

from infra.errors import UserError

from .architectures import ResNet18
from .wrapper import CIFAR_MEAN, CIFAR_STD, IMAGENET_MEAN, IMAGENET_STD, ClassifierInfo

CIFAR_ARCHS = {"cifar_resnet18"}


def read_pickle_checkpoint(path: str | Path, trust: bool) -> object:
    """torch.load that executes no code unless `trust` is set."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as safe_err:
        if not trust:
            raise UserError(
                f"{path} holds Python objects beyond tensors ({type(safe_err).__name__}); loading it would execute "
                f"code stored in the file (it is a pickle, as robustness-library checkpoints are). If it comes from a "
                f"source you trust, set classifier.trust_checkpoint=true (or pass --trust-checkpoint), and convert it "
                f"once to safetensors with `python -m classifiers.convert`"
            ) from safe_err
    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except ModuleNotFoundError as err:
        raise UserError(
            f"{path} needs the module {err.name!r} to unpickle (robustness saves with dill): pip install {err.name}"
        ) from err
    except Exception as err:
        raise UserError(f"{path} cannot be read ({type(err).__name__}: {err}); it may be truncated") from err


def split_robustness_state(checkpoint: object) -> tuple[dict, list[float] | None, list[float] | None]:
    """The network's state dict (prefixes removed) and the normaliser's mean/std, if present."""
    state = checkpoint
    if isinstance(state, dict):
        for key in ("model", "state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError("no state dict found under 'model' or 'state_dict' in the checkpoint")
    net, mean, std = {}, None, None
    for key, value in state.items():
        key = key[len("module.") :] if key.startswith("module.") else key
        if key.startswith("attacker."):
            continue  # the attacker's copy of the same network
        if key == "normalizer.new_mean":
            mean = value.flatten().tolist()
        elif key == "normalizer.new_std":
            std = value.flatten().tolist()
        elif key.startswith("model."):
            net[key[len("model.") :]] = value
    if not net:
        raise UserError("the checkpoint has no 'module.model.*' or 'model.*' weights: not a robustness-library file")
    return net, mean, std


def load_robustness(arch: str, path: str | Path, trust: bool = False) -> tuple[torch.nn.Module, ClassifierInfo]:
    net, mean, std = split_robustness_state(read_pickle_checkpoint(path, trust))
    if arch in CIFAR_ARCHS:
        num_classes = net["linear.weight"].shape[0] if "linear.weight" in net else 10
        model = ResNet18(num_classes=num_classes, in_channels=3, width=net["conv1.weight"].shape[0])
        default_mean, default_std, size = CIFAR_MEAN, CIFAR_STD, 32
    else:
        num_classes = net["fc.weight"].shape[0] if "fc.weight" in net else 1000
        try:
            model = torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
        except ValueError as err:
            raise UserError(
                f"unknown robustness architecture {arch!r}: use cifar_resnet18 or a torchvision "
                f"ImageNet model name (resnet50, wide_resnet50_2, ...)"
            ) from err
        default_mean, default_std, size = IMAGENET_MEAN, IMAGENET_STD, 224
    try:
        model.load_state_dict(net)
    except RuntimeError as err:
        raise UserError(f"{path} does not fit robustness:{arch}: {err}") from err
    info = ClassifierInfo(
        num_classes=num_classes,
        in_channels=3,
        input_size=size,
        mean=mean or default_mean,
        std=std or default_std,
        source=f"robustness:{arch}:{path}",
    )
    return model, info
