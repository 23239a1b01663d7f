"""Command lines that fail on one line: the argument parser every entry point uses, and checked types.

argparse prints its usage and then the error; here a mistake is one line that names the option,
the value and what it must be, and the exit code is 2, as for every other mistake a user can make
(`infra.errors`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


class Parser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors are one line: `<prog>: error: <what> (see --help)`."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind: type, low: float | None, high: float | None, low_open: bool = False) -> Callable[[str], float]:
    lower = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
    upper = "" if high is None else f"<= {high:g}"
    what = f"{'an integer' if kind is int else 'a number'} {' and '.join(p for p in (lower, upper) if p)}".strip()

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        if (low is not None and (value <= low if low_open else value < low)) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def integer(at_least: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `at_least`."""
    return _number(int, at_least, None)


def number(at_least: float | None = None, above: float | None = None, at_most: float | None = None):
    """An argparse type: a finite number >= `at_least` (or > `above`), <= `at_most`."""
    if above is not None:
        return _number(float, above, at_most, low_open=True)
    return _number(float, at_least, at_most)
