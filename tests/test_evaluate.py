"""evaluate.py end to end on a tiny run: every command writes its files."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch

import evaluate
from infra.estimate import Estimate, read_estimates
from inversion.measures import MEASURES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny trained run, an evaluator and a classifier checkpoint (synthetic data, 3 channels)."""
    import train
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch

    root = tmp_path_factory.mktemp("eval")
    assert train.main(["--config", str(ROOT / "configs/tiny.yaml"), f"runs_dir={root}", "name=run"]) == 0
    torch.manual_seed(0)
    info = ClassifierInfo(
        10, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(10)]
    )  # synthetic data's
    evaluator = save_classifier(
        root / "evaluator.safetensors",
        build_arch("vgg_small", 10, 3, width=8),
        "vgg_small",
        8,
        info,
        {"data": "synthetic"},
    )
    classifier = save_classifier(
        root / "classifier.safetensors",
        build_arch("vgg_small", 10, 3, width=4),
        "vgg_small",
        4,
        info,
        {"data": "synthetic"},
    )
    return {"root": root, "run": root / "run", "evaluator": str(evaluator), "classifier": str(classifier)}


def _run(*args):
    assert evaluate.main([str(a) for a in args]) == 0


def _results(folder: Path) -> dict:
    return read_estimates(json.loads((folder / "results.json").read_text()))


def test_grid(tiny):
    _run("grid", "--run", tiny["run"], "--n", 6, "--noise-draws", 2, "--per-row", 3)
    out = tiny["run"] / "eval" / "grid"
    from PIL import Image

    with Image.open(out / "grid.png") as im:  # 2 rows of 3 groups of (original + 3 reconstructions) at 64 px
        assert 3 * 4 * 64 < im.width < 3 * 4 * 64 + 3 * 3 * 2 + 2 * 16 + 16 and 2 * 64 < im.height < 2 * 64 + 2 * 40
    results = _results(out)
    assert results["images"] == 6 and results["title"] == "Reconstructions"
    assert "noise at 0" in results["pictures"]["grid.png"] and results["inverter"]["kind"] == "gan"


def test_fidelity_table(tiny):
    _run("fidelity", "--run", tiny["run"], "--evaluator", tiny["evaluator"], "--candidates", 16, "--noise-draws", 2)
    out = tiny["run"] / "eval" / "fidelity"
    fid = _results(out)["fidelity"]
    assert all(isinstance(v, Estimate) for v in fid.values())
    assert fid["images"].value == 64 and fid["id_candidates"].value == 16
    for key in (
        "mse",
        "psnr",
        "ssim",
        "mse_noise_mean",
        "feature_distance",
        "id_top1",
        "id_top5",
        "evaluator_acc_recon",
        "evaluator_acc_original",
        "top1_agreement",
        "logit_cosine",
        "fid[logit-inversion-evaluator]",
        "diversity",
        "evaluator_top5_recon",
        "knn_distance",
        "precision",
        "recall",
        "density",
        "coverage",
    ):
        assert key in fid and fid[key].value == fid[key].value, key
    assert not fid["lpips"].measured and not fid["fid[inception-v3]"].measured
    assert fid["evaluator_top5_recon"].value >= fid["evaluator_acc_recon"].value
    ident = fid["id_top1"]
    assert ident.kind == "bootstrap" and ident.n == 64 and ident.low <= ident.value <= ident.high
    assert fid["psnr"].low <= fid["psnr"].value <= fid["psnr"].high and fid["psnr"].kind == "bootstrap"
    assert f"| {ident.value:.1%} [{ident.low:.1%}, {ident.high:.1%}] |" in (out / "fidelity.md").read_text()
    assert "| instance | ↑ | " + ident.cell("{:.1%}") + " |" in (out / "fidelity.md").read_text()
    assert fid["evaluator_acc_recon"].kind == "wilson" and MEASURES["evaluator_acc_recon"].level == "class"
    assert fid["evaluator_acc_recon_correct"].n <= 64  # only the images the classifier gets right
    # PRDC on sets of one size, with the real test images' row beside it.
    assert fid["recall"].n == fid["recall_real"].n == 64 and fid["precision_real"].value > 0
    assert "| LPIPS (AlexNet) | instance | ↓ | unavailable: no AlexNet weights |" in (out / "fidelity.md").read_text()
    assert "In brackets: 95% intervals over the test images: Wilson" in (out / "fidelity.md").read_text()


