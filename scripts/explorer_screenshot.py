"""The README's picture of the explorer: the page in headless Chromium (through Playwright), one test
image chosen and its "Coat" logit dragged to 9 for both classifiers, the whole page saved as PNG.

    python scripts/explorer_screenshot.py demo/explorer docs/explorer.png
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="an explorer folder (evaluate.py explore)")
    parser.add_argument("out", help="the PNG to write")
    parser.add_argument("--image", type=int, default=6, help="which of the page's images (default 6, a shirt)")
    parser.add_argument("--logit", type=int, default=4, help="which class's logit to move (default 4, Coat)")
    parser.add_argument("--value", default="9", help="where to move it (default 9)")
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="the browser (default: chromium on PATH)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1340, "height": 900})
        page.goto((Path(args.folder) / "index.html").resolve().as_uri())
        page.wait_for_function("window.explorer && (window.explorer.ready || window.explorer.error)", timeout=120000)
        if page.evaluate("window.explorer.error"):
            raise SystemExit(f"the page failed: {page.evaluate('window.explorer.error')}")
        page.locator("#thumbs canvas").nth(args.image).click()
        for run in range(page.evaluate("window.EXPLORER_DATA.runs.length")):
            page.locator(f"#logit-{run}-{args.logit} input").fill(args.value)
        page.wait_for_function("window.explorer.idle()")
        page.screenshot(path=args.out, full_page=True)
        browser.close()
    print(args.out)


if __name__ == "__main__":
    main()
