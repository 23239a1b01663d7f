"""Train a logit-conditioned BigGAN inverter from a checkout of the repository.

    accelerate launch train.py --config configs/fmnist_cpu.yaml
    python train.py --config configs/tiny.yaml --dry-run

The command is `inversion/cli/train.py` (installed as `logit-inversion-train`); `--help` explains it.
"""

import sys

from inversion.cli.train import main, parser

__all__ = ["main", "parser"]

if __name__ == "__main__":
    sys.exit(main())
