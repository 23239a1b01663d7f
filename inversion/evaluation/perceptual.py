"""LPIPS (Zhang et al. 2018) through the `lpips` package, only with real backbone weights.

`lpips` ships its learned linear layers but takes the AlexNet backbone from torchvision's
pretrained weights, which cannot be downloaded everywhere. `lpips_model(path)` builds LPIPS with the
backbone read from a local torchvision AlexNet state dict (`alexnet-owt-7be5be79.pth`, as
torchvision caches it). Without such a file the metric is reported as unavailable: a number from a
random backbone is never reported under LPIPS's name.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torchvision

from infra.errors import UserError
from infra.optional import require


def default_alexnet_weights() -> Path | None:
    """torchvision's cached AlexNet weights, if present."""
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(cache.glob("alexnet-*.pth")) if cache.is_dir() else []
    return found[0] if found else None


def lpips_model(alexnet_weights: str | Path | None, device="cpu"):
    """LPIPS-Alex with the backbone loaded from `alexnet_weights`, or None when no weights are given."""
    if alexnet_weights is None:
        return None
    path = Path(alexnet_weights)
    if not path.is_file():
        raise UserError(f"AlexNet weights {path} do not exist (--lpips-weights)")
    lpips = require("lpips", "LPIPS")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lpips passes torchvision's deprecated `pretrained=` argument
        model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)
    alexnet = torchvision.models.alexnet(weights=None)
    try:
        alexnet.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    except Exception as err:
        raise UserError(f"{path} is not a torchvision AlexNet state dict: {err}") from err
    for slice_ in (model.net.slice1, model.net.slice2, model.net.slice3, model.net.slice4, model.net.slice5):
        for index, module in slice_.named_children():
            module.load_state_dict(alexnet.features[int(index)].state_dict())
    return model.eval().requires_grad_(False).to(device)


@torch.no_grad()
def lpips_distance(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image LPIPS of [-1, 1] images (grey ones repeated to RGB)."""
    if x.shape[1] == 1:
        x, y = x.expand(-1, 3, -1, -1), y.expand(-1, 3, -1, -1)
    return model(x.float(), y.float()).flatten()
