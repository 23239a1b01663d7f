"""How long the explorer page takes to redraw after a slider moves (a benchmark, not a test).

Opens an explorer folder (`evaluate.py explore`) in headless Chromium through Playwright, moves one logit
slider of the first run `--moves` times (one arrow-key press each, waiting for the redraw), and reports
the time of each generator call as the page measures it (ONNX Runtime Web's `session.run`, what the page
shows under the edits) and of each whole redraw (every run's generator, canvas and bars), as median and
90th percentile. The first redraw after loading is left out (warm-up).

    python benchmarks/explorer_latency.py demo/explorer
    python benchmarks/explorer_latency.py runs/explorer --moves 200 --chromium /usr/bin/chromium
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="an explorer folder (with index.html)")
    parser.add_argument("--moves", type=int, default=100, help="slider moves to time (default 100)")
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="the browser (default: chromium on PATH)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    index = Path(args.folder) / "index.html"
    if not index.is_file():
        parser.error(f"{index} does not exist; write the folder with `python evaluate.py explore`")
    if not args.chromium:
        parser.error("no Chromium found; pass --chromium PATH")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(index.resolve().as_uri())
        page.wait_for_function("window.explorer && (window.explorer.ready || window.explorer.error)", timeout=120000)
        if page.evaluate("window.explorer.error"):
            raise SystemExit(f"the page failed: {page.evaluate('window.explorer.error')}")
        runs = page.evaluate("window.EXPLORER_DATA.runs.length")
        slider = page.locator("#logit-0-0 input")
        calls_before = page.evaluate("window.explorer.callsMs.length")
        redraws = []
        for i in range(args.moves):
            renders = page.evaluate("window.explorer.renders")
            start = time.perf_counter()
            slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function(f"window.explorer.renders > {renders} && window.explorer.idle()", polling=1)
            redraws.append(1000 * (time.perf_counter() - start))
        calls = page.evaluate("window.explorer.callsMs")[calls_before:]
        version = browser.version
        browser.close()
    report = {
        "folder": str(args.folder),
        "runs": runs,
        "moves": args.moves,
        "browser": f"Chromium {version}",
        "cpu": platform.processor() or platform.machine(),
        "generator_call_ms": {"median": float(np.median(calls)), "p90": float(np.percentile(calls, 90))},
        "redraw_ms": {"median": float(np.median(redraws)), "p90": float(np.percentile(redraws, 90))},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
