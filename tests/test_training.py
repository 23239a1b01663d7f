"""train.py end to end on configs/tiny.yaml: outputs, resume, errors."""

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import inversion.training.trainer as trainer_module
from infra.checkpoints import list_checkpoints
from infra.config import load_config
from inversion import Inverter
from inversion.config import Config
from inversion.training.trainer import Trainer


def test_tiny_run_writes_everything(run_tiny):
    code, run_dir = run_tiny()
    assert code == 0
    assert (run_dir / "config.yaml").is_file()
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-0000002", "step-0000004"]
    assert (run_dir / "samples" / "step-0000004.png").is_file()
    assert (run_dir / "snapshot.safetensors").is_file()
    assert any((run_dir / "tb").iterdir())
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == [2, 4]
    for key in (
        "loss/d_real",
        "loss/d_fake",
        "loss/g",
        "d_out/real",
        "d_out/fake",
        "grad_norm/d",
        "grad_norm/g",
        "recon/top1_agreement",
        "images_per_s",
    ):
        assert all(key in s and s[key] == s[key] for s in stats), key
    inv = Inverter.load(run_dir, device="cpu")
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    recon = inv.reconstruct(images)
    assert recon.shape == (3, 3, 32, 32)
    torch.testing.assert_close(recon, inv.reconstruct(images))  # zero noise: deterministic
    assert not torch.allclose(inv.reconstruct(images, noise="random", seed=1), recon)
    assert inv.meta["step"] == 4


def test_one_step_changes_generator_and_discriminator(tmp_path, tiny_config):
    cfg = load_config(Config, tiny_config, [f"runs_dir={tmp_path}", "name=one", "train.max_steps=1"])
    trainer = Trainer(cfg, tmp_path / "one")
    before_g = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    before_d = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    trainer.fit()
    for before, module in ((before_g, trainer.G), (before_d, trainer.D)):
        after = module.state_dict()
        changed = [k for k in before if k.endswith("original") and not torch.equal(before[k], after[k])]
        assert changed, "no weight moved"


