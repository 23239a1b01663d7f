"""The output model between the classifier and the inverter (classifiers/outputs.py): each transform's
known answer, its parsing, and a tiny run per kind that trains, stores it in its snapshot and is
evaluated through it."""

import math

import pytest
import torch

import evaluate
from classifiers import ClassifierConfig, load_classifier
from classifiers.outputs import parse_output
from infra.errors import UserError
from inversion import Inverter

Z = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.0, 3.0, 0.0, 0.0]])
# softmax of the first row by hand: e^(2-i) / (e^2 + e + 1 + e^-1)
S = math.e**2 + math.e + 1 + math.e**-1
P0 = [math.e**2 / S, math.e / S, 1 / S, math.e**-1 / S]  # 0.6439, 0.2369, 0.0871, 0.0321
S1 = math.e**3 + 3
P1 = [1 / S1, math.e**3 / S1, 1 / S1, 1 / S1]  # 0.0431, 0.8707, 0.0431, 0.0431


def test_each_output_kind_has_its_known_answer():
    assert torch.equal(parse_output("logits")(Z), Z)
    torch.testing.assert_close(parse_output("softmax")(Z), torch.tensor([P0, P1]))
    log_s = torch.tensor([[2 - math.log(S), 1 - math.log(S), -math.log(S), -1 - math.log(S)]])
    torch.testing.assert_close(parse_output("log_softmax")(Z)[:1], log_s)
    torch.testing.assert_close(parse_output("topk:2")(Z)[0], torch.tensor([P0[0], P0[1], 0, 0]))
    # Row 2 has three tied values at 1/S1: top-2 keeps the largest and one of the tied ones.
    row = parse_output("topk:2")(Z)[1]
    assert (
        int((row > 0).sum()) == 2
        and float(row[1]) == pytest.approx(P1[1])
        and float(row.sum()) == pytest.approx(P1[0] + P1[1])
    )
    torch.testing.assert_close(parse_output("round:1")(Z), torch.tensor([[0.6, 0.2, 0.1, 0.0], [0.0, 0.9, 0.0, 0.0]]))
    torch.testing.assert_close(parse_output("topk:1+round:2")(Z), torch.tensor([[0.64, 0, 0, 0], [0, 0.87, 0, 0]]))
    assert torch.equal(parse_output("label")(Z), torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
    assert parse_output("round:2+topk:5").spec == "topk:5+round:2"


def test_the_attackers_log_undoes_the_softmax_and_floors_the_zeros():
    log_s = torch.tensor([[2 - math.log(S), 1 - math.log(S), -math.log(S), -1 - math.log(S)]])
    torch.testing.assert_close(parse_output("softmax+log")(Z)[:1], log_s)  # log(softmax) = log_softmax
    floor = math.log(1e-7)
    torch.testing.assert_close(
        parse_output("topk:2+log")(Z)[:1], torch.tensor([[math.log(P0[0]), math.log(P0[1]), floor, floor]])
    )
    torch.testing.assert_close(
        parse_output("round:1+log")(Z)[:1], torch.tensor([[math.log(0.6), math.log(0.2), math.log(0.1), floor]])
    )
    assert parse_output("topk:5+round:2+log").spec == "topk:5+round:2+log" and parse_output("softmax+log").log


@pytest.mark.parametrize(
    "spec",
    ["soft", "topk:0", "round:9", "topk:2+topk:3", "topk:", "label+round:2", "", "logits+log", "label+log", "log"],
)
def test_a_bad_output_spec_is_a_user_error(spec):
    with pytest.raises(UserError, match="classifier.output"):
        parse_output(spec)


def test_the_classifier_applies_it_once_and_keeps_raw_logits_for_attacks():
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    raw = load_classifier(ClassifierConfig(name="random:vgg_small"), 3)
    top = load_classifier(ClassifierConfig(name="random:vgg_small", output="topk:3"), 3)
    torch.testing.assert_close(top.logits(x), raw(x))
    out = top(x)
    assert torch.equal((out > 0).sum(1), torch.full((3,), 3))
    torch.testing.assert_close(out.max(1).values, raw(x).softmax(1).max(1).values)


@pytest.mark.parametrize(
    "spec", ["softmax", "log_softmax", "topk:1", "round:2", "topk:2+round:2", "topk:2+round:2+log", "label"]
)
def test_a_run_trains_stores_and_evaluates_through_its_output_model(run_tiny, spec, tmp_path):
    code, run_dir = run_tiny(f"classifier.output={spec}", name=f"out-{spec.replace(':', '').replace('+', '-')}")
    assert code == 0
    inv = Inverter.load(run_dir, device="cpu")
    assert inv.output == spec
    x = torch.rand(6, 3, 32, 32) * 2 - 1
    given = inv.logits(x)
    probs = inv.classifier.logits(x).softmax(1)  # what an API would compute from the raw logits
    # The conditioning statistics are measured on the outputs: their per-class means sum as the
    # outputs do.
    mean_sum = float(inv.generator.logit_norm.mean.sum())
    if spec in ("softmax", "label"):
        torch.testing.assert_close(given.sum(1), torch.ones(6))
        assert mean_sum == pytest.approx(1.0, abs=1e-5)
    if spec == "label":
        assert set(given.unique().tolist()) <= {0.0, 1.0} and torch.equal(given.argmax(1), probs.argmax(1))
    elif spec == "log_softmax":
        torch.testing.assert_close(given.exp().sum(1), torch.ones(6))
        assert mean_sum < 0
    elif spec == "topk:1":
        assert torch.equal((given > 0).sum(1), torch.ones(6, dtype=torch.long))
        torch.testing.assert_close(given.max(1).values, probs.max(1).values)
        assert 0 < mean_sum <= 1.0 + 1e-5
    elif spec.endswith("+log"):  # the attacker's log of two rounded probabilities, the floor elsewhere
        assert bool(((given > math.log(1e-7) + 1).sum(1) <= 2).all()) and bool((given <= 0).all())
        torch.testing.assert_close(
            given.clamp_min(math.log(1e-7) + 1).exp().sum(1),
            probs.topk(2).values.sum(1).mul(100).round().div(100),
            atol=0.011,
            rtol=0,
        )
    elif spec.endswith("round:2"):
        torch.testing.assert_close(given * 100, (given * 100).round())
        assert bool(((given > 0).sum(1) <= (2 if spec.startswith("topk") else 10)).all())
        assert 0 < mean_sum <= 1.0 + 0.05
    # A classifier passed in is seen through the inverter's output model too.
    raw = load_classifier(ClassifierConfig(name="random:vgg_small", num_classes=10), 3)
    passed = Inverter.load(run_dir, device="cpu", classifier=raw)
    torch.testing.assert_close(passed.logits(x), given)
    assert evaluate.main(["grid", "--run", str(run_dir), "--n", "4", "--out", str(tmp_path / "grid")]) == 0


def test_the_leakage_grid_shows_each_finished_output_kind_and_leaves_out_the_rest(run_tiny, tmp_path, monkeypatch):
    import json
    import shutil

    from safetensors import safe_open
    from safetensors.torch import save_file

    from experiments import leakage_grid

    # The leakage experiment's names (experiments/manifest.py): gan-<classifier>-<output>-seed0; the logits
    # run is the reference experiment's gan-<classifier>-seed0 (here one folder holds both experiments).
    assert run_tiny("classifier.output=label", name="gan-std-label-seed0")[0] == 0
    assert run_tiny(name="gan-std-seed0")[0] == 0
    # A run still training: its snapshot is a checkpoint's, from before its last step.
    shutil.copytree(tmp_path / "gan-std-seed0", tmp_path / "gan-std-softmax-log-seed0")
    path = tmp_path / "gan-std-softmax-log-seed0" / "snapshot.safetensors"
    with safe_open(str(path), framework="pt") as f:
        header, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    meta = json.loads(header["meta"])
    meta["step"] = 2
    save_file(tensors, str(path), metadata={**header, "meta": json.dumps(meta)})
    drawn = {}

    class Picture:
        def save(self, out):
            drawn["out"] = out

    def table_grid(cells, title, row_labels):
        drawn["rows"], drawn["shape"] = row_labels, cells.shape
        return Picture()

    monkeypatch.setattr(leakage_grid, "table_grid", table_grid)
    out = tmp_path / "grid.png"
    assert leakage_grid.main([str(tmp_path), "--reference", str(tmp_path), "--out", str(out)]) == 0
    assert drawn["rows"] == ["test image", "logits (std)", "label (std)"]  # the softmax+log run is unfinished
    assert drawn["shape"][0] == 3 and drawn["out"] == out
    assert leakage_grid.main([str(tmp_path), "--out", str(out)]) == 0
    assert drawn["rows"] == ["test image", "label (std)"]  # the logits rows come from the reference experiment
