"""Optional dependencies: imported where they are needed, with a message that says how to install them.

The training core needs torch, torchvision, accelerate, safetensors, OmegaConf and a few small
packages. Evaluation, probes and some classifier sources need more (torch-fidelity, lpips,
scikit-learn, scikit-image, matplotlib, Markdown, timm); setup.cfg lists them as extras, and
`requirements.txt` pins them all for `make demo` and `make test`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import UserError

# Module name -> (package to install, the extra of setup.cfg that brings it).
PACKAGES = {
    "torch_fidelity": ("torch-fidelity", "eval"),
    "lpips": ("lpips", "eval"),
    "torchmetrics": ("torchmetrics", "eval"),
    "markdown": ("markdown", "eval"),
    "matplotlib": ("matplotlib", "eval"),
    "skimage": ("scikit-image", "eval"),
    "sklearn": ("scikit-learn", "eval"),
    "prdc": ("prdc", "eval"),
    "timm": ("timm", "timm"),
    "onnxscript": ("onnxscript", "explore"),
    "onnxruntime": ("onnxruntime", "explore"),
    "torchattacks": ("torchattacks==3.5.1", None),
}
# Packages to install without their dependencies (requirements-nodeps.txt says why).
NO_DEPS = {"torchattacks"}


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` (dotted names allowed), or stop with a message naming what to install for `purpose`."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = module.split(".")[0]
        if err.name is None or err.name.split(".")[0] != top:
            raise
        package, extra = PACKAGES.get(top, (top, None))
        hint = f"pip install {'--no-deps ' if top in NO_DEPS else ''}'{package}'" + (
            f" (or pip install 'logit-inversion[{extra}]')" if extra else ""
        )
        raise UserError(f"{purpose} needs the package {package}, which is not installed: {hint}") from err
