"""Evaluate inverters: grids, the fidelity table, baselines, logit edits, invariance, adversarial and
out-of-distribution probes, logit probes from the related work, an HTML report and a browser explorer.

    python evaluate.py grid        --run runs/fmnist-robust --n 64 --noise-draws 3
    python evaluate.py fidelity    --run runs/fmnist-robust --evaluator EVAL.safetensors
    python evaluate.py baseline decoder  --classifier CKPT --config configs/fmnist.yaml --out runs/decoder-std
    python evaluate.py baseline optimize --classifier CKPT --evaluator EVAL.safetensors --out runs/optimize-std
    python evaluate.py manipulate  --run R --edit shift|scale|noise|interpolate|swap-top2 [--evaluator EVAL]
    python evaluate.py invariance  --run R --evaluator EVAL
    python evaluate.py adversarial --run R --evaluator EVAL
    python evaluate.py ood         --run R --images DIR|sklearn-digits|skimage-samples
    python evaluate.py probe fingerprint|features|confidence|novelty|style-shift ...
    python evaluate.py report      --runs R1 R2 ... --out report/
    python evaluate.py explore     --run R1 [--run R2] --out runs/explorer

Results go to <run>/eval/<command>/ (override with --out): results.json for machines, Markdown
tables and PNG pictures for people. A GPU is used when present. Each command is a module of
inversion/commands/; this file only builds the command line from their registry and dispatches.
"""

from __future__ import annotations

import argparse
import sys

from infra.cli import Parser
from infra.errors import report_user_errors
from inversion.commands import GROUPS, REGISTRY


def parser() -> argparse.ArgumentParser:
    top, _, epilog = __doc__.partition("\n\n")
    p = Parser(description=top, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for command in REGISTRY.values():
        if command.group is None:
            sub = commands.add_parser(command.name, help=command.help, description=command.help)
        else:
            if command.group not in groups:
                group = commands.add_parser(
                    command.group, help=GROUPS[command.group], description=GROUPS[command.group]
                )
                groups[command.group] = group.add_subparsers(
                    dest=command.group, required=True, metavar=command.group.upper()
                )
            sub = groups[command.group].add_parser(command.name, help=command.help, description=command.help)
        command.add_common_arguments(sub)
        command.add_arguments(sub)
        sub.set_defaults(handler=command)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    # Config overrides (key=value) may stand anywhere on the line, also after options: argparse gives a
    # positional list only one place, so the ones it left over join the command's overrides.
    if extra and hasattr(args, "overrides") and all("=" in a and not a.startswith("-") for a in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    return report_user_errors(lambda: print(args.handler.execute(args)))


if __name__ == "__main__":
    sys.exit(main())
