"""Evaluate inverters from a checkout of the repository: grids, fidelity, baselines, probes, report.

    python evaluate.py grid --run runs/fmnist_cpu --n 64
    python evaluate.py --help

The command is `inversion/cli/evaluate.py` (installed as `logit-inversion-evaluate`).
"""

import sys

from inversion.cli.evaluate import main, parser

__all__ = ["main", "parser"]

if __name__ == "__main__":
    sys.exit(main())