def test_fidelity_requires_an_evaluator(tiny, capsys):
    assert evaluate.main(["fidelity", "--run", str(tiny["run"])]) == 2
    assert "--evaluator PATH is required" in capsys.readouterr().err


@pytest.mark.parametrize("edit", ["shift", "scale", "noise", "interpolate", "swap-top2"])
def test_manipulate(tiny, edit):
    _run(
        "manipulate", "--run", tiny["run"], "--edit", edit, "--n", 3, "--table-images", 20, "--batch-size", 8,
        "--evaluator", tiny["evaluator"],
    )  # fmt: skip
    out = tiny["run"] / "eval" / f"manipulate-{edit}"
    res = _results(out)
    assert len(res["paths"]) == 3 and len(res["levels"]) >= 5 and res["images"] == 20
    assert all(s["judge_keeps_source"].low <= s["judge_keeps_source"].value for s in res["summary"])
    assert "on 20 test images" in (out / "manipulate.md").read_text()
    assert all(len(p["levels"]) == len(res["levels"]) for p in res["paths"])
    assert (out / "grid.png").is_file() and (out / "confidence.png").is_file()
    if edit == "shift":  # the classifier's softmax is the same at every level
        for p in res["paths"]:
            confs = [lv["softmax_confidence"] for lv in p["levels"]]
            assert max(confs) - min(confs) < 1e-5


def test_swap_top2_and_shift_edits():
    from inversion.evaluation.logit_edits import edit, swap_top2

    z = torch.tensor([[1.0, 5.0, 3.0, 0.0]])
    assert swap_top2(z).tolist() == [[1.0, 3.0, 5.0, 0.0]]
    assert edit("shift", z, 2.0, unit=1.5).tolist() == [[4.0, 8.0, 6.0, 3.0]]  # + level x unit, every logit
    assert edit("swap-top2", z, 0.5, unit=1.0).tolist() == [[1.0, 4.0, 4.0, 0.0]]  # halfway: the top two meet
    other = torch.tensor([[3.0, 1.0, 3.0, 2.0]])
    assert edit("interpolate", z, 0.25, unit=1.0, z_other=other).tolist() == [[1.5, 4.0, 3.0, 0.5]]


def test_manipulate_requires_an_independent_judge(tiny, capsys):
    assert evaluate.main(["manipulate", "--run", str(tiny["run"]), "--edit", "shift"]) == 2
    assert "--evaluator PATH is required" in capsys.readouterr().err


def test_invariance(tiny):
    _run("invariance", "--run", tiny["run"], "--evaluator", tiny["evaluator"], "--limit", 16, "--examples", 2)
    out = tiny["run"] / "eval" / "invariance"
    table = _results(out)["transforms"]
    assert set(table) == {"hflip", "shift", "rotation", "brightness", "contrast", "blur", "noise"}
    assert all(r["kept"].low <= r["kept"].value <= r["kept"].high for r in table.values())
    assert (out / "examples.png").is_file() and "random pairing" in (out / "invariance.md").read_text()


def _image_identity():
    """A 'perfect' inverter: phi is the image itself, G redraws it exactly, the evaluator's features are
    the pixels. Then G(phi(T x)) = T x for every T."""
    from types import SimpleNamespace

    classifier = lambda x: x.flatten(1)  # noqa: E731
    reconstruct = lambda z, noise, seed: z.view(-1, 1, 8, 8)  # noqa: E731
    evaluator = SimpleNamespace(features=lambda x: x.flatten(1))
    return classifier, reconstruct, evaluator


