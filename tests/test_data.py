import gzip

import numpy as np
import pytest
import torch

import infra.datasets as data_module
from infra.batches import BatchStream
from infra.datasets import DataConfig, TensorImages, load_data, to_model_range, to_uint8


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reader_pads_to_32(tmp_path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("t10k", 4)):
        _write_idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(1, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setattr(data_module, "FMNIST_SYSTEM_DIR", tmp_path / "nowhere")
    data = load_data(DataConfig(name="fashion-mnist", root=str(tmp_path), download=False))
    assert data.channels == 1 and len(data.classes) == 10
    assert data.train.images.shape == (6, 1, 32, 32) and data.test.images.shape == (4, 1, 32, 32)
    assert data.train.images[:, :, :2].sum() == 0 and data.train.images[:, :, 2:30, 2:30].min() >= 1
    assert data.test.labels.tolist() == [0, 1, 2, 3]


def test_truncated_idx_file_is_reported(tmp_path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 10
    )
    _write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(5))
    monkeypatch.setattr(data_module, "FMNIST_SYSTEM_DIR", tmp_path / "nowhere")
    with pytest.raises(data_module.UserError, match="truncated"):
        load_data(DataConfig(name="fashion-mnist", root=str(tmp_path), download=False))


@pytest.mark.skipif(not data_module.FMNIST_SYSTEM_DIR.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_the_system_package_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no data/ here: the default root falls back to the system copy, and says so
    monkeypatch.setattr(data_module, "_said_where", set())
    data = load_data(DataConfig(name="fashion-mnist", download=False))
    assert len(data.train) == 60000 and len(data.test) == 10000
    assert data.train.images.shape[1:] == (1, 32, 32) and data.train.labels.bincount().tolist() == [6000] * 10
    assert f"Fashion-MNIST: the system copy in {data_module.FMNIST_SYSTEM_DIR}" in capsys.readouterr().err
    # A root that names the flat files themselves works too.
    assert len(load_data(DataConfig(name="fashion-mnist", root=str(data_module.FMNIST_SYSTEM_DIR))).test) == 10000


def test_a_data_root_without_the_data_set_is_an_error_not_another_copy(tmp_path):
    with pytest.raises(data_module.UserError, match=f"data.root={tmp_path} holds no Fashion-MNIST"):
        load_data(DataConfig(name="fashion-mnist", root=str(tmp_path), download=False))


def test_synthetic_data_and_ranges():
    data = load_data(DataConfig(name="synthetic", synthetic_size=20, synthetic_channels=1, resolution=64))
    assert data.train.images.shape == (20, 1, 64, 64) and data.train.images.dtype == torch.uint8
    x = to_model_range(data.train.images)
    assert torch.equal(to_uint8(x), data.train.images)
    pixels = to_model_range(torch.tensor([0, 51, 255], dtype=torch.uint8))
    torch.testing.assert_close(pixels, torch.tensor([-1.0, -0.6, 1.0]))  # v / 127.5 - 1


def test_unknown_data_set():
    with pytest.raises(data_module.UserError, match="choose one of fashion-mnist, cifar10"):
        load_data(DataConfig(name="mnist"))


def test_imagefolder_resizes_and_crops(tmp_path):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((40, 60, 3), 100 * i, dtype=np.uint8)).save(tmp_path / "train" / cls / f"{i}.png")
    data = load_data(DataConfig(name="imagefolder", root=str(tmp_path), resolution=32))
    image, label = data.train[3]
    assert image.shape == (3, 32, 32) and image.dtype == torch.uint8 and label == 1
    assert data.classes == ["cat", "dog"]


def _labels(stream, n):
    return [next(stream)[1].tolist() for _ in range(n)]


