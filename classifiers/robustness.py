"""Load checkpoints written by MadryLab's `robustness` library (Engstrom et al. 2019).

The library itself is not used: its PyPI release imports `torchvision.models.utils`, which current
torchvision no longer has, and its loader calls `.cuda()` unconditionally. Its files are simple
enough to read here, on a CPU or a GPU:

- a dict with the state dict under `model` (or `state_dict`), saved with `torch.save(...,
  pickle_module=dill)`;
- keys prefixed `module.model.` (the network; DataParallel's `module.` may be absent), a duplicate
  copy under `module.attacker.model.` (skipped), and `module.normalizer.new_mean` / `new_std`
  buffers, shaped (3, 1, 1), which become the wrapper's mean/std.

Architectures: every one the library ships (`classifiers/robustness_architectures.py`), named as it
names them: `cifar_<arch>` for its CIFAR models (`cifar_resnet50`, `cifar_vgg16`, ...) and `<arch>`
(or `imagenet_<arch>`) for its ImageNet models (`resnet50`, `wide_resnet50_4`, ...). A file that does
not fit the named architecture is described in one line, with the name that would fit it.

Such files are pickles: loading one can execute code stored in it. They are read with
`weights_only=True` first, which executes nothing; a file that needs more is refused unless the
user says it is trusted (`classifier.trust_checkpoint: true` / `--trust-checkpoint`), and the refusal
names the Python object that needed it.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from infra.errors import UserError

from . import robustness_architectures as library
from .wrapper import CIFAR_MEAN, CIFAR_STD, IMAGENET_MEAN, IMAGENET_STD, ClassifierInfo

# Where the logits come from in each family's state dict, to read the class count off the file.
HEAD_KEYS = ("linear.weight", "fc.weight", "classifier.6.weight", "classifier.1.weight", "classifier.weight")


def read_pickle_checkpoint(path: str | Path, trust: bool) -> object:
    """torch.load that executes no code unless `trust` is set."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as safe_err:
        if not trust:
            needed = re.search(r"GLOBAL ([\w.]+)", str(safe_err))
            what = (
                f"the object {needed.group(1)}"
                if needed
                else f"Python objects beyond tensors ({type(safe_err).__name__})"
            )
            raise UserError(
                f"{path} holds {what}; loading it would execute code stored in the file (it is a pickle, as "
                f"robustness-library checkpoints are). If it comes from a source you trust, set "
                f"classifier.trust_checkpoint=true (or pass --trust-checkpoint), and convert it once to safetensors "
                f"with `python -m classifiers.convert`"
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
    """The network of a robustness-library file, as architecture `arch` (see the module docstring)."""
    dataset, name = library.parse_name(arch)
    if not library.known(dataset, name):
        raise UserError(
            f"unknown robustness architecture {arch!r}; the library's are: {', '.join(library.all_names())}"
        )
    net, mean, std = split_robustness_state(read_pickle_checkpoint(path, trust))
    renames = library.IMAGENET_KEY_RENAMES.get(name, {}) if dataset == "imagenet" else {}
    for old, new in renames.items():
        net = {new + k[len(old) :] if k.startswith(old) else k: v for k, v in net.items()}
    head = next((k for k in HEAD_KEYS if k in net), None)
    num_classes = net[head].shape[0] if head else (10 if dataset == "cifar" else 1000)
    base_width = net["conv1.weight"].shape[0] if dataset == "cifar" and "conv1.weight" in net else 64
    model = library.build(dataset, name, num_classes, base_width=base_width)
    try:
        model.load_state_dict(net)
    except RuntimeError as err:
        what, fits = library.describe(net)
        hint = f"; use robustness:{fits}" if fits and fits != (f"cifar_{name}" if dataset == "cifar" else name) else ""
        raise UserError(f"{path} does not fit robustness:{arch}: the file holds {what}{hint}") from err
    cifar = dataset == "cifar"
    info = ClassifierInfo(
        num_classes=num_classes,
        in_channels=3,
        input_size=32 if cifar else 224,
        mean=mean or (CIFAR_MEAN if cifar else IMAGENET_MEAN),
        std=std or (CIFAR_STD if cifar else IMAGENET_STD),
        source=f"robustness:{arch}:{path}",
    )
    return model, info
