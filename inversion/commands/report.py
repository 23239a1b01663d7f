"""`evaluate.py report`: one self-contained HTML page with the results of several runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.errors import UserError

from ..presentation.report import build_report
from .base import Command, register


@register
class Report(Command):
    name = "report"
    help = "one self-contained HTML page with the results of several runs"
    takes_run = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--runs", nargs="+", required=True, help="run folders, shown side by side")
        parser.add_argument("--out", default="report", help="output folder (default report/)")
        parser.add_argument("--title", default="logit-inversion report", help="the page's title")

    def execute(self, args: argparse.Namespace) -> str:
        """The report only gathers what other commands wrote: no numbers of its own, no results.json."""
        missing = [r for r in args.runs if not Path(r).is_dir()]
        if missing:
            raise UserError(f"run folder {missing[0]} does not exist")
        path = build_report([Path(r) for r in args.runs], Path(args.out), title=args.title)
        return f"report: {path}"
