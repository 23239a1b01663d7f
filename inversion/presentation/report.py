"""One self-contained HTML page with the evaluation results of one or more runs, side by side.

Every `evaluate.py` command writes into `<run>/eval/<command>/`: a `results.json` (its settings, its
numbers, its section title and one-line explanation, a caption per picture, and what was evaluated),
Markdown tables (`*.md`) and pictures (`*.png`). The report gathers them into a page a reader
understands without the README: an introduction, a table of the runs (which classifier each
inverts, how it was trained, how accurate it is), one section per command with a column per run,
every picture with its caption, Markdown converted by the `markdown` package, and at the end the
definition and direction of every metric. Pictures are embedded as base64 data: the page needs no
other file.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path

from infra.errors import UserError
from infra.optional import require
from infra.outputs import output_problem

from ..measures import FIDELITY
from .tables import INTERVAL_NAMES

# Sections in reading order: the pictures and the main table first, then the probes.
ORDER = ("grid", "fidelity", "invariance", "manipulate", "adversarial", "ood")

INTRO = (
    "A classifier's logit vector was trained only to say which class an image belongs to. An inverter "
    "&mdash; a generator trained to rebuild an image from its logits alone &mdash; shows what else they hold. "
    "Each section below is one evaluation, with one column per run (listed first). Under each picture, a "
    "caption says what its rows and columns are; in the tables, &uarr; marks a metric where higher is "
    "better and &darr; one where lower is better, and every metric is defined at the end of the page."
)

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1800px; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.intro, .about { max-width: 75em; line-height: 1.4; }
.folder { font-size: 12px; color: #777; margin-top: -.6em; }
.runs { display: grid; gap: 1.5em; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26em), 1fr)); }
.run { min-width: 0; overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.describe td, table.describe th { text-align: left; vertical-align: top; }
img { image-rendering: pixelated; max-width: 100%; }
figure { margin: .8em 0; }
figcaption { font-size: 13px; color: #444; max-width: 60em; }
pre { font-size: 12px; background: #f6f6f6; padding: .5em; overflow-x: auto; }
"""


def markdown_to_html(text: str) -> str:
    """A command's Markdown (pipe tables, paragraphs, code spans) as HTML, by the `markdown` package.

    Headings are moved three levels down, so that a command's own headings sit below the report's
    section (h2) and run (h3) titles."""
    markdown = require("markdown", "the HTML report")
    text = re.sub(r"^(#{1,6})(?=\s)", lambda m: "#" * min(6, len(m.group(1)) + 3), text, flags=re.MULTILINE)
    return markdown.markdown(text, extensions=["tables"], output_format="html")


def _image(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(caption or path.name)
    return (
        f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption or path.name)}</figcaption></figure>"
    )


def _results(folder: Path) -> dict:
    path = folder / "results.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _percent(value) -> str:
    return "" if value is None else f"{value:.1%}"


def describe_classifier(c: dict) -> str:
    """The inverted classifier in words: what it is, how it was trained, how accurate it is."""
    what = c.get("arch") or c.get("name", "?")
    file = Path(c["checkpoint"]).name if c.get("checkpoint") else None
    parts = [f"{what}" + (f" ({file})" if file else "")]
    adversarial = c.get("adversarial") or {}
    if c.get("training") == "standard":
        parts.append("standard training (cross-entropy on clean images)")
    elif c.get("training") == "adversarial":
        parts.append(f"adversarially robust training (PGD, {adversarial.get('norm')} eps {adversarial.get('eps')})")
    if c.get("test_accuracy") is not None:
        parts.append(f"test accuracy {_percent(c['test_accuracy'])}")
    if c.get("robust_accuracy") is not None:
        attack = c.get("robust_attack") or {}
        parts.append(
            f"accuracy under PGD-{attack.get('steps', '?')} {attack.get('norm', '')} eps "
            f"{attack.get('eps', '?')}: {_percent(c['robust_accuracy'])}"
        )
    if c.get("autoattack"):
        auto = c["autoattack"]
        parts.append(
            f"under AutoAttack's APGD-CE + APGD-T ({auto['norm']} eps {auto['eps']}, first {auto['samples']} test "
            f"images): {_percent(auto['robust_accuracy'])}"
        )
    return "; ".join(parts)


