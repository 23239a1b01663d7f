"""One self-contained HTML page with the evaluation results of one or more runs, side by side.

Every `evaluate.py` command writes into `<run>/eval/<command>/`: a `results.json`, Markdown tables
(`*.md`) and pictures (`*.png`). The report gathers them: one section per command, one column per
run, Markdown converted by the `markdown` package, pictures embedded as base64 data (the page needs
no other file).
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from infra.optional import require


def markdown_to_html(text: str) -> str:
    """A command's Markdown (pipe tables, paragraphs, code spans) as HTML, by the `markdown` package.

    Headings are moved three levels down, so that a command's own headings sit below the report's
    section (h2) and run (h3) titles."""
    markdown = require("markdown", "the HTML report")
    text = re.sub(r"^(#{1,6})(?=\s)", lambda m: "#" * min(6, len(m.group(1)) + 3), text, flags=re.MULTILINE)
    return markdown.markdown(text, extensions=["tables"], output_format="html")


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = html.escape(path.name)
    return f'<figure><img alt="{name}" src="data:image/png;base64,{data}"><figcaption>{name}</figcaption></figure>'


# Sections in reading order: the pictures and the main table first, then the probes.
ORDER = ("grid", "fidelity", "invariance", "manipulate", "adversarial", "ood")

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.runs { display: grid; gap: 1.5em; }
.run { min-width: 0; overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { image-rendering: pixelated; max-width: 100%; }
figure { margin: .5em 0; }
figcaption { font-size: 12px; color: #666; }
pre { font-size: 12px; background: #f6f6f6; padding: .5em; overflow-x: auto; }
"""


def build_report(run_dirs: list[Path], out_dir: Path, title: str = "logit-inversion report") -> Path:
    run_dirs = [Path(r) for r in run_dirs]
    found = {sub.name for run in run_dirs for sub in (run / "eval").glob("*/")}
    commands = sorted(
        found, key=lambda name: (next((i for i, p in enumerate(ORDER) if name.startswith(p)), len(ORDER)), name)
    )
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>',
        f"<style>{STYLE}</style>\n</head>\n<body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Runs: " + ", ".join(f"<code>{html.escape(str(r))}</code>" for r in run_dirs) + "</p>",
    ]
    if not commands:
        parts.append("<p>No evaluation results found: run <code>evaluate.py grid/fidelity/...</code> first.</p>")
    columns = f"grid-template-columns: repeat({len(run_dirs)}, minmax(0, 1fr));"
    for command in commands:
        parts.append(f"<h2>{html.escape(command)}</h2>")
        parts.append(f'<div class="runs" style="{columns}">')
        for run in run_dirs:
            folder = run / "eval" / command
            parts.append(f'<div class="run"><h3>{html.escape(run.name)}</h3>')
            if not folder.is_dir():
                parts.append("<p>not evaluated</p></div>")
                continue
            for md in sorted(folder.glob("*.md")):
                parts.append(markdown_to_html(md.read_text()))
            for png in sorted(folder.glob("*.png")):
                parts.append(_image(png))
            results = folder / "results.json"
            if results.is_file():
                settings = json.loads(results.read_text()).get("settings")
                if settings:
                    parts.append(
                        "<details><summary>settings</summary><pre>"
                        + html.escape(json.dumps(settings, indent=1))
                        + "</pre></details>"
                    )
            parts.append("</div>")
        parts.append("</div>")
    parts.append("</body>\n</html>\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text("\n".join(parts))
    return path
