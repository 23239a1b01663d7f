"""Progress bars: tqdm, refreshed less often when the output is a log file rather than a terminal."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, **kwargs) -> tqdm:
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("mininterval", 0.2 if sys.stderr.isatty() else 10.0)
    return tqdm(iterable, **kwargs)


class phase:
    """`with phase("what"):` says on stderr what a long step without a progress bar is doing, and then how
    long it took: no minute of silence after a progress bar completes. Quiet when `quiet` is set."""

    def __init__(self, what: str, quiet: bool = False):
        self.what, self.quiet = what, quiet

    def __enter__(self):
        import time

        self.start = time.perf_counter()
        if not self.quiet:
            print(f"{self.what} ...", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc):
        import time

        if not self.quiet and exc[0] is None:
            print(f"{self.what}: {time.perf_counter() - self.start:.1f} s", file=sys.stderr, flush=True)
        return False
