"""The logit explorer: a static page (`evaluate.py explore`) that runs inverters' generators in the browser.

`page.py` writes the folder, `ort_web.py` obtains ONNX Runtime Web at its pinned version, `static/`
holds the page itself; the generators are exported by `inversion.onnx_export`.
"""