def test_batch_stream_is_resumable_and_sharded():
    ds = TensorImages(torch.zeros(10, 1, 4, 4, dtype=torch.uint8), torch.arange(10))
    a = BatchStream(ds, batch_size=2, device="cpu", seed=3)
    seen = _labels(a, 7)  # 5 batches an epoch: crosses into epoch 1
    assert sorted(sum(seen[:5], [])) == list(range(10))
    b = BatchStream(ds, batch_size=2, device="cpu", seed=3)
    _labels(b, 3)
    c = BatchStream(ds, batch_size=2, device="cpu", seed=3)
    c.load_state_dict(b.state_dict())
    assert _labels(c, 4) == seen[3:]
    r0 = BatchStream(ds, batch_size=2, device="cpu", seed=3, rank=0, world=2)
    r1 = BatchStream(ds, batch_size=2, device="cpu", seed=3, rank=1, world=2)
    both = sum(_labels(r0, 2) + _labels(r1, 2), [])
    assert sorted(both) == sorted(set(both)) and len(both) == 8


def test_flips_are_reproducible():
    ds = TensorImages(
        torch.arange(16, dtype=torch.uint8).view(1, 1, 4, 4).repeat(8, 1, 1, 1), torch.zeros(8, dtype=torch.long)
    )
    a = BatchStream(ds, batch_size=8, device="cpu", hflip=True)
    b = BatchStream(ds, batch_size=8, device="cpu", hflip=True)
    x, y = next(a)[0], next(b)[0]
    assert torch.equal(x, y)
    flipped = (x != to_model_range(ds.images)).flatten(1).any(1)
    assert 0 < flipped.sum() < 8


def test_cifar_loader_converts_torchvision_arrays(monkeypatch):
    """The CIFAR path with torchvision's dataset class replaced by a stand-in (no download here)."""
    import torchvision

    class FakeCIFAR10:
        classes = ["airplane", "automobile"]

        def __init__(self, root, train, download):
            n = 6 if train else 4
            self.data = np.arange(n * 32 * 32 * 3, dtype=np.uint64).reshape(n, 32, 32, 3).astype(np.uint8)
            self.targets = [i % 2 for i in range(n)]

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    data = load_data(DataConfig(name="cifar10", download=False))
    assert data.channels == 3 and data.classes == ["airplane", "automobile"]
    assert data.train.images.shape == (6, 3, 32, 32) and data.test.labels.tolist() == [0, 1, 0, 1]
    fake = FakeCIFAR10("", True, False)
    assert torch.equal(data.train.images[2].permute(1, 2, 0), torch.from_numpy(fake.data[2]))  # HWC -> CHW
    small = load_data(DataConfig(name="cifar10", download=False, resolution=64))
    assert small.train.images.shape == (6, 3, 64, 64)


def test_missing_cifar_says_how_to_get_it(monkeypatch):
    import torchvision

    class Missing:
        def __init__(self, root, train, download):
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", Missing)
    with pytest.raises(data_module.UserError, match="not found under data .*set data.root"):
        load_data(DataConfig(name="cifar100", download=False))


def test_a_batch_copies_nothing_from_the_host_once_its_epoch_has_started(monkeypatch):
    """The CPU side of the GPU's sync check: a training step only slices tensors already on the device.
    The "device" here is PyTorch's meta device, so every copy from the host is visible as a .to()."""
    images = torch.zeros(64, 1, 8, 8, dtype=torch.uint8, device="meta")
    stream = BatchStream(
        TensorImages(images, torch.zeros(64, dtype=torch.long, device="meta")), batch_size=8, device="meta", hflip=True
    )
    copies = []
    to = torch.Tensor.to

    def counting_to(self, *args, **kwargs):
        out = to(self, *args, **kwargs)
        if self.device.type == "cpu" and out.device.type == "meta":
            copies.append(tuple(self.shape))
        return out

    monkeypatch.setattr(torch.Tensor, "to", counting_to)
    for _ in range(2 * stream.batches_per_epoch):  # two epochs of 8 batches
        x, y = next(stream)
        assert x.device.type == "meta" and x.shape == (8, 1, 8, 8)
    assert len(copies) == 2 * 2  # per epoch: its indices and its flips, once
