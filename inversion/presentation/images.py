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


def group_grid(
    groups: torch.Tensor,
    column_labels: list[str],
    group_labels: list[str] | None = None,
    groups_per_row: int = 4,
    scale: int = 2,
    title: str = "",
) -> Image.Image:
    """Groups of images side by side, one group per source: `groups` is (N, K, C, H, W) in [-1, 1].

    Each row of groups has `column_labels` over every group's K columns; a group's own label (its
    class, its file name) is written under it; a wide gap with a grey rule separates groups, so a
    reader sees at once which images belong together. Images are enlarged `scale` times.
    """
    n, k = groups.shape[:2]
    tiles = to_uint8(groups.flatten(0, 1).float().cpu()).permute(0, 2, 3, 1).numpy()
    height, width = tiles.shape[1] * scale, tiles.shape[2] * scale
    inner, between, label_h = 2, 16, 14
    group_w = k * width + (k - 1) * inner
    per_row = max(1, min(groups_per_row, n))
    rows = -(-n // per_row)
    top = 16 if title else 2
    row_h = label_h + height + (label_h if group_labels else 4) + 6
    canvas = Image.new("RGB", (per_row * group_w + (per_row - 1) * between + 8, top + rows * row_h), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    if title:
        draw.text((4, 2), title, fill="black", font=font)
    for g in range(n):
        row, col = divmod(g, per_row)
        x0, y0 = 4 + col * (group_w + between), top + row * row_h
        if col > 0:
            rule_x = x0 - between // 2
            draw.line([(rule_x, y0 + 2), (rule_x, y0 + row_h - 6)], fill=(170, 170, 170), width=1)
        for j in range(k):
            tile = tiles[g * k + j]
            image = Image.fromarray(tile[:, :, 0] if tile.shape[2] == 1 else tile).convert("RGB")
            x = x0 + j * (width + inner)
            canvas.paste(image.resize((width, height), Image.NEAREST), (x, y0 + label_h))
            if j < len(column_labels):
                draw.text((x + 1, y0 + 1), _fit(column_labels[j], width, font), fill="black", font=font)
        if group_labels:
            draw.text(
                (x0 + 1, y0 + label_h + height + 1), _fit(group_labels[g], group_w, font), fill="black", font=font
            )
    return canvas


def _fit(text: str, width: int, font) -> str:
    """`text`, shortened with an ellipsis to fit `width` pixels."""
    while text and font.getlength(text) > width:
        text = text[:-2] + "…" if len(text) > 1 else ""
    return text
