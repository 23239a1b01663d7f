"""Named points where the fault-injection tests kill a training process, as a crash or `kill -9` would.

`kill_here(point, step, rank)` does nothing unless the environment variable LOGIT_INVERSION_KILL_AT
names that point: `<point>:<step>` (any process) or `<point>:<step>:<rank>`. The points are the
moments a crash is most damaging: after a training step (`step`), inside a checkpoint write
(`checkpoint-write`: the files are written but the checkpoint is not complete yet), and between a
complete checkpoint and the snapshot written after it (`before-snapshot`). tests/test_faults.py
kills at each one and checks that `--resume` ends where an uninterrupted run ends. An evaluation
command has two (step 0): its outputs written but not committed (`output-write`), and half of them
moved into place (`output-commit`); see `infra.outputs`.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "LOGIT_INVERSION_KILL_AT"


def kill_here(point: str, step: int, rank: int = 0) -> None:
    target = os.environ.get(VARIABLE)
    if target and target in (f"{point}:{step}", f"{point}:{step}:{rank}"):
        os.kill(os.getpid(), signal.SIGKILL)
