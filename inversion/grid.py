"""Image grids a person can open: each source image followed by its reconstructions."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torchvision.utils import make_grid

from .data import to_uint8


def reconstruction_grid(originals: torch.Tensor, reconstructions: list[torch.Tensor], groups_per_row: int = 4) -> torch.Tensor:
    """uint8 (C, H, W) grid of [original | recon 1 | recon 2 | ...] groups, `groups_per_row` groups per row.

    All inputs are (N, C, H, W) in [-1, 1]; a one-pixel light line separates images.
    """
    cols = [originals] + list(reconstructions)
    tiles = torch.stack(cols, dim=1).flatten(0, 1)  # n * (1 + k), C, H, W, grouped per source
    grid = make_grid(tiles.float().cpu(), nrow=len(cols) * groups_per_row, padding=1, pad_value=0.6)
    return to_uint8(grid)


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """Write a uint8 (C, H, W) tensor as PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = image.permute(1, 2, 0).cpu().numpy()
    Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(path)
    return path