def test_resume_gives_bit_identical_steps(run_tiny, tmp_path):
    code, full = run_tiny("train.max_steps=6", "train.keep_checkpoints=5", name="full")
    assert code == 0
    part = tmp_path / "part"
    shutil.copytree(full, part)
    for ckpt in list_checkpoints(part)[1:]:  # keep only step 2
        shutil.rmtree(ckpt)
    (part / "snapshot.safetensors").unlink()
    code, _ = run_tiny(name="part", resume=True)
    assert code == 0
    for name in ("model.safetensors", "model_1.safetensors"):  # G and D
        a = load_file(str(full / "checkpoints/step-0000006" / name))
        b = load_file(str(part / "checkpoints/step-0000006" / name))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), key
    a, b = load_file(str(full / "snapshot.safetensors")), load_file(str(part / "snapshot.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)  # the EMA generator too


def test_resume_continues_to_a_higher_max_steps(run_tiny):
    assert run_tiny()[0] == 0
    code, run_dir = run_tiny("train.max_steps=6", resume=True)
    assert code == 0
    assert list_checkpoints(run_dir)[-1].name == "step-0000006"


def test_new_run_refuses_an_existing_run_folder(run_tiny, capsys):
    assert run_tiny()[0] == 0
    code, run_dir = run_tiny()
    assert code == 2
    assert "already holds a run" in capsys.readouterr().err


def test_unknown_key_lists_valid_keys(run_tiny, capsys):
    code, _ = run_tiny("train.max_stepz=3")
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown config key train.max_stepz" in err and "train.max_steps" in err


def test_resume_with_changed_model_names_the_difference(run_tiny, capsys):
    assert run_tiny()[0] == 0
    capsys.readouterr()
    code, _ = run_tiny("model.d.ch=8", resume=True)
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot resume with a changed model" in err and "model.d.ch: 4 -> 8" in err


def test_corrupt_checkpoint_gives_a_clear_error(run_tiny, capsys):
    code, run_dir = run_tiny()
    assert code == 0
    latest, earlier = list_checkpoints(run_dir)[-1], list_checkpoints(run_dir)[0]
    weights = latest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    earlier_bytes = (earlier / "model.safetensors").read_bytes()
    capsys.readouterr()
    code, _ = run_tiny("train.max_steps=6", resume=True)
    assert code == 2
    err = capsys.readouterr().err
    assert "is damaged: model.safetensors has 100 bytes" in err and f"delete {latest}" in err and "step-0000002" in err
    assert (earlier / "model.safetensors").read_bytes() == earlier_bytes
    assert weights.stat().st_size == 100  # nothing overwritten either


def test_nan_loss_stops_at_that_step_and_keeps_the_last_good_checkpoint(run_tiny, capsys, monkeypatch):
    calls = {"n": 0}
    real_loss = trainer_module.hinge_d_loss

    def poisoned(d_real, d_fake):  # two D steps per G step: calls 5 and 6 belong to step 3
        calls["n"] += 1
        real, fake = real_loss(d_real, d_fake)
        return (real * float("nan"), fake) if calls["n"] == 5 else (real, fake)

    monkeypatch.setattr(trainer_module, "hinge_d_loss", poisoned)
    code, run_dir = run_tiny("train.max_steps=6", "train.log_every=4", "train.sample_every=100")
    assert code == 2
    err = capsys.readouterr().err
    assert "NaN or infinite at step 3" in err and "step-0000002" in err
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-0000002"]
    from inversion.snapshot import load_snapshot

    assert load_snapshot(run_dir)[1]["step"] == 2


def test_classifier_class_count_mismatch(run_tiny, capsys):
    code, _ = run_tiny(
        "classifier.num_classes=10",
        "data.synthetic_classes=10",
        "classifier.name=timm:resnet18",
        "classifier.pretrained=false",
        "data.resolution=32",
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "has 1000 classes but the config says classifier.num_classes=10" in err


def test_missing_data_set_says_how_to_get_it(run_tiny, capsys, monkeypatch, tmp_path):
    import infra.datasets as data_module

    monkeypatch.setattr(data_module, "FMNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.chdir(tmp_path)  # the default data root, data/, is empty here
    code, _ = run_tiny("data.name=fashion-mnist", "data.download=false")
    assert code == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err
    code, _ = run_tiny("data.name=fashion-mnist", f"data.root={tmp_path / 'empty'}", "data.download=false", name="b")
    assert code == 2
    assert f"data.root={tmp_path / 'empty'} holds no Fashion-MNIST" in capsys.readouterr().err


def test_bad_resolution_is_reported(run_tiny, capsys):
    code, _ = run_tiny("data.resolution=40")
    assert code == 2
    assert "resolution 40 is not in the architecture table" in capsys.readouterr().err


def test_logit_consistency_ablation_runs(run_tiny):
    code, run_dir = run_tiny("train.logit_loss_weight=0.5", "train.max_steps=2")
    assert code == 0 and (run_dir / "snapshot.safetensors").is_file()


def test_dry_run_prints_the_resolved_config(tiny_config, capsys):
    import train

    assert train.main(["--config", tiny_config, "train.max_steps=77", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "max_steps: 77" in out and "# run folder: runs/tiny" in out


def test_inverter_finds_a_relative_classifier_path_from_another_folder(tmp_path, tiny_config, monkeypatch):
    import train
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    save_classifier(
        work / "c.safetensors",
        build_arch("vgg_small", 10, 3, width=4),
        "vgg_small",
        4,
        ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3),
    )
    monkeypatch.chdir(work)
    assert (
        train.main(
            [
                "--config",
                tiny_config,
                "runs_dir=runs",
                "name=rel",
                "classifier.name=project",
                "classifier.checkpoint=c.safetensors",
                "classifier.num_classes=null",
                "train.max_steps=2",
            ]
        )
        == 0
    )
    monkeypatch.chdir(elsewhere)
    inv = Inverter.load(work / "runs" / "rel", device="cpu")
    assert inv.reconstruct(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_bf16_autocast_path_runs_on_cpu(tmp_path, tiny_config):
    """The GPU default (bf16 autocast via accelerate), exercised on the CPU in a fresh process (accelerate's
    precision setting is process-wide)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [
            sys.executable,
            str(root / "train.py"),
            "--config",
            tiny_config,
            f"runs_dir={tmp_path}",
            "train.mixed_precision=bf16",
            "train.logit_loss_weight=0.1",
            "train.max_steps=2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stats = [json.loads(line) for line in (tmp_path / "tiny" / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["step"] == 2 and all(v == v for v in stats[-1].values())
    assert (tmp_path / "tiny" / "snapshot.safetensors").is_file()


def test_compile_trains_the_same_networks(run_tiny, tmp_path, tiny_config):
    """torch.compile of G and D through accelerate (the aot_eager backend traces them as inductor would,
    without its minutes of C++ compilation on a CPU) changes speed, not results. A fresh process, since
    accelerate's compile setting is process-wide."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [
            sys.executable,
            str(root / "train.py"),
            "--config",
            tiny_config,
            f"runs_dir={tmp_path}",
            "name=compiled",
            "train.compile=default",
            "train.compile_backend=aot_eager",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    code, eager = run_tiny(name="eager")
    assert code == 0
    a, b = (
        load_file(str(eager / "snapshot.safetensors")),
        load_file(str(tmp_path / "compiled" / "snapshot.safetensors")),
    )
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-6, msg=key)


def test_channels_last_and_fused_adam(tmp_path, tiny_config):
    """The settings reach the networks and the optimisers, NHWC networks compute what NCHW ones do, and a
    step with both runs. (Whole training runs are not compared: Adam with beta1 = 0 moves each weight by
    about lr * sign(gradient) at first, so rounding flips the steps of weights whose gradient is near 0.)"""
    import copy

    cfg = load_config(
        Config, tiny_config, [f"runs_dir={tmp_path}", "name=nhwc", "train.channels_last=yes", "train.fused_adam=yes"]
    )
    trainer = Trainer(cfg, tmp_path / "nhwc")
    assert trainer.opt_g.optimizer.defaults["fused"] and trainer.opt_d.optimizer.defaults["fused"]
    for module in (trainer.G, trainer.D):
        weights = [p for name, p in module.named_parameters() if p.dim() == 4]
        assert weights and all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
        reference = copy.deepcopy(module).to(memory_format=torch.contiguous_format).eval()
        module.eval()
        logits = torch.randn(4, 10)
        if module is trainer.G:
            noise = torch.randn(4, cfg.model.g.dim_noise)
            torch.testing.assert_close(module(noise, logits), reference(noise, logits), rtol=1e-4, atol=1e-5)
        else:
            images = torch.randn(4, 3, 32, 32)
            torch.testing.assert_close(
                module(images.contiguous(memory_format=torch.channels_last), logits),
                reference(images, logits),
                rtol=1e-4,
                atol=1e-5,
            )
        module.train()
    before = [p.detach().clone() for p in trainer.G.parameters()]
    out = trainer.train_step(0)
    assert all(torch.isfinite(out[k]) for k in ("loss_real", "loss_fake", "g_loss"))
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters()))


def test_speed_settings_are_checked(run_tiny, capsys):
    assert run_tiny("train.channels_last=maybe")[0] == 2
    assert "train.channels_last='maybe' is not a valid choice: use one of auto, yes, no" in capsys.readouterr().err
    assert run_tiny("train.compile=fast")[0] == 2
    assert (
        "train.compile='fast' is not a valid choice: use one of no, default, reduce-overhead" in capsys.readouterr().err
    )


def test_the_earliest_bad_step_of_any_process_is_reported():
    from inversion.training.trainer import NO_BAD_STEP, earliest_bad_step

    # Process 0 saw G's gradients go bad at step 7, process 1 its loss at step 3, process 2 nothing.
    gathered = torch.tensor([[7, 4], [3, 1], [NO_BAD_STEP, 0]])
    assert earliest_bad_step(gathered) == (3, "the loss")  # the latest (7) would hide where it began
    assert earliest_bad_step(torch.tensor([[5, 2], [5, 4]])) == (5, "D's gradients and G's gradients")
    assert earliest_bad_step(torch.tensor([[NO_BAD_STEP, 0]] * 2)) == (None, "")


class _NanGradient(torch.autograd.Function):
    """The identity forward; NaN gradients backward: a finite loss whose gradients are not."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_nan_gradients_with_a_finite_loss_stop_training(run_tiny, capsys, monkeypatch):
    calls = {"n": 0}
    real_loss = trainer_module.hinge_g_loss

    def poisoned(d_fake):  # one G step per step: call 3 is step 3
        calls["n"] += 1
        loss = real_loss(d_fake)
        return _NanGradient.apply(loss) if calls["n"] == 3 else loss

    monkeypatch.setattr(trainer_module, "hinge_g_loss", poisoned)
    code, run_dir = run_tiny("train.max_steps=6", "train.log_every=4", "train.sample_every=100")
    assert code == 2
    err = capsys.readouterr().err
    assert "G's gradients became NaN or infinite at step 3" in err and "the loss" not in err.split("became")[0]
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-0000002"]


def test_a_d_step_leaves_g_unchanged_and_a_g_step_leaves_d_unchanged(tmp_path, tiny_config):
    cfg = load_config(Config, tiny_config, [f"runs_dir={tmp_path}", "name=steps"])
    trainer = Trainer(cfg, tmp_path / "steps")

    def weights(module):
        return {k: p.detach().clone() for k, p in module.named_parameters()}

    g_before, d_before = weights(trainer.G), weights(trainer.D)
    images, logits, *_ = trainer._d_step()
    trainer.opt_d.step()
    assert all(p.grad is None for p in trainer.G.parameters())  # G ran under no_grad
    assert all(torch.equal(g_before[k], p) for k, p in trainer.G.named_parameters())
    assert any(not torch.equal(d_before[k], p) for k, p in trainer.D.named_parameters())

    d_after_d_step = weights(trainer.D)
    d_grads = {k: p.grad.clone() for k, p in trainer.D.named_parameters()}
    trainer._g_step(images, logits, adversarial=True)
    trainer.opt_g.step()
    # D's weights and the gradients its own step left are untouched (its spectral-norm vectors, buffers,
    # do advance: every forward in training mode runs a power iteration, as in BigGAN).
    assert all(torch.equal(d_after_d_step[k], p) for k, p in trainer.D.named_parameters())
    assert all(torch.equal(d_grads[k], p.grad) for k, p in trainer.D.named_parameters())
    assert any(not torch.equal(g_before[k], p) for k, p in trainer.G.named_parameters())
    assert all(p.requires_grad for p in trainer.D.parameters())  # switched back on for the next D step


def test_the_ema_generator_follows_then_averages_the_live_one(tmp_path, tiny_config):
    cfg = load_config(Config, tiny_config, [f"runs_dir={tmp_path}", "name=ema", "train.ema_start=1"])
    trainer = Trainer(cfg, tmp_path / "ema")
    live = trainer.accelerator.unwrap_model(trainer.G)
    noise, logits = torch.randn(4, cfg.model.g.dim_noise), torch.randn(4, 10)

    trainer.train_step(0)  # before ema_start: the EMA is a copy of G, so they draw the same images
    live.eval()
    torch.testing.assert_close(trainer.ema.model(noise, logits), live(noise, logits), rtol=0, atol=0)
    live.train()
    previous = {k: v.clone() for k, v in trainer.ema.model.named_parameters()}
    trainer.train_step(1)  # from ema_start on: ema <- decay * ema + (1 - decay) * G, weight by weight
    d = cfg.train.ema_decay
    for name, p in trainer.ema.model.named_parameters():
        expected = d * previous[name] + (1 - d) * dict(live.named_parameters())[name].detach()
        torch.testing.assert_close(p, expected, rtol=1e-6, atol=1e-7, msg=name)
    live.eval()
    assert not torch.allclose(trainer.ema.model(noise, logits), live(noise, logits))


def test_kept_snapshots_give_the_inverter_at_each_checkpoint(run_tiny):
    code, run_dir = run_tiny("train.keep_snapshots=true")
    assert code == 0
    kept = sorted((run_dir / "snapshots").glob("step-*.safetensors"))
    assert [p.name for p in kept] == ["step-0000002.safetensors", "step-0000004.safetensors"]
    assert kept[-1].read_bytes() == (run_dir / "snapshot.safetensors").read_bytes()
    assert Inverter.load(kept[0], device="cpu").meta["step"] == 2


def test_max_minutes_stops_at_a_log_step_with_a_checkpoint_and_a_snapshot(run_tiny, capsys):
    code, run_dir = run_tiny("train.max_steps=1000", "train.max_minutes=1e-9", "train.log_every=3")
    assert code == 0
    assert "train.max_minutes=1e-09 reached at step 3" in capsys.readouterr().out
    assert Inverter.load(run_dir, device="cpu").meta["step"] == 3
    assert max(p.name for p in (run_dir / "checkpoints").glob("step-*")) == "step-0000003"


def test_ctrl_c_finishes_the_step_writes_a_checkpoint_and_says_how_to_resume(tmp_path, tiny_config):
    """SIGINT to a real training process: it stops after its step with a checkpoint and a snapshot, prints
    one line with the --resume command and exits 130; the run then resumes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    run_dir = tmp_path / "ctrl-c"
    argv = [sys.executable, str(root / "train.py"), "--config", tiny_config, f"runs_dir={tmp_path}", "name=ctrl-c"]
    argv += ["train.max_steps=100000", "train.checkpoint_every=100000", "train.sample_every=100000"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run_dir / "stats.jsonl").is_file() and time.time() < deadline:  # training has started
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last.startswith("stopped at step ") and f"accelerate launch train.py --resume {run_dir}" in last
    step = int(last.split()[3].rstrip(","))
    assert (run_dir / "checkpoints" / f"step-{step:07d}").is_dir()
    assert Inverter.load(run_dir, device="cpu").meta["step"] == step
    assert "Traceback" not in err
    import train

    assert train.main(["--resume", str(run_dir), f"train.max_steps={step + 2}"]) == 0


def test_a_run_folder_explains_itself(run_tiny):
    """log.txt keeps what was said (the parameter counts first), stats.jsonl the step time and peak memory,
    and the EMA can be set as a half-life in training images: 0.5 ** (8 images per step / 64) per step."""
    code, run_dir = run_tiny("train.ema_half_life_images=64")
    assert code == 0
    log = (run_dir / "log.txt").read_text().splitlines()
    assert "starting step 0 of 4 on 1 x cpu; G " in log[0] and " parameters, D " in log[0]
    assert "EMA decay 0.917004 per step" in log[0] and any("checkpoint and snapshot written" in line for line in log)
    last = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
    assert last["step_time_s"] > 0 and last["memory/peak_mib"] > 0
    meta = Inverter.load(run_dir, device="cpu").meta
    assert meta["parameters"]["G"] > 0 and meta["parameters"]["D"] > 0


def test_g_learning_rate_follows_a_half_cosine_then_stays():
    """Known answers: the start, the midpoint (the mean of the two ends), the end and past it; 0 steps is
    the paper's constant rate."""
    t = Config().train
    t.g_lr, t.g_lr_final, t.g_lr_decay_steps = 1e-3, 0.1, 100
    rates = [trainer_module.g_learning_rate(t, s) for s in (0, 50, 100, 500)]
    assert rates == pytest.approx([1e-3, 0.55e-3, 1e-4, 1e-4])
    t.g_lr_decay_steps = 0
    assert trainer_module.g_learning_rate(t, 10**6) == 1e-3


def test_a_training_run_decays_g_learning_rate_only(run_tiny):
    """stats.jsonl logs the rate of each logged interval's last step (steps 1 and 3 of a 4-step decay);
    D's rate stays where it was set."""
    code, run_dir = run_tiny("train.g_lr=1e-3", "train.d_lr=2e-3", "train.g_lr_decay_steps=4", "train.g_lr_final=0.2")
    assert code == 0
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    expected = [1e-3 * (0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * s / 4))) for s in (1, 3)]
    assert [s["lr/g"] for s in stats] == pytest.approx(expected)
    trainer = Trainer(load_config(Config, run_dir / "config.yaml"), run_dir, resume=True)
    assert trainer.opt_d.param_groups[0]["lr"] == 2e-3


def test_fourier_features_train_and_load_from_the_snapshot(run_tiny):
    code, run_dir = run_tiny("model.g.fourier_features=4", "model.g.fourier_scale=0.5")
    assert code == 0
    inv = Inverter.load(run_dir, device="cpu")
    frequencies = inv.generator.logit_features.frequencies
    assert frequencies.shape == (10, 4) and 0 < frequencies.std() < 2
    assert inv.reconstruct(torch.rand(2, 3, 32, 32) * 2 - 1).shape == (2, 3, 32, 32)
