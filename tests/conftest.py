import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test may reach a model hub


@pytest.fixture
def tiny_config():
    return str(ROOT / "configs" / "tiny.yaml")


@pytest.fixture
def run_tiny(tmp_path, tiny_config):
    """Run train.py's main on configs/tiny.yaml in tmp_path; returns (exit code, run dir)."""
    import train

    def run(*overrides, name="tiny", resume=False):
        run_dir = tmp_path / name
        if resume:
            args = ["--resume", str(run_dir), *overrides]
        else:
            args = ["--config", tiny_config, f"runs_dir={tmp_path}", f"name={name}", *overrides]
        return train.main(args), run_dir

    return run
