"""The generator as an ONNX model: G(noise, logits) -> image, for runtimes outside PyTorch (the explorer page).

What is exported is exactly the generator `Inverter.generate` runs: the snapshot's weights with the
batch norms in eval mode, holding the statistics stored in the snapshot (standing statistics for
snapshots written since they were introduced), and the logit standardisation inside the graph, so
the model takes raw logits as the classifier outputs them.

Spectral normalisation is baked in: each parametrised weight is replaced by the plain tensor W / sigma
it evaluates to. That must happen in eval mode, where the parametrisation reuses its stored singular
vectors; in train mode evaluating it runs a power-iteration step first and the baked weight would
differ (slightly) from the one the snapshot's generator uses.

`export_error` runs the exported file in onnxruntime (CPU) and returns the largest absolute pixel
difference from PyTorch over random noise and logits; `TOLERANCE` is the bound the explorer enforces.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import parametrize

from infra.errors import UserError
from infra.optional import require

from .inverter import Inverter
from .model import Generator, build_generator

TOLERANCE = 1e-3  # largest |ONNX - PyTorch| pixel difference accepted; one grey level is 2/255 = 7.8e-3 in [-1, 1]
OPSET = 18


def plain_generator(inverter: Inverter) -> Generator:
    """A CPU copy of the inverter's generator in eval mode with spectral normalisation baked into plain weights."""
    meta = inverter.meta
    G = build_generator(inverter.config.model, meta["num_classes"], meta["resolution"], meta["channels"])
    # A fresh generator loaded from the state dict rather than a deepcopy: removing a parametrisation
    # from a deep copy also strips the original module of it.
    G.load_state_dict({k: v.detach().cpu() for k, v in inverter.generator.state_dict().items()})
    G.eval()
    for module in [m for m in G.modules() if parametrize.is_parametrized(m)]:
        for name in list(module.parametrizations.keys()):
            parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    return G


def export_generator(inverter: Inverter, path: str | Path) -> Path:
    """Write the inverter's generator to `path` as one self-contained ONNX file (inputs `noise` (N, dim_noise)
    and `logits` (N, num_classes), output `image` (N, C, H, W) in [-1, 1]; N is free)."""
    require("onnxscript", "exporting the generator to ONNX")
    G = plain_generator(inverter)
    noise = torch.zeros(2, G.dim_noise)
    logits = torch.zeros(2, G.num_classes)
    batch = torch.export.Dim("batch")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals, not on this model
        program = torch.onnx.export(
            G,
            (noise, logits),
            input_names=["noise", "logits"],
            output_names=["image"],
            dynamic_shapes=({0: batch}, {0: batch}),
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    program.save(str(path), external_data=False)
    return path


def export_error(inverter: Inverter, path: str | Path, n: int = 64, seed: int = 0) -> float:
    """max |ONNX(noise, logits) - PyTorch(noise, logits)| over n random inputs: standard normal noise and
    logits drawn around the inverter's logit statistics (mean + 3 std x standard normal)."""
    ort = require("onnxruntime", "checking the ONNX export")
    g = torch.Generator().manual_seed(seed)
    G = inverter.generator
    stats = G.logit_norm
    noise = torch.randn(n, G.dim_noise, generator=g)
    logits = stats.mean.cpu() + 3 * stats.std.cpu() * torch.randn(n, G.num_classes, generator=g)
    # The generator itself on the same noise: `Inverter.generate` would zero the noise of a pixel-loss
    # decoder, which ignores it (the explorer page does the same), but the file must match on any input.
    with torch.no_grad():
        expected = G(noise.to(inverter.device), logits.to(inverter.device)).cpu().numpy()
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types
        raise UserError(f"onnxruntime cannot load {path}: {err}") from err
    got = session.run(["image"], {"noise": noise.numpy(), "logits": logits.numpy()})[0]
    return float(np.abs(got - expected).max())