def test_invariance_known_answers_and_nulls():
    from inversion.evaluation.invariance import measure

    torch.manual_seed(0)
    # Pixels below 150 of 255, so that brightening (+51) never clips.
    data = [(torch.randint(0, 150, (1, 8, 8), dtype=torch.uint8), torch.tensor(0)) for _ in range(200)]
    classifier, reconstruct, evaluator = _image_identity()
    kept = measure(["hflip", "brightness"], data, torch.arange(200), classifier, evaluator, reconstruct, 50, "cpu")
    # The perfect inverter carries the brightening fully (slope 1); hflip changes no measured attribute.
    assert kept["transforms"]["brightness"]["attribute_carried"].value == pytest.approx(1.0)
    assert "attribute_carried" not in kept["transforms"]["hflip"]
    for t in ("hflip", "brightness"):  # the perfect inverter follows T every time, G(phi(x)) never does
        v = kept["transforms"][t]
        assert v["follows_transform"].value == 1.0 and v["follows_if_ignored"].value == 0.0
        assert v["kept"].interval == (1.0, 1.0)
    # Random pairing: another image's T x' is nearer to T x than to x for brightness (the shift moves both
    # the same way) far more often than for a flip of random pixels, where it is a coin toss.
    assert kept["transforms"]["brightness"]["follows_random_pairing"].value > 0.9
    assert 0.3 < kept["transforms"]["hflip"]["follows_random_pairing"].value < 0.7

    def centred(x):  # a classifier blind to brightness: the image minus its mean
        return (x - x.mean(dim=(1, 2, 3), keepdim=True)).flatten(1)

    blind = measure(["brightness"], data, torch.arange(200), centred, evaluator, reconstruct, 50, "cpu")
    v = blind["transforms"]["brightness"]
    # G(phi(T x)) = G(phi(x)): kept is 0, whatever 'follows T' reads.
    assert v["follows_transform"].value == v["follows_if_ignored"].value and v["kept"].value == 0.0
    assert v["attribute_carried"].value == pytest.approx(0.0, abs=1e-6)  # blind to brightness: carries none


def test_invariance_transform_is_exact_for_flips():
    from inversion.evaluation.invariance import TRANSFORMS

    x = torch.arange(8.0).view(1, 1, 2, 4)
    assert torch.equal(TRANSFORMS["hflip"](x), x.flip(-1))


def test_adversarial_and_subsets(tiny):
    _run(
        "adversarial",
        "--run",
        tiny["run"],
        "--evaluator",
        tiny["evaluator"],
        "--limit",
        16,
        "--steps",
        2,
        "--candidates",
        4,
        "--examples",
        3,
    )
    out = tiny["run"] / "eval" / "adversarial"
    res = _results(out)
    attacks = res["attacks"]
    assert {"untargeted", "targeted", "clean_errors"} <= set(attacks) and res["attack"]["norm"] == "linf"
    assert attacks["untargeted"]["attacked"] + attacks["clean_errors"]["images"] == 16
    assert set(res["subsets"]) == {"correctly classified", "wrongly classified"}
    assert sum(c["images"].value for c in res["subsets"].values()) == 16
    assert (out / "examples.png").is_file() and (out / "subsets.md").is_file()


@pytest.mark.parametrize("source", ["sklearn-digits", "skimage-samples", "folder"])
def test_ood(tiny, tmp_path, source):
    if source == "folder":
        from PIL import Image

        for i in range(3):
            Image.fromarray((torch.rand(20, 30, 3) * 255).byte().numpy()).save(tmp_path / f"{i}.png")
        source = str(tmp_path)
    _run("ood", "--run", tiny["run"], "--images", source, "--limit", 5, "--evaluator", tiny["evaluator"])
    out = next((tiny["run"] / "eval").glob(f"ood-{Path(source).name}"))
    res = _results(out)
    assert 1 <= res["images"] <= 5 and "feature_distance" in res and (out / "grid.png").is_file()


def test_baselines(tiny):
    decoder = tiny["root"] / "decoder"
    _run(
        "baseline",
        "decoder",
        "--classifier",
        tiny["classifier"],
        "--config",
        ROOT / "configs/tiny.yaml",
        "--steps",
        5,
        "--out",
        decoder,
    )
    from inversion import Inverter

    inv = Inverter.load(decoder, device="cpu")
    assert inv.kind == "decoder"
    z = torch.randn(2, 10)
    assert torch.equal(inv.generate(z, noise="random", seed=3), inv.generate(z))  # a decoder ignores noise
    _run("fidelity", "--run", decoder, "--evaluator", tiny["evaluator"], "--candidates", 8, "--limit", 16)
    assert _results(decoder / "eval" / "fidelity")["fidelity"]["diversity"].value == 0.0
    optimize = tiny["root"] / "optimize"
    _run(
        "baseline",
        "optimize",
        "--classifier",
        tiny["classifier"],
        "--config",
        ROOT / "configs/tiny.yaml",
        "--evaluator",
        tiny["evaluator"],
        "--steps",
        3,
        "--limit",
        8,
        "--candidates",
        8,
        "--out",
        optimize,
    )
    res = _results(optimize / "eval" / "fidelity")
    assert res["fidelity"]["images"].value == 8 and (optimize / "eval" / "fidelity" / "grid.png").is_file()


