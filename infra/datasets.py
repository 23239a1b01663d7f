"""Data sets: what `data.*` in a config names, read into uint8 tensors.

Every data set yields uint8 images (C, H, W) at the configured resolution and integer labels;
`to_model_range` maps them to [-1, 1], the range every network in the project takes. Small data
sets (Fashion-MNIST, CIFAR, synthetic) are held in memory as one tensor, on the training device when
`data.on_device` is set; `imagefolder` (ImageNet included) is read from disk by DataLoader workers.
Batches are drawn by `infra.batches`.
"""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import Dataset
from torchvision.transforms import v2

from .config import at_least, one_of
from .errors import UserError


@dataclass
class DataConfig:
    name: str = "fashion-mnist"  # fashion-mnist | cifar10 | cifar100 | imagefolder | synthetic
    root: str = "data"  # where data sets live (torchvision layout; imagefolder: the class-folder tree)
    resolution: int = 32  # images are brought to resolution x resolution
    hflip: bool = False  # random horizontal flips of training images
    download: bool = True  # let torchvision download a missing data set (needs network)
    num_workers: int = 4  # loader workers for data sets read from disk (imagefolder)
    on_device: bool = True  # keep in-memory data sets on the training device (fast for small data)
    synthetic_size: int = 512  # synthetic: images per split
    synthetic_classes: int = 10  # synthetic: number of classes
    synthetic_channels: int = 3  # synthetic: 1 or 3

    LIMITS: ClassVar[dict] = {
        "name": one_of("fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic"),
        "resolution": at_least(8),
        "num_workers": at_least(0),
        "synthetic_size": at_least(1),
        "synthetic_classes": at_least(2),
        "synthetic_channels": one_of(1, 3),
    }


DATASETS = ("fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic")
FMNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
FMNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FMNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


class TensorImages(Dataset):
    """An in-memory split: uint8 images (N, C, H, W) and int64 labels (N,)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]

    def to(self, device) -> TensorImages:
        return TensorImages(self.images.to(device), self.labels.to(device))


@dataclass
class ImageData:
    train: Dataset
    test: Dataset
    channels: int
    resolution: int
    classes: list[str]
    border: int = 0  # padding added around the data set's native images, in pixels at `resolution`


def split_labels(dataset: Dataset) -> torch.Tensor:
    """A split's labels (N,), read without its images where the split holds them as one tensor."""
    if isinstance(dataset, TensorImages):
        return dataset.labels.cpu()
    return torch.as_tensor([int(y) for _, y in dataset])


def spread_over_classes(labels: torch.Tensor, n: int) -> list[int]:
    """n indices of a split, taken class by class in turn (the first image of each class, then the second, ...),
    so every class is shown about equally often."""
    per_class = [torch.nonzero(labels == c).flatten().tolist() for c in sorted(set(labels.tolist()))]
    picked: list[int] = []
    rank = 0
    while len(picked) < n and any(rank < len(members) for members in per_class):
        picked += [members[rank] for members in per_class if rank < len(members)][: n - len(picked)]
        rank += 1
    return picked


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255]."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _resize_uint8(images: torch.Tensor, resolution: int) -> torch.Tensor:
    if images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    out = F.interpolate(
        images.float(), size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False
    )
    return out.round().clamp(0, 255).to(torch.uint8)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise UserError(f"{path} is truncated ({data.size} of {int(np.prod(dims))} values); fetch it again")
    return data.reshape(dims)


DEFAULT_ROOT = "data"
_said_where: set[Path] = set()


def _fmnist_folders(root: str) -> list[Path]:
    """Where Fashion-MNIST is looked for: under the default root, data/FashionMNIST/raw/ and then the
    system package's copy; under a root the user named, only there (torchvision's layout, or the flat
    files), never another copy in its place."""
    base = Path(root)
    if root == DEFAULT_ROOT:
        return [base / "FashionMNIST" / "raw", FMNIST_SYSTEM_DIR]
    return [base / "FashionMNIST" / "raw", base]


def _find_fmnist_file(folders: list[Path], name: str) -> Path | None:
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _fashion_mnist(cfg: DataConfig) -> ImageData:
    root = Path(cfg.root)
    splits = {}
    for split, (img_name, lbl_name) in FMNIST_FILES.items():
        folders = _fmnist_folders(cfg.root)
        img_path, lbl_path = _find_fmnist_file(folders, img_name), _find_fmnist_file(folders, lbl_name)
        if img_path is None or lbl_path is None:
            if not cfg.download:
                raise UserError(_fmnist_missing(cfg.root, folders))
            try:
                torchvision.datasets.FashionMNIST(str(root), train=split == "train", download=True)
            except Exception as err:  # no network, or the mirror is down
                raise UserError(f"{_fmnist_missing(root)} (torchvision download failed: {err})") from err
            img_path, lbl_path = _find_fmnist_file(folders, img_name), _find_fmnist_file(folders, lbl_name)
        if img_path.parent == FMNIST_SYSTEM_DIR and img_path.parent not in _said_where:
            _said_where.add(img_path.parent)
            print(
                f"Fashion-MNIST: the system copy in {FMNIST_SYSTEM_DIR} (nothing in {root}/FashionMNIST/raw/)",
                file=sys.stderr,
            )
        images = torch.from_numpy(_read_idx(img_path).copy())[:, None]  # N, 1, 28, 28
        # Pad 28 -> 32 with the background value (0), then resize if another resolution is asked for.
        images = _resize_uint8(F.pad(images, (2, 2, 2, 2)), cfg.resolution)
        labels = torch.from_numpy(_read_idx(lbl_path).astype(np.int64))
        splits[split] = TensorImages(images, labels)
    border = round(2 * cfg.resolution / 32)  # the 2 px of padding, scaled with the images
    return ImageData(splits["train"], splits["test"], 1, cfg.resolution, list(FMNIST_CLASSES), border)


