"""Pictures a person can open: reconstruction grids (each source image followed by its
reconstructions) and captioned image tables, written as PNG."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.utils import make_grid

from infra.datasets import to_uint8


def reconstruction_grid(
    originals: torch.Tensor, reconstructions: list[torch.Tensor], groups_per_row: int = 4
) -> torch.Tensor:
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


def table_grid(
    cells: torch.Tensor,
    title: str = "",
    col_labels: list[str] | None = None,
    row_labels: list[str] | None = None,
    scale: int = 2,
) -> Image.Image:
    """A captioned image table: `cells` is (rows, cols, C, H, W) in [-1, 1]; text above and beside it.

    Images are enlarged `scale` times (nearest neighbour) so that small images stay readable.
    """
    rows, cols = cells.shape[:2]
    grid = make_grid(cells.flatten(0, 1).float().cpu(), nrow=cols, padding=2, pad_value=1.0)
    body = Image.fromarray(to_uint8(grid).permute(1, 2, 0).numpy())
    body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
    font = ImageFont.load_default()
    left = 8 + max((int(font.getlength(t)) for t in row_labels or [""]), default=0)
    top = (14 if title else 0) + (14 if col_labels else 0) + 4
    canvas = Image.new("RGB", (left + body.width + 4, top + body.height + 4), "white")
    canvas.paste(body, (left, top))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 2), title, fill="black", font=font)
    cell_w, cell_h = body.width / cols, body.height / rows
    for j, label in enumerate(col_labels or []):
        draw.text((left + j * cell_w + 2, top - 14), label, fill="black", font=font)
    for i, label in enumerate(row_labels or []):
        draw.text((2, top + i * cell_h + cell_h / 2 - 5), label, fill="black", font=font)
    return canvas
