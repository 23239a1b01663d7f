"""Progress bars: tqdm, refreshed less often when the output is a log file rather than a terminal."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, **kwargs) -> tqdm:
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("mininterval", 0.2 if sys.stderr.isatty() else 10.0)
    return tqdm(iterable, **kwargs)
