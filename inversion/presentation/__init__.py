"""How results are shown, apart from how they are computed (`inversion.evaluation`, `inversion.probes`).

images.py   reconstruction grids and captioned image tables, as PNG
plots.py    matplotlib figures: edit paths, confidence CDFs, the fingerprint curve
tables.py   Markdown pipe tables and the fidelity table
report.py   one self-contained HTML page from the commands' Markdown and pictures
"""