def _runs_table(run_dirs: list[Path]) -> str:
    rows = []
    for run in run_dirs:
        inverter = next(
            (r["inverter"] for sub in sorted((run / "eval").glob("*/")) if "inverter" in (r := _results(sub))), None
        )
        if inverter is None:
            rows.append(f"<tr><td>{html.escape(run.name)}</td><td colspan=3>no description recorded</td></tr>")
            continue
        kind = "pixel-loss decoder (baseline)" if inverter.get("kind") == "decoder" else "GAN inverter"
        steps = f", {inverter['steps']} steps" if inverter.get("steps") else ""
        rows.append(
            f"<tr><td>{html.escape(run.name)}</td><td>{html.escape(describe_classifier(inverter['classifier']))}</td>"
            f"<td>{kind}{steps}, on {html.escape(str(inverter.get('data')))}</td>"
            f"<td><code>{html.escape(inverter.get('snapshot', ''))}</code></td></tr>"
        )
    return (
        '<table class="describe"><thead><tr><th>run</th><th>the classifier whose logits are inverted</th>'
        "<th>the inverter</th><th>its file</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _glossary() -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m.label.strip())}</td><td>{html.escape(m.level)}</td>"
        f"<td>{html.escape(m.better or 'neither: it describes')}</td><td>{html.escape(INTERVAL_NAMES[m.interval])}</td>"
        f"<td>{html.escape(m.definition)}</td></tr>"
        for m in FIDELITY
    )
    return (
        '<table class="describe"><thead><tr><th>metric</th><th>level</th><th>better</th><th>interval</th>'
        f"<th>definition</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def check_outputs(run_dirs: list[Path]) -> None:
    """Every evaluation folder the report would read holds one command's complete outputs; else one line."""
    for run in run_dirs:
        for folder in sorted((run / "eval").glob("*/")):
            problem = output_problem(folder)
            if problem is not None:
                raise UserError(
                    f"cannot read the evaluation output {folder}: {problem}; run the command that wrote it "
                    f"(`evaluate.py {folder.name.split('-')[0]} --run {run}`) again"
                )


def build_report(run_dirs: list[Path], out_dir: Path, title: str = "logit-inversion report") -> Path:
    run_dirs = [Path(r) for r in run_dirs]
    check_outputs(run_dirs)
    found = {sub.name for run in run_dirs for sub in (run / "eval").glob("*/")}
    commands = sorted(
        found, key=lambda name: (next((i for i, p in enumerate(ORDER) if name.startswith(p)), len(ORDER)), name)
    )
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>',
        f"<style>{STYLE}</style>\n</head>\n<body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="intro">{INTRO}</p>',
        "<h2>Runs</h2>",
        _runs_table(run_dirs),
    ]
    if not commands:
        parts.append("<p>No evaluation results found: run <code>evaluate.py grid/fidelity/...</code> first.</p>")
    for command in commands:
        first = next((r for run in run_dirs if (r := _results(run / "eval" / command))), {})
        parts.append(f"<h2>{html.escape(first.get('title') or command)}</h2>")
        parts.append(f'<p class="folder">eval/{html.escape(command)}</p>')
        if first.get("about"):
            parts.append(f'<p class="about">{html.escape(first["about"])}</p>')
        parts.append('<div class="runs">')  # side by side while each gets 26em, then wrapped
        for run in run_dirs:
            folder = run / "eval" / command
            parts.append(f'<div class="run"><h3>{html.escape(run.name)}</h3>')
            if not folder.is_dir():
                parts.append("<p>not evaluated</p></div>")
                continue
            results = _results(folder)
            for md in sorted(folder.glob("*.md")):
                parts.append(markdown_to_html(md.read_text()))
            captions = results.get("pictures", {})
            for png in sorted(folder.glob("*.png")):
                parts.append(_image(png, captions.get(png.name, "")))
            if results.get("settings"):
                parts.append(
                    "<details><summary>settings</summary><pre>"
                    + html.escape(json.dumps(results["settings"], indent=1))
                    + "</pre></details>"
                )
            parts.append("</div>")
        parts.append("</div>")
    parts += [
        "<h2>How to read the numbers</h2>",
        '<p class="about">The fidelity table\'s metrics, which way is better, and what each one is. x is a test '
        "image, x_hat its reconstruction from the logits phi(x) of the inverted classifier phi.</p>",
        _glossary(),
        "</body>\n</html>\n",
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    tmp = out_dir / ".index.html.tmp"  # written whole, then renamed: a stopped report leaves the previous one
    tmp.write_text("\n".join(parts))
    os.replace(tmp, path)
    return path