def test_optimisation_inversion_matches_logits():
    from inversion.baselines.optimization import optimize_images

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 10))
    target = net(torch.rand(4, 1, 32, 32) * 2 - 1).detach()
    start = optimize_images(net, target, (1, 32, 32), steps=0)
    done = optimize_images(net, target, (1, 32, 32), steps=60, lr=0.1, tv_weight=0.0)
    err = lambda x: ((net(x) - target) ** 2).sum().item()  # noqa: E731
    assert err(done) < 0.01 * err(start)


class _Checker(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_report_is_valid_html_with_every_image(tiny, tmp_path):
    import base64

    _run("grid", "--run", tiny["run"], "--n", 4)
    _run("report", "--runs", tiny["run"], tiny["run"], "--out", tmp_path / "report")
    text = (tmp_path / "report" / "index.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(text)
    assert not checker.errors and not checker.stack
    assert checker.images
    for src in checker.images:  # every image is embedded and is a PNG
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert '<table class="describe"><thead><tr><th>run</th>' in text  # the runs, whatever else was evaluated


def test_the_report_explains_itself(tiny, tmp_path):
    _run("grid", "--run", tiny["run"], "--n", 4)
    _run("manipulate", "--run", tiny["run"], "--edit", "interpolate", "--n", 2, "--evaluator", tiny["evaluator"])
    _run("report", "--runs", tiny["run"], "--out", tmp_path / "report")
    text = (tmp_path / "report" / "index.html").read_text()
    assert "An inverter" in text and "<h2>Runs</h2>" in text  # an introduction, and what each run is
    assert "<h2>Reconstructions</h2>" in text and "<h2>Logit edit: interpolate</h2>" in text  # not folder names
    assert "<h2>How to read the numbers</h2>" in text and "higher is better" in text
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", text)
    assert len(captions) == len(re.findall(r"<img ", text)) >= 3
    assert not any(c.endswith(".png") for c in captions)  # a caption says what is in the picture
    assert "<code>interpolate</code>" in text  # Markdown code spans are rendered, not shown as backticks


def test_every_command_has_help(capsys):
    commands = ["grid", "fidelity", "manipulate", "invariance", "adversarial", "ood", "report"]
    for command in [[c] for c in commands] + [["baseline", "decoder"], ["baseline", "optimize"]]:
        with pytest.raises(SystemExit) as exit_info:
            evaluate.main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "--device" in capsys.readouterr().out


def test_each_baseline_lists_only_its_own_options(capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["baseline", "decoder", "--help"])
    decoder = capsys.readouterr().out
    assert "--tv" not in decoder and "--evaluator" not in decoder and "--candidates" not in decoder
    with pytest.raises(SystemExit):
        evaluate.main(["baseline", "optimize", "--help"])
    assert "--tv" in capsys.readouterr().out


def test_every_option_of_every_command_has_help():
    import argparse

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.dest != "help" and not action.help:
                missing.append(" ".join([*path, *(action.option_strings or [action.dest])]))

    walk(evaluate.parser(), ["evaluate.py"])
    assert not missing


EXPECTED_COMMANDS = [
    "adversarial", "explore", "fidelity", "grid", "invariance", "manipulate", "ood", "report",
    "baseline decoder", "baseline optimize", "baseline retrieval", "baseline ridge",
    "probe confidence", "probe features", "probe fingerprint", "probe novelty",
    "probe softmax-invariant", "probe style-shift",
]  # fmt: skip


def test_every_registered_command_has_the_same_interface():
    from inversion.commands import REGISTRY, Command

    # The commands listed by hand: one that fails to register, or one added without a test, shows here.
    assert sorted(f"{g} {n}" if g else n for g, n in REGISTRY) == sorted(EXPECTED_COMMANDS)
    for (group, name), command in REGISTRY.items():
        assert isinstance(command, Command) and command.name == name and command.group == group and command.help
        overrides = {m for m in ("run", "write", "execute") if getattr(type(command), m) is not getattr(Command, m)}
        assert {"run", "write"} <= overrides or "execute" in overrides, name
