"""Markdown tables: a pipe-table writer and the fidelity table shared by several commands.

Each command writes its own small tables with `table`; the fidelity table, which `fidelity`,
`baseline optimize`, `adversarial` (by subset) and the reference experiment's collector all print,
lives here with its row labels and number formats.
"""

from __future__ import annotations

from infra.estimate import Estimate

from ..measures import FIDELITY, MEASURES, Measure


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table; cells are already formatted strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def with_interval(value: float, interval: list[float] | None = None, fmt: str = ".3f") -> str:
    """`value` in format `fmt`, followed by its 95% interval in brackets when there is one."""
    text = f"{value:{fmt}}"
    return text + (f" [{interval[0]:{fmt}}, {interval[1]:{fmt}}]" if interval else "")


INTERVALS_NOTE = (
    "In brackets: 95% intervals over the test images: Wilson's for shares (identification, accuracies, "
    "agreement), a percentile bootstrap of 2,000 resamples for means, and FID's value plus or minus 1.96 "
    "standard deviations of 200 resamples. They say how much a number would move on other test images, not "
    "between training runs. Level: instance measures say how much of each image a reconstruction holds; class "
    "measures only whether it shows the right class (a generator given the label alone does well on them)."
)


def fidelity_table(columns: dict[str, dict[str, Estimate]]) -> str:
    """The fidelity table: one row per measure of the registry (`inversion.measures`), grouped by
    level (instance, class, distribution), with the direction that is better (↑ higher, ↓ lower), one
    column per run (or subset) of `inversion.evaluation.fidelity.summarize`'s estimates; an interval is
    shown in brackets, a missing number by its reason."""
    names = list(columns)
    header = ["metric", "level", "better", *names]
    rows = [
        [m.label, m.level if m.level != "describes" else "", m.arrow, *(_cell(m, columns[n].get(m.key)) for n in names)]
        for m in FIDELITY
        if any(m.key in col for col in columns.values())
    ]
    return table(header, rows)


def _cell(measure: Measure, estimate: Estimate | None) -> str:
    return "not measured" if estimate is None else measure.cell(estimate)


def metric_table(values: dict[str, Estimate], keys: list[str]) -> str:
    """A table of the fidelity measures in `keys` that `values` has, shown as the fidelity table shows them."""
    rows = [[MEASURES[k].label, MEASURES[k].arrow, MEASURES[k].cell(values[k])] for k in keys if k in values]
    return table(["metric", "better", "value"], rows)


INTERVAL_NAMES = {
    "bootstrap": "95% percentile bootstrap over images",
    "wilson": "95% Wilson interval of a share",
    "bootstrap-sd": "value ± 1.96 bootstrap SD",
    "runs": "t interval over training runs",
    "none": "none",
}


def measures_table() -> str:
    """Every fidelity measure of the registry: label, level, direction, interval, definition (the table
    docs/evaluation.md holds; `python -m inversion.presentation.tables` prints it)."""
    rows = [
        [m.label.strip(), m.level, m.better or "neither", INTERVAL_NAMES[m.interval], m.definition] for m in FIDELITY
    ]
    return table(["measure", "level", "better", "interval", "definition"], rows)


if __name__ == "__main__":
    print(measures_table(), end="")
