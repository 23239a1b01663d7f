"""The logit explorer: ONNX export, ONNX Runtime Web's files, the command, and the page in a real browser.

The browser test drives Debian's Chromium through Playwright (no browser download): it moves a logit
slider, resamples the noise, and compares the reconstruction's pixels, read from the page's canvas,
with the PyTorch generator's output for the logits and noise the page used. It is skipped, with the
reason, where Chromium is not installed or ONNX Runtime Web cannot be fetched (no network and no cache).
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import evaluate
from infra.datasets import spread_over_classes, to_uint8
from infra.errors import UserError
from inversion import Inverter
from inversion.explorer import ort_web
from inversion.onnx_export import TOLERANCE, export_error, export_generator

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "fmnist"
STD, ROBUST = SHIPPED / "inverter-std.safetensors", SHIPPED / "inverter-robust.safetensors"


def test_spread_over_classes_takes_each_class_in_turn():
    labels = torch.tensor([0, 0, 1, 2, 1, 0, 2])
    assert spread_over_classes(labels, 5) == [0, 2, 3, 1, 4]
    assert spread_over_classes(labels, 100) == [0, 2, 3, 1, 4, 6, 5]  # no more than there are


def test_onnx_export_matches_pytorch_and_the_check_can_fail(tmp_path):
    std = Inverter.load(STD, device="cpu", classifier=False)
    path = export_generator(std, tmp_path / "std.onnx")
    assert export_error(std, path) <= TOLERANCE
    # A pixel-loss decoder's Inverter zeroes the noise; the check runs the generator itself on the same noise.
    decoder = Inverter.load(STD, device="cpu", classifier=False)
    decoder.meta = {**decoder.meta, "kind": "decoder"}
    assert export_error(decoder, path) <= TOLERANCE
    # The same file checked against another generator: the check sees the difference.
    robust = Inverter.load(ROBUST, device="cpu", classifier=False)
    assert export_error(robust, path) > 0.1
    # Spectral norm baked, batch norms in eval mode: the export did not change the inverter's own generator.
    assert torch.equal(std.generate(torch.zeros(1, 10)), Inverter.load(STD, "cpu", False).generate(torch.zeros(1, 10)))


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/dist/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_ort_web_rejects_a_tarball_that_is_not_the_pinned_one(tmp_path):
    fake = tmp_path / "onnxruntime-web.tgz"
    fake.write_bytes(_tarball({name: b"x" for name in ort_web.FILES}))
    with pytest.raises(UserError, match="sha512 differs"):
        ort_web.ensure(fake, cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / ort_web.SCRIPT).write_text("")
    with pytest.raises(UserError, match="lacks"):
        ort_web.ensure(tmp_path / "partial")


def _ort_files() -> Path:
    try:
        return ort_web.ensure()
    except UserError as err:
        pytest.skip(f"ONNX Runtime Web {ort_web.VERSION} is not cached and cannot be downloaded: {err}")


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    files = _ort_files()
    out = tmp_path_factory.mktemp("explorer") / "page"
    args = ["explore", "--run", STD, "--run", ROBUST, "--out", out, "--images", 12, "--device", "cpu"]
    assert evaluate.main([str(a) for a in [*args, "--ort-web", files]]) == 0
    return out


def test_explore_writes_a_self_contained_folder(explorer):
    names = {str(p.relative_to(explorer)) for p in explorer.rglob("*") if p.is_file()}
    assert {"index.html", "explorer.js", "explorer.css", "data.js", "models.js", "results.json"} <= names
    assert {"vendor/ort.js", "vendor/ort-glue.js", "vendor/ort-wasm.js", "vendor/NOTICE.txt"} <= names
    html = (explorer / "index.html").read_text()
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network
    results = __import__("json").loads((explorer / "results.json").read_text())
    assert results["images"] == 12 and set(results["onnx_max_error"]) == {"inverter-std", "inverter-robust"}
    assert max(results["onnx_max_error"].values()) <= TOLERANCE
    # Emptied on the next run only if it holds an explorer: another folder is refused.
    other = explorer.parent / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert evaluate.main(["explore", "--run", str(STD), "--out", str(other), "--images", "2", "--device", "cpu"]) == 2
    assert (other / "notes.txt").exists()


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if path is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium; or set CHROMIUM=/path)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (requirements-test.txt)")
    return path


def _reconstruction(page, run: int) -> np.ndarray:
    """The run's reconstruction as the page drew it: the canvas's red channel, (H, W) uint8."""
    rgba = page.evaluate(
        f"""() => {{ const c = document.getElementById('recon-{run}');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }}"""
    )
    side = int(round((len(rgba) / 4) ** 0.5))
    return np.asarray(rgba, dtype=np.int16).reshape(side, side, 4)[..., 0]


def _pytorch(inverter: Inverter, used: dict) -> np.ndarray:
    logits = torch.tensor([used["logits"]], dtype=torch.float32)
    noise = torch.tensor([used["noise"]], dtype=torch.float32)
    return to_uint8(inverter.generate(logits, noise=noise))[0, 0].numpy().astype(np.int16)


def _settle(page, renders_before: int) -> dict:
    page.wait_for_function(f"window.explorer.renders > {renders_before} && window.explorer.idle()", timeout=30000)
    return page.evaluate("({runs: window.explorer.runs.map(r => r.used), renders: window.explorer.renders})")


def test_the_page_reacts_to_a_slider_like_pytorch(explorer):
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    inverters = [Inverter.load(p, device="cpu", classifier=False) for p in (STD, ROBUST)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto((explorer / "index.html").as_uri())
            page.wait_for_function("window.explorer && (window.explorer.ready || window.explorer.error)", timeout=60000)
            assert page.evaluate("window.explorer.error") is None and not errors

            page.locator("#thumbs canvas").nth(3).click()  # the fourth image
            state = _settle(page, 0)
            data = page.evaluate("window.EXPLORER_DATA")
            for r, inverter in enumerate(inverters):
                assert state["runs"][r]["logits"] == pytest.approx(data["runs"][r]["logits"][3], abs=0)
                assert np.abs(_reconstruction(page, r) - _pytorch(inverter, state["runs"][r])).max() <= 1
            before = _reconstruction(page, 0)

            # Drag the standard classifier's logit of its top class to the slider's end (End key on the slider).
            k = int(np.argmax(data["runs"][0]["logits"][3]))
            page.locator(f"#logit-0-{k} input").press("End")
            state = _settle(page, state["renders"])
            expected = list(data["runs"][0]["logits"][3])
            expected[k] = data["runs"][0]["slider_range"][1]
            assert state["runs"][0]["logits"] == pytest.approx(expected, rel=1e-6)
            after = _reconstruction(page, 0)
            assert np.abs(after - _pytorch(inverters[0], state["runs"][0])).max() <= 1
            assert np.abs(after - before).max() > 10  # the picture moved

            # New noise: the page's draw, fed to PyTorch, gives the page's pixels for both runs.
            page.click("#resample")
            state = _settle(page, state["renders"])
            for r, inverter in enumerate(inverters):
                assert np.abs(np.asarray(state["runs"][r]["noise"])).max() > 0
                assert np.abs(_reconstruction(page, r) - _pytorch(inverter, state["runs"][r])).max() <= 1

            # Shift every logit by 1 x s: the logits move by the run's unit, the softmax does not.
            page.click("#reset")
            state = _settle(page, state["renders"])
            page.click("#shift")
            state = _settle(page, state["renders"])
            for r in range(2):
                shifted = np.asarray(data["runs"][r]["logits"][3]) + data["runs"][r]["unit"]
                assert np.asarray(state["runs"][r]["logits"]) == pytest.approx(shifted, abs=1e-5)
            assert "ms" in page.inner_text("#timing")
            assert not errors
        finally:
            browser.close()


def test_without_npm_or_a_cached_runtime_the_error_says_to_pass_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(ort_web.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"npm is not installed .* --ort-web FILE.tgz"):
        ort_web.ensure(cache=tmp_path / "empty-cache")


def test_a_generator_with_fourier_features_exports_to_onnx(run_tiny, tmp_path):
    """The sines and cosines of the logits' projections (model.g.fourier_features) go through ONNX too."""
    code, run_dir = run_tiny("model.g.fourier_features=8", "model.g.fourier_scale=2")
    assert code == 0
    inverter = Inverter.load(run_dir, device="cpu", classifier=False)
    path = export_generator(inverter, tmp_path / "fourier.onnx")
    assert export_error(inverter, path) <= TOLERANCE
