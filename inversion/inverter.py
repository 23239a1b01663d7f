"""The inverter as a user holds it: a trained EMA generator plus the frozen classifier it inverts.

    from inversion import Inverter
    inv = Inverter.load("checkpoints/fmnist/inverter-robust.safetensors")  # or a run folder
    recon = inv.reconstruct(images)      # images in [-1, 1], (N, C, H, W) at the data resolution
    recon = inv.reconstruct(images, noise="random", seed=1)
    images = inv.generate(edited_logits)  # from logits directly (raw, as the classifier outputs them)

An inverter trained on another output model (`classifier.output`: softmax, top-k, rounded, label; see
classifiers/outputs.py) is given that output everywhere: `logits(images)` returns it and `generate`
takes it, so the name "logits" then means "what the classifier's API returns".

Images and logits may be torch tensors or numpy arrays. Images that look like [0, 1] (no negative
value at all, some positive) draw a warning: the networks take [-1, 1].
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from classifiers import FrozenClassifier, load_classifier
from classifiers.outputs import parse_output
from infra.config import from_dict
from infra.devices import default_device
from infra.errors import UserError

from .config import Config
from .model import Generator, build_generator
from .model.retrieval import RetrievalGenerator
from .snapshot import load_snapshot


def find_classifier(checkpoint: str, snapshot: Path, meta: dict) -> str:
    """The classifier file as the config names it; else where it was when the run was trained (the run
    was trained from another working folder); else beside the snapshot (shipped together)."""
    if not checkpoint or Path(checkpoint).exists():
        return checkpoint
    absolute = meta.get("classifier_checkpoint_absolute")
    if absolute and Path(absolute).exists():
        return absolute
    beside = (snapshot if snapshot.is_dir() else snapshot.parent) / Path(checkpoint).name
    if beside.exists():
        return str(beside)
    kind = meta["config"]["classifier"].get("name", "project")
    raise UserError(
        f"{snapshot} inverts the classifier {checkpoint}, which is neither there nor beside the snapshot "
        f"({beside}). Copy it beside the snapshot, or pass it: Inverter.load(path, classifier="
        f"load_classifier(ClassifierConfig(name={kind!r}, checkpoint=FILE), data_channels={meta['channels']})), "
        f"with load_classifier and ClassifierConfig from classifiers"
    )


def _tensor(values, what: str) -> torch.Tensor:
    """A tensor of `values` (a tensor or a numpy array), float64 turned into float32 (numpy's default dtype
    is not the networks'); non-finite values refused."""
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(values)
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor or a numpy array, got {type(values).__name__}")
    if values.is_complex() or values.dtype == torch.bool:
        raise ValueError(f"{what} must be real numbers, got {values.dtype}")
    if values.dtype == torch.float64:
        values = values.float()
    if values.is_floating_point() and values.numel() and not bool(torch.isfinite(values).all()):
        bad = int((~torch.isfinite(values)).sum())
        raise ValueError(f"{what} hold {bad} NaN or infinite values; every value must be finite")
    return values


def _batch_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


class Inverter:
    def __init__(self, generator: Generator, classifier: FrozenClassifier | None, meta: dict):
        self.generator = generator.eval()
        self.classifier = classifier
        self.meta = meta
        self.config: Config = from_dict(Config, meta["config"])

    @property
    def device(self) -> torch.device:
        return next(iter([*self.generator.parameters(), *self.generator.buffers()])).device

    @property
    def resolution(self) -> int:
        return self.meta["resolution"]

    @property
    def channels(self) -> int:
        return self.meta["channels"]

    @property
    def num_classes(self) -> int:
        return self.meta["num_classes"]

    @classmethod
    def load(
        cls, path: str | Path, device: str | torch.device | None = None, classifier: FrozenClassifier | bool = True
    ) -> Inverter:
        """Load a snapshot. `classifier`: True loads the one it was trained against (as its config names
        it), False loads none (then only `generate` works), or pass a FrozenClassifier to use."""
        device = default_device(device)
        state, meta = load_snapshot(Path(path))
        try:
            cfg = from_dict(Config, meta["config"])
            if meta.get("kind") == "retrieval":
                G = RetrievalGenerator.from_state(state, k=meta["retrieval"]["k"])
            else:
                G = build_generator(cfg.model, meta["num_classes"], meta["resolution"], meta["channels"])
                G.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            # A snapshot whose metadata was edited (or whose weights were swapped) no longer describes
            # its weights: say so in one line rather than with a size-mismatch traceback.
            reason = " ".join(str(err).split())[:160]
            raise UserError(
                f"snapshot {path} is inconsistent: its metadata does not describe its weights ({type(err).__name__}: "
                f"{reason}); rebuild it from its run's checkpoint with `train.py --resume RUN`"
            ) from err
        if classifier is True:
            cfg.classifier.checkpoint = find_classifier(cfg.classifier.checkpoint, Path(path), meta)
            classifier = load_classifier(cfg.classifier, meta["channels"], device)
        elif classifier is False:
            classifier = None
        elif classifier.output != parse_output(cfg.classifier.output):
            # A classifier passed in sees images through the output model the inverter was trained on.
            classifier = FrozenClassifier(classifier.model, classifier.info, parse_output(cfg.classifier.output))
        if classifier is not None and classifier.num_classes != meta["num_classes"]:
            raise UserError(
                f"the classifier has {classifier.num_classes} classes but the inverter was trained "
                f"on {meta['num_classes']} logits"
            )
        return cls(G.to(device), classifier.to(device) if classifier is not None else None, meta)

    @property
    def kind(self) -> str:
        """ "gan" for trained inverters, "decoder" for the pixel-loss baseline and "retrieval" for the
        nearest-neighbour reference (both ignore noise)."""
        return self.meta.get("kind", "gan")

    def _noise(self, n: int, noise, seed: int | None) -> torch.Tensor:
        dim = self.generator.dim_noise
        # The pixel-loss decoder is used at noise 0 only: its loss taught it to ignore the noise.
        if noise is None or (isinstance(noise, str) and noise == "zero") or self.kind in ("decoder", "retrieval"):
            return torch.zeros(n, dim, device=self.device)
        if isinstance(noise, str) and noise == "random":
            g = torch.Generator().manual_seed(seed if seed is not None else 0)
            return torch.randn(n, dim, generator=g).to(self.device)
        if isinstance(noise, torch.Tensor):
            if noise.shape != (n, dim):
                raise ValueError(f"noise must have shape ({n}, {dim}), got {tuple(noise.shape)}")
            return noise.to(self.device)
        raise ValueError(f"noise must be None/'zero', 'random' or a tensor, got {noise!r}")

    @property
    def output(self) -> str:
        """The output model the inverter was trained on ("logits" unless set; see classifiers/outputs.py)."""
        return parse_output(self.config.classifier.output).spec

    @torch.no_grad()
    def logits(self, images: torch.Tensor | np.ndarray, batch_size: int = 256) -> torch.Tensor:
        """What the inverter is given for images in [-1, 1]: the classifier's raw logits, or the output
        its output model returns (softmax, top-k, ...) when the inverter was trained on one."""
        if self.classifier is None:
            raise UserError("this Inverter was loaded without its classifier; use generate(logits) or load it with one")
        images = _tensor(images, "images")
        self._check_images(images)
        return torch.cat([self.classifier(b.to(self.device)).float() for b in images.split(_batch_size(batch_size))])

    @torch.no_grad()
    def generate(
        self, logits: torch.Tensor | np.ndarray, noise=None, seed: int | None = None, batch_size: int = 256
    ) -> torch.Tensor:
        """Images in [-1, 1] from raw logits (N, num_classes), or from the outputs of the inverter's output
        model when it has one (see `logits`). noise: None/'zero' (default, the
        deterministic reconstruction), 'random' (drawn with `seed`), or an (N, dim_noise) tensor."""
        logits = _tensor(logits, "logits")
        if logits.ndim != 2 or logits.shape[1] != self.num_classes or logits.shape[0] == 0:
            raise ValueError(f"logits must have shape (N, {self.num_classes}) with N >= 1, got {tuple(logits.shape)}")
        batch_size = _batch_size(batch_size)
        noise = self._noise(logits.shape[0], noise, seed)
        out = [
            self.generator(n, z.to(self.device).float())
            for n, z in zip(noise.split(batch_size), logits.split(batch_size))
        ]
        return torch.cat(out)

    def reconstruct(
        self, images: torch.Tensor | np.ndarray, noise=None, seed: int | None = None, batch_size: int = 256
    ) -> torch.Tensor:
        """G(phi(x)): reconstructions of images in [-1, 1], (N, C, H, W) at the data resolution."""
        return self.generate(self.logits(images, batch_size), noise=noise, seed=seed, batch_size=batch_size)

    def _check_images(self, images: torch.Tensor) -> None:
        expected = (self.channels, self.resolution, self.resolution)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"images must have shape (N, {expected[0]}, {expected[1]}, {expected[2]}) in [-1, 1], got "
                f"{tuple(images.shape)}"
                + (
                    " (Fashion-MNIST's 28 px images are padded to 32 px by the data "
                    "loader: pad 2 px on each side with -1)"
                    if images.shape[-1] == 28
                    else ""
                )
            )
        if len(images) == 0:
            raise ValueError("images is an empty batch: pass at least one image")
        if images.dtype == torch.uint8:
            raise ValueError("images must be float in [-1, 1], not uint8 (use infra.datasets.to_model_range)")
        low, high = float(images.min()), float(images.max())
        if low < -1.01 or high > 1.01:
            raise ValueError(
                f"images must be in [-1, 1], got values from {low:g} to {high:g} (for 0..255 images use "
                f"infra.datasets.to_model_range)"
            )
        if len(images) and float(images.min()) >= 0 and float(images.max()) > 0:
            warnings.warn(
                "the images have no negative value: they look like [0, 1], but the inverter takes [-1, 1] "
                "(use x * 2 - 1, or infra.datasets.to_model_range for uint8 images)",
                stacklevel=2,
            )
