"""What a deployed classifier returns: the output model between the network and whoever reads it.

The paper inverts raw logits, but a prediction API rarely returns them. `classifier.output` says what
the inverter is given instead, as a short spec:

    logits          the raw logits (the default; the paper's setting)
    softmax         the probabilities
    log_softmax     the log-probabilities (the logits up to a per-image constant)
    topk:K          the K largest probabilities; every other class's entry is 0
    round:D         the probabilities rounded to D decimals
    topk:K+round:D  both: the K largest probabilities, rounded
    label           the top-1 class only, one-hot (a class-conditional GAN's input: no instance detail)
    ...+log         what an attacker does with probabilities: log(max(p, 1e-7)) of whatever the API
                    returned (softmax+log, topk:5+log, round:2+log, topk:5+round:2+log)

Why the attacker's log: the instance detail of probabilities sits in their small values (softmax is
the logits up to a per-image constant, yet its entries near 0 all look alike on a linear scale), so
an inverter fed raw probabilities measures its own encoding as much as what leaks. The log undoes
the exponential; the floor 1e-7 stands for the zeros an API returns for classes it leaves out.

An API that returns (class, probability) pairs is modelled by putting each probability at its class's
position in a vector of `num_classes` entries, zero elsewhere: the position tells the inverter the
class, as the class id tells the API's caller. Rounding is applied after top-k, to the kept values.

`FrozenClassifier.forward` applies the output model (once, there), so training, the logit statistics,
every evaluation and `Inverter` see the same outputs; `FrozenClassifier.logits` gives the raw logits,
which attacks differentiate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from infra.errors import UserError

KINDS = ("logits", "softmax", "log_softmax", "label")
SPEC_HELP = "logits, softmax, log_softmax, label, topk:K, round:D or topk:K+round:D, each of the last three with +log"


LOG_FLOOR = 1e-7  # the attacker's log(max(p, LOG_FLOOR))


@dataclass(frozen=True)
class OutputModel:
    kind: str = "logits"  # logits | softmax | log_softmax | label; top-k and rounding imply softmax
    topk: int | None = None
    decimals: int | None = None
    log: bool = False  # the attacker takes log(max(p, LOG_FLOOR)) of the probabilities it receives

    @property
    def spec(self) -> str:
        if self.topk is None and self.decimals is None and not self.log:
            return self.kind
        parts = ([f"topk:{self.topk}"] if self.topk is not None else []) + (
            [f"round:{self.decimals}"] if self.decimals is not None else []
        )
        return "+".join((parts or [self.kind]) + (["log"] if self.log else []))

    @property
    def is_logits(self) -> bool:
        return self.kind == "logits"

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if self.kind == "logits":
            return logits
        if self.kind == "log_softmax":
            return F.log_softmax(logits.float(), dim=1)
        if self.kind == "label":
            return F.one_hot(logits.argmax(1), logits.shape[1]).to(logits.dtype)
        probs = F.softmax(logits.float(), dim=1)
        if self.topk is not None:
            k = min(self.topk, probs.shape[1])
            kept = probs.topk(k, dim=1)
            probs = torch.zeros_like(probs).scatter(1, kept.indices, kept.values)
        if self.decimals is not None:
            scale = 10.0**self.decimals
            probs = torch.round(probs * scale) / scale
        return torch.log(probs.clamp_min(LOG_FLOOR)) if self.log else probs


def parse_output(spec: str) -> OutputModel:
    """The output model a spec names (see the module's docstring); a UserError for anything else."""
    spec = str(spec).strip()
    if spec in KINDS:
        return OutputModel(kind=spec)
    parts = [part.strip() for part in spec.split("+")]
    log = parts[-1] == "log"
    if log:
        parts = parts[:-1]
        if parts == ["softmax"]:
            return OutputModel(kind="softmax", log=True)
        if not parts or parts[0] in KINDS:
            raise UserError(f"classifier.output={spec!r}: +log applies to probabilities (softmax, topk:K, round:D)")
    topk = decimals = None
    for part in parts:
        match = re.fullmatch(r"(topk|round):(\d+)", part.strip())
        if match is None:
            raise UserError(f"classifier.output={spec!r} is not an output model; use {SPEC_HELP}")
        value = int(match.group(2))
        if match.group(1) == "topk":
            if topk is not None or value < 1:
                raise UserError(f"classifier.output={spec!r}: topk needs one K >= 1")
            topk = value
        else:
            if decimals is not None or value > 8:
                raise UserError(f"classifier.output={spec!r}: round needs one D between 0 and 8")
            decimals = value
    return OutputModel(kind="softmax", topk=topk, decimals=decimals, log=log)


LOGITS = OutputModel()


class OutputSpec:
    """The config check of `classifier.output` (infra.config's LIMITS protocol)."""

    def check(self, key: str, value) -> None:
        parse_output(value)
