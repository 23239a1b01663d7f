"""Batches: a resumable training stream, and ordered passes for evaluation.

`BatchStream` draws batches in an order fixed by (seed, epoch) alone, each process taking its own
share, and its position is part of the training state: a resumed run sees exactly the batches the
uninterrupted run would have seen. `eval_batches` walks a split (or chosen indices) in order.
Both yield images in [-1, 1] on the requested device.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from .datasets import DataConfig, TensorImages, to_model_range
from .errors import UserError


class BatchStream:
    """Endless, resumable batches of (images in [-1, 1], labels) for one process.

    Epoch e uses the permutation drawn from `seed + e`; process r of w takes every w-th index and
    the tail that does not fill a batch on every process is dropped, so all processes run the same
    number of steps. Flips are drawn from a generator seeded by (seed, epoch, batch), so they too
    are the same after a resume.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        device,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
        hflip: bool = False,
        num_workers: int = 0,
    ):
        self.dataset, self.batch_size, self.device = dataset, batch_size, torch.device(device)
        self.seed, self.rank, self.world, self.hflip, self.num_workers = seed, rank, world, hflip, num_workers
        self.batches_per_epoch = len(dataset) // (batch_size * world)
        if self.batches_per_epoch == 0:
            raise UserError(
                f"the training split has {len(dataset)} images, fewer than one batch of {batch_size} per process "
                f"x {world} processes; lower train.batch_size"
            )
        self.epoch, self.batch = 0, 0
        self._iter = None

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self._iter = None

    def _epoch_batches(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        perm = torch.randperm(len(self.dataset), generator=g)
        usable = self.batches_per_epoch * self.batch_size * self.world
        return perm[:usable][self.rank :: self.world].view(self.batches_per_epoch, self.batch_size)

    def _flips(self, first: int) -> torch.Tensor:
        """The flip of every image of batches `first` ... of this epoch, each batch's drawn from a
        generator seeded by (seed, epoch, batch, rank), so a resumed run flips the same images."""
        masks = []
        for batch in range(first, self.batches_per_epoch):
            g = torch.Generator().manual_seed(
                (((self.seed * 1_000_003 + self.epoch) * 1_000_003 + batch) * 64 + self.rank) % 2**63
            )
            masks.append(torch.rand(self.batch_size, generator=g) < 0.5)
        return torch.stack(masks)

    def _start_epoch(self):
        batches = self._epoch_batches()[self.batch :]
        # The epoch's indices and flips go to the device once, at its start: a training step then only
        # slices tensors already there, with no synchronising copy from host memory per batch.
        flips = self._flips(self.batch).to(self.device) if self.hflip else [None] * len(batches)
        if isinstance(self.dataset, TensorImages):
            images, labels = self.dataset.images, self.dataset.labels
            batches = batches.to(images.device)
            return ((images[idx], labels[idx], flip) for idx, flip in zip(batches, flips))
        loader = DataLoader(
            self.dataset,
            batch_sampler=batches.tolist(),
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        return ((images, labels, flip) for (images, labels), flip in zip(loader, flips))

    def __iter__(self):
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.batch >= self.batches_per_epoch:
            self.epoch, self.batch, self._iter = self.epoch + 1, 0, None
        if self._iter is None:
            self._iter = self._start_epoch()
        images, labels, flip = next(self._iter)
        images = to_model_range(images.to(self.device, non_blocking=True))
        labels = labels.to(self.device, non_blocking=True)
        if flip is not None:
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        self.batch += 1
        return images, labels


def training_stream(dataset: Dataset, data_cfg: DataConfig, batch_size: int, seed: int, accelerator) -> BatchStream:
    """This process's stream of training batches on the accelerator's device, with the split held on
    that device when `data.on_device` is set (the stream's `dataset` is then that copy)."""
    if data_cfg.on_device and hasattr(dataset, "to"):
        dataset = dataset.to(accelerator.device)
    return BatchStream(
        dataset,
        batch_size,
        accelerator.device,
        seed=seed,
        rank=accelerator.process_index,
        world=accelerator.num_processes,
        hflip=data_cfg.hflip,
        num_workers=data_cfg.num_workers,
    )


def eval_batches(dataset: Dataset, batch_size: int, device, indices=None, num_workers: int = 0):
    """Batches of (images in [-1, 1], labels) over `indices` (default: the whole split) in order."""
    indices = torch.arange(len(dataset)) if indices is None else torch.as_tensor(indices)
    if isinstance(dataset, TensorImages):
        for chunk in indices.split(batch_size):
            chunk = chunk.to(dataset.images.device)
            yield to_model_range(dataset.images[chunk].to(device)), dataset.labels[chunk].to(device)
        return
    subset = torch.utils.data.Subset(dataset, indices.tolist())
    for images, labels in DataLoader(subset, batch_size=batch_size, num_workers=num_workers):
        yield to_model_range(images.to(device)), labels.to(device)
