"""Run under `accelerate launch --num_processes 2`: train configs/tiny.yaml, then write each rank's
G and D weights and the labels of its first batch, so the test can compare ranks."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.config import load_config  # noqa: E402
from inversion.config import Config  # noqa: E402
from inversion.training.trainer import Trainer  # noqa: E402

out = Path(sys.argv[1])
cfg = load_config(
    Config,
    Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml",
    [f"runs_dir={out}", "name=ddp", "train.max_steps=3"],
)
trainer = Trainer(cfg, out / "ddp")
first_batch = trainer.stream._epoch_batches()[0]
trainer.fit()
rank = trainer.accelerator.process_index
state = {f"G.{k}": v for k, v in trainer.accelerator.unwrap_model(trainer.G).state_dict().items()}
state.update({f"D.{k}": v for k, v in trainer.accelerator.unwrap_model(trainer.D).state_dict().items()})
state["first_batch"] = first_batch
state["world"] = torch.tensor(trainer.accelerator.num_processes)
torch.save(state, out / f"rank{rank}.pt")