def _fmnist_missing(root: str, folders: list[Path]) -> str:
    looked = " or ".join(f"{f}/" for f in folders)
    if root != DEFAULT_ROOT:
        return (
            f"data.root={root} holds no Fashion-MNIST (looked in {looked}): point data.root at the folder that "
            f"holds FashionMNIST/raw/ (or the IDX files themselves), or leave it at its default to use "
            f"{DEFAULT_ROOT}/ or the system copy"
        )
    return (
        f"Fashion-MNIST not found in {looked}. Install it with `apt-get install dataset-fashion-mnist` "
        f"(Debian/Ubuntu), or allow data.download=true on a machine with network access, or set data.root to a "
        f"folder holding FashionMNIST/raw/"
    )


def _cifar(cfg: DataConfig, hundred: bool) -> ImageData:
    cls = torchvision.datasets.CIFAR100 if hundred else torchvision.datasets.CIFAR10
    splits = {}
    for split in ("train", "test"):
        try:
            ds = cls(cfg.root, train=split == "train", download=cfg.download)
        except Exception as err:  # not on disk (RuntimeError), or the download failed (URLError, timeouts)
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UserError(
                f"{cls.__name__} not found under {cfg.root} ({type(err).__name__}: {reason}); set data.root to the "
                f"folder that holds it, or allow data.download=true on a machine with network access"
            ) from err
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        splits[split] = TensorImages(_resize_uint8(images, cfg.resolution), torch.tensor(ds.targets, dtype=torch.int64))
    return ImageData(splits["train"], splits["test"], 3, cfg.resolution, list(ds.classes))


class _FolderImages(Dataset):
    """torchvision ImageFolder returning uint8 tensors: shorter side resized, then centre-cropped."""

    def __init__(self, root: Path, resolution: int):
        transform = v2.Compose([v2.PILToTensor(), v2.Resize(resolution, antialias=True), v2.CenterCrop(resolution)])
        self.folder = torchvision.datasets.ImageFolder(str(root), transform=transform)

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, i):
        image, label = self.folder[i]
        if image.shape[0] == 1:
            image = image.expand(3, -1, -1)
        return image[:3], label


def _imagefolder(cfg: DataConfig) -> ImageData:
    root = Path(cfg.root)
    if not root.is_dir():
        raise UserError(f"image folder {root} does not exist (data.root); it must hold one sub-folder per class")
    train_dir = root / "train" if (root / "train").is_dir() else root
    test_dir = next((root / d for d in ("val", "test") if (root / d).is_dir()), train_dir)
    try:
        train, test = _FolderImages(train_dir, cfg.resolution), _FolderImages(test_dir, cfg.resolution)
    except (FileNotFoundError, RuntimeError) as err:
        raise UserError(f"cannot read image folder {root}: {err}") from err
    return ImageData(train, test, 3, cfg.resolution, train.folder.classes)


def _synthetic(cfg: DataConfig) -> ImageData:
    """Class-dependent patterns plus noise: each class has its own colour and stripe frequency, so a
    classifier can learn it in seconds and an inverter has something to recover."""
    g = torch.Generator().manual_seed(1234)
    res, c, k = cfg.resolution, cfg.synthetic_channels, cfg.synthetic_classes
    if c not in (1, 3):
        raise UserError(f"data.synthetic_channels must be 1 or 3, got {c}")
    colours = torch.rand(k, c, 1, 1, generator=g) * 0.8 + 0.1
    coords = torch.linspace(0, 1, res)
    splits = {}
    for split in ("train", "test"):
        n = cfg.synthetic_size
        labels = torch.randint(0, k, (n,), generator=g)
        phase = torch.rand(n, 1, 1, 1, generator=g) * 6.28
        freq = (labels.float() + 1).view(n, 1, 1, 1) * 3.14
        stripes = torch.sin(freq * coords.view(1, 1, 1, res) + phase) * 0.5 + 0.5
        stripes = stripes.expand(n, 1, res, res) * coords.view(1, 1, res, 1).flip(-2).clamp(min=0.3)
        img = colours[labels] * (0.4 + 0.6 * stripes) + 0.05 * torch.randn(n, c, res, res, generator=g)
        splits[split] = TensorImages((img.clamp(0, 1) * 255).round().to(torch.uint8), labels)
    return ImageData(splits["train"], splits["test"], c, res, [f"class{i}" for i in range(k)])


def load_data(cfg: DataConfig) -> ImageData:
    if cfg.name == "fashion-mnist":
        return _fashion_mnist(cfg)
    if cfg.name in ("cifar10", "cifar100"):
        return _cifar(cfg, hundred=cfg.name == "cifar100")
    if cfg.name == "imagefolder":
        return _imagefolder(cfg)
    if cfg.name == "synthetic":
        return _synthetic(cfg)
    raise UserError(f"unknown data set {cfg.name!r} (data.name); choose one of {', '.join(DATASETS)}")
