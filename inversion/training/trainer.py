"""The training loop: G(noise, phi(x)) against the projection discriminator D(x, phi(x)), under accelerate.

One step = `num_d_steps` discriminator updates (each on a fresh real batch) + one generator update
on the logits of the last real batch, then the EMA update. The same code runs on a CPU, one GPU or
many; accelerate owns devices, mixed precision, gradient all-reduce and checkpoint state, and only
the main process writes logs, grids, checkpoints and snapshots.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import set_seed

from classifiers import load_classifier
from infra.batches import eval_batches, training_stream
from infra.checkpoints import TrainState, list_checkpoints, load_latest_checkpoint, resume_point, save_checkpoint
from infra.config import to_dict
from infra.datasets import load_data
from infra.devices import mixed_precision
from infra.errors import UserError
from infra.faults import kill_here
from infra.lock import rank_zero_lock
from infra.runs import RunLog, ensure_new_run, write_config

from ..config import Config
from ..model import build_discriminator, build_generator
from ..presentation.images import reconstruction_grid, save_image
from ..snapshot import SNAPSHOT, load_snapshot, save_snapshot
from .ema import EMA
from .hinge_loss import hinge_d_loss, hinge_g_loss
from .logit_consistency import logit_consistency_loss
from .logit_statistics import measure_logit_statistics
from .reconstruction_loss import feature_loss, pixel_loss
from .speed_settings import dynamo_plugin, switch
from .standing_statistics import with_standing_statistics


def _grad_norm(module: torch.nn.Module) -> torch.Tensor:
    """The global L2 norm of the module's gradients, on its device (no host sync; a few foreach kernels).
    It is finite exactly when every gradient is (fp16, whose loss scaling makes inf gradients normal, is
    not offered)."""
    params = list(module.parameters())
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), device=params[0].device)
    return torch.nn.utils.get_total_norm(grads, foreach=True)


def _weights_finite(*modules: torch.nn.Module) -> torch.Tensor:
    """True when every parameter of the modules is finite (on their device, no host sync)."""
    params = [p for m in modules for p in m.parameters()]
    return torch.isfinite(torch.nn.utils.get_total_norm(params, foreach=True))


# What went non-finite at a step, as bit flags (reported by name when training stops).
NONFINITE = {1: "the loss", 2: "D's gradients", 4: "G's gradients", 8: "the weights"}
NO_BAD_STEP = 2**62  # larger than any step: the minimum over processes is the earliest bad step


def peak_memory_mib(device: torch.device) -> float:
    """The peak memory of this process so far: on a GPU its allocator's, on a CPU the resident set's."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def ema_decay(t) -> float:
    """The EMA's per-step decay: from train.ema_half_life_images when set (the half-life in training images,
    so that adding processes, which adds images per step, does not change it), else train.ema_decay."""
    if not t.ema_half_life_images:
        return t.ema_decay
    return 0.5 ** (t.batch_size * PartialState().num_processes / t.ema_half_life_images)


def g_learning_rate(t, step: int) -> float:
    """G's learning rate at a step (train.g_lr_decay_steps, train.g_lr_final): a function of the step
    alone, so a resumed run continues the schedule where it stopped."""
    if not t.g_lr_decay_steps:
        return t.g_lr
    progress = min(step / t.g_lr_decay_steps, 1.0)
    return t.g_lr * (t.g_lr_final + (1 - t.g_lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))


def earliest_bad_step(gathered: torch.Tensor) -> tuple[int | None, str]:
    """From every process's (first bad step, NONFINITE flags) rows: the earliest bad step of any process
    and what went non-finite there (in the processes that reached it), or (None, "") when none did."""
    steps, flags = gathered.view(-1, 2).cpu().unbind(1)
    first = int(steps.min())
    if first >= NO_BAD_STEP:
        return None, ""
    bits = 0
    for f in flags[steps == first].tolist():
        bits |= f
    return first, " and ".join(name for bit, name in NONFINITE.items() if bits & bit)


class Interrupted(Exception):
    """A Ctrl-C stopped training after a checkpoint was written at `step`."""

    def __init__(self, step: int):
        super().__init__(f"interrupted at step {step}")
        self.step = step


class _CtrlC:
    """A first SIGINT asks training to stop after its current step (with a checkpoint); a second one stops
    at once (KeyboardInterrupt). Only in the main thread, where Python delivers signals."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


class Trainer:
    def __init__(self, cfg: Config, run_dir: Path, resume: bool = False):
        self.cfg, self.run_dir = cfg, Path(run_dir)
        t = cfg.train
        self.accelerator = Accelerator(
            mixed_precision=mixed_precision(t.mixed_precision, key="train.mixed_precision"),
            dynamo_plugin=dynamo_plugin(t.compile, t.compile_backend),
        )
        acc = self.accelerator
        if acc.is_main_process and not resume:
            write_config(self.run_dir, cfg)  # first: a run stopped during start-up can be started again
        self.device = acc.device
        cuda = self.device.type == "cuda"
        self.channels_last = switch(t.channels_last, "channels_last", cuda)
        # CUDA graphs replay fixed memory: each step must tell them where an iteration begins.
        self.cuda_graphs = t.compile in ("reduce-overhead", "max-autotune") and cuda

        self.data = load_data(cfg.data)
        self.classifier = load_classifier(cfg.classifier, self.data.channels, self.device)
        num_classes = self.classifier.num_classes
        if t.feature_loss_weight > 0 and not self.classifier.has_spatial_stages:
            raise UserError(
                f"train.feature_loss_weight={t.feature_loss_weight} compares the classifier's stage activations, "
                f"but {cfg.classifier.name} exposes none (this project's architectures and timm's do); set "
                f"train.feature_loss_weight=0"
            )

        # Identical initial weights on every process (DDP would broadcast rank 0's anyway), then
        # a different noise stream per process.
        set_seed(t.seed)
        G = build_generator(cfg.model, num_classes, cfg.data.resolution, self.data.channels)
        D = build_discriminator(cfg.model, num_classes, cfg.data.resolution, self.data.channels)
        torch.manual_seed(t.seed + 1 + acc.process_index)

        self.stream = training_stream(self.data.train, cfg.data, t.batch_size, t.seed, acc)
        self.state = TrainState(self.stream)

        if not resume:
            mean, std = measure_logit_statistics(
                self.classifier,
                self.stream.dataset,
                t.logit_stats_samples,
                max(t.batch_size, 256),
                acc,
                cfg.data.num_workers,
            )
            G.logit_norm.set_statistics(mean, std)
            D.logit_norm.set_statistics(mean, std)
        G, D = G.to(self.device), D.to(self.device)
        if self.channels_last:
            # Convolution weights in NHWC make cuDNN pick its NHWC kernels (tensor cores need no
            # transposes); the layout follows through spectral norm's weight / sigma.
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        self.ema = EMA(G, decay=ema_decay(t), start=t.ema_start)
        self.parameters = {"G": parameter_count(G), "D": parameter_count(D)}
        fused = switch(t.fused_adam, "fused_adam", cuda)
        opt_g = torch.optim.Adam(G.parameters(), lr=t.g_lr, betas=tuple(t.betas), eps=t.adam_eps, fused=fused)
        opt_d = torch.optim.Adam(D.parameters(), lr=t.d_lr, betas=tuple(t.betas), eps=t.adam_eps, fused=fused)
        self.G, self.D, self.opt_g, self.opt_d = acc.prepare(G, D, opt_g, opt_d)
        acc.register_for_checkpointing(self.ema, self.state)

        # The fixed grid: the first test images, two fixed noise draws, the same at every step.
        n = min(t.grid_images, len(self.data.test))
        self.grid_images, _ = next(eval_batches(self.data.test, n, self.device))
        g = torch.Generator().manual_seed(t.seed)
        self.grid_noise = [torch.randn(n, cfg.model.g.dim_noise, generator=g).to(self.device) for _ in range(2)]
        self.standing_logits = self._standing_logits()
        self._inference: tuple[int, torch.nn.Module] | None = None  # (step, the EMA generator with its statistics)

        if resume:
            latest = load_latest_checkpoint(acc, self.run_dir)
            if acc.is_main_process:
                print(f"resumed from {latest} at step {self.state.step}")
                self.refresh_snapshot()

    @torch.no_grad()
    def _standing_logits(self) -> torch.Tensor | None:
        """The classifier's logits of a fixed sample of training images (the same in every run with
        this seed), over which the EMA generator's batch-norm statistics are measured."""
        t = self.cfg.train
        if t.standing_samples == 0:
            return None
        dataset = self.stream.dataset
        n = min(t.standing_samples, len(dataset))
        indices = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(t.seed + 7))[:n]
        return torch.cat([self.classifier(x).float() for x, _ in eval_batches(dataset, 256, self.device, indices)])

    def inference_generator(self) -> torch.nn.Module:
        """The EMA generator as snapshots and grids use it: with standing statistics (its own batch-norm
        statistics), unless train.standing_samples is 0. Measured once per step: the grid and the
        snapshot of the same step share it."""
        if self.standing_logits is None:
            return self.ema.model
        if self._inference is None or self._inference[0] != self.state.step:
            t = self.cfg.train
            model = with_standing_statistics(
                self.ema.model, self.standing_logits, self.cfg.model.g.dim_noise, t.batch_size, seed=t.seed
            )
            self._inference = (self.state.step, model)
        return self._inference[1]

    # ------------------------------------------------------------------ one step
    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next real images and the classifier's outputs of them."""
        images, _ = next(self.stream)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            # Under bf16 autocast on a GPU, as the rest of the step (a ResNet-152 at 224 px is not cheap);
            # Inverter.logits computes fp32 logits later: they differ by bf16 rounding only.
            with self.accelerator.autocast():
                logits = self.classifier(images).float()
        return images, logits

    def _d_step(self):
        acc = self.accelerator
        images, logits = self._real_batch()
        with torch.no_grad():
            noise = torch.randn(images.shape[0], self.cfg.model.g.dim_noise, device=self.device)
            fake = self.G(noise, logits)
        # One D call on real and fake together: one spectral-norm power iteration per step instead
        # of two, and one larger batch of kernels. D has no batch norm, so nothing mixes the halves.
        scores = self.D(torch.cat([images, fake.to(images.dtype)]), torch.cat([logits, logits])).float()
        d_real, d_fake = scores.chunk(2)
        loss_real, loss_fake = hinge_d_loss(d_real, d_fake)
        self.opt_d.zero_grad(set_to_none=True)
        acc.backward(loss_real + loss_fake)
        return images, logits, loss_real.detach(), loss_fake.detach(), d_real.detach().mean(), d_fake.detach().mean()

    def adversarial_at(self, step: int) -> bool:
        """Whether the adversarial term (and D's training) is on at this step: its weight is above 0 and
        the warm-up of train.adversarial_start steps (reconstruction terms only) is over."""
        t = self.cfg.train
        return t.adversarial_weight > 0 and step >= t.adversarial_start

    def _g_step(self, images: torch.Tensor, logits: torch.Tensor, adversarial: bool):
        """One generator update on the last real batch: the weighted sum of the adversarial term and the
        paired reconstruction terms (each only when its weight is above 0)."""
        t, acc = self.cfg.train, self.accelerator
        D = acc.unwrap_model(self.D)
        # D's weights need no gradient here; no_sync keeps DDP from all-reducing what is not computed.
        D.requires_grad_(False)
        noise = torch.randn(logits.shape[0], self.cfg.model.g.dim_noise, device=self.device)
        zero = torch.zeros((), device=self.device)
        with acc.no_sync(self.D):
            fake = self.G(noise, logits)
            g_loss = hinge_g_loss(self.D(fake, logits).float()) if adversarial else zero
            loss = t.adversarial_weight * g_loss
            recon = {"pixel": zero, "feature": zero}
            if t.pixel_loss_weight > 0:
                recon["pixel"] = pixel_loss(fake, images)
                loss = loss + t.pixel_loss_weight * recon["pixel"]
            if t.feature_loss_weight > 0:
                with torch.no_grad(), acc.autocast():
                    source = self.classifier.spatial_stages(images)
                with acc.autocast():
                    recon["feature"] = feature_loss(self.classifier.spatial_stages(fake), source)
                loss = loss + t.feature_loss_weight * recon["feature"]
            if t.logit_loss_weight > 0:
                norm = acc.unwrap_model(self.G).logit_norm
                with acc.autocast():
                    recon_logits = self.classifier(fake).float()
                loss = loss + t.logit_loss_weight * logit_consistency_loss(norm(recon_logits), norm(logits))
            self.opt_g.zero_grad(set_to_none=True)
            acc.backward(loss)
        D.requires_grad_(True)
        return fake.detach(), g_loss.detach(), recon["pixel"].detach(), recon["feature"].detach()

    def train_step(self, step: int) -> dict:
        """num_d_steps D updates, one G update, the EMA update; returns the last values as tensors
        (no host sync), with `nonfinite`, the NONFINITE flags of what was not finite in this step (the
        gradient norms, which check that, cost a few foreach kernels per step)."""
        t = self.cfg.train
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        d_finite = torch.ones((), dtype=torch.bool, device=self.device)
        adversarial = self.adversarial_at(step)
        if adversarial:
            for _ in range(t.num_d_steps):
                images, logits, loss_real, loss_fake, d_real, d_fake = self._d_step()
                grad_d = _grad_norm(self.D)  # also the check that every D gradient is finite
                d_finite = d_finite & torch.isfinite(grad_d)
                self.opt_d.step()
        else:  # no adversarial term (yet): D is not trained; its numbers read 0
            images, logits = self._real_batch()
            loss_real = loss_fake = d_real = d_fake = grad_d = torch.zeros((), device=self.device)
        fake, g_loss, loss_pixel, loss_feature = self._g_step(images, logits, adversarial)
        grad_g = _grad_norm(self.G)
        for group in self.opt_g.param_groups:  # a Python float: no host sync, no recompilation
            group["lr"] = g_learning_rate(t, step)
        self.opt_g.step()
        self.ema.update(self.accelerator.unwrap_model(self.G), step)
        loss_finite = torch.isfinite(loss_real + loss_fake + g_loss + loss_pixel + loss_feature)
        nonfinite = (~loss_finite).long() | 2 * (~d_finite).long() | 4 * (~torch.isfinite(grad_g)).long()
        return {
            "nonfinite": nonfinite,
            "logits": logits,
            "fake": fake,
            "loss_real": loss_real,
            "loss_fake": loss_fake,
            "g_loss": g_loss,
            "loss_pixel": loss_pixel,
            "loss_feature": loss_feature,
            "d_real": d_real,
            "d_fake": d_fake,
            "grad_d": grad_d,
            "grad_g": grad_g,
        }

    # ------------------------------------------------------------------ outputs
    @torch.no_grad()
    def write_grid(self, step: int, log: RunLog) -> Path:
        G = self.inference_generator()
        with self.accelerator.autocast():
            logits = self.classifier(self.grid_images).float()
            recons = [G(noise, logits).float() for noise in self.grid_noise]
        grid = reconstruction_grid(self.grid_images, recons)
        path = save_image(grid, self.run_dir / "samples" / f"step-{step:07d}.png")
        log.image("samples/original|ema-noise1|ema-noise2", grid, step)
        return path

    def snapshot_meta(self) -> dict:
        info = dataclasses.asdict(self.classifier.info)
        checkpoint = self.cfg.classifier.checkpoint
        return {
            "step": self.state.step,
            "config": to_dict(self.cfg),
            "channels": self.data.channels,
            "resolution": self.cfg.data.resolution,
            "num_classes": self.classifier.num_classes,
            "classes": self.data.classes,
            "classifier": info,
            "parameters": self.parameters,
            # The config keeps the path as the user wrote it; this finds it from another folder too.
            "classifier_checkpoint_absolute": str(Path(checkpoint).resolve()) if checkpoint else None,
        }

    def checkpoint(self) -> None:
        save_checkpoint(self.accelerator, self.run_dir, self.state.step, self.cfg.train.keep_checkpoints)
        kill_here("before-snapshot", self.state.step, self.accelerator.process_index)
        if self.accelerator.is_main_process:
            path = save_snapshot(self.run_dir, self.inference_generator(), self.snapshot_meta())
            if self.cfg.train.keep_snapshots:  # a copy per checkpoint: identification against training step
                history = self.run_dir / "snapshots" / f"step-{self.state.step:07d}.safetensors"
                history.parent.mkdir(exist_ok=True)
                shutil.copyfile(path, history)

    def refresh_snapshot(self) -> None:
        """After a resume: rewrite the snapshot when it is missing, unreadable, or older than the
        checkpoint (a run killed between the two), so that it always matches the newest checkpoint."""
        try:
            step = load_snapshot(self.run_dir)[1].get("step")  # reads every tensor: checks its checksum too
        except UserError:
            step = None
        if step != self.state.step:
            save_snapshot(self.run_dir, self.inference_generator(), self.snapshot_meta())
            print(
                f"rewrote the snapshot at step {self.state.step} (it was "
                f"{'missing, unreadable or damaged' if step is None else f'at step {step}'})"
            )

    # ------------------------------------------------------------------ the loop
    def _stop_requested(self, ctrl_c: _CtrlC, step: int) -> bool:
        """Whether a Ctrl-C asks to stop now. One process stops after the step it is in; several agree at
        the next log step, so that all of them stop at the same one."""
        if self.accelerator.num_processes == 1:
            return ctrl_c.requested
        if step % self.cfg.train.log_every:
            return False
        asked = torch.tensor(float(ctrl_c.requested), device=self.device)
        return bool(self.accelerator.reduce(asked, reduction="sum") > 0)

    def _time_up(self, started: float) -> bool:
        """Whether train.max_minutes has passed on any process (all of them stop at the same step)."""
        minutes = self.cfg.train.max_minutes
        if not minutes:
            return False
        up = torch.tensor(float(time.perf_counter() - started >= 60 * minutes), device=self.device)
        return bool(self.accelerator.reduce(up, reduction="sum") > 0)

    def fit(self) -> Path:
        t, acc = self.cfg.train, self.accelerator
        main = acc.is_main_process
        # The first step at which a loss, a gradient or a weight was not finite, and what it was (no host sync).
        bad_step = torch.full((), NO_BAD_STEP, dtype=torch.long, device=self.device)
        bad_what = torch.zeros((), dtype=torch.long, device=self.device)
        world_batch = t.batch_size * acc.num_processes
        started = last_time = time.perf_counter()
        last_step = self.state.step
        if self.state.step >= t.max_steps and main:
            print(
                f"the run is already at step {self.state.step} >= train.max_steps={t.max_steps}; "
                f"raise train.max_steps to train further"
            )
        with RunLog(self.run_dir, self.cfg, t.max_steps, self.state.step, "train", main) as log, _CtrlC() as ctrl_c:
            log.note(
                f"{'resuming at' if self.state.step else 'starting'} step {self.state.step} of {t.max_steps} on "
                f"{acc.num_processes} x {self.device.type}; G {self.parameters['G']:,} parameters, D "
                f"{self.parameters['D']:,}; EMA decay {self.ema.decay:.6g} per step"
            )
            while self.state.step < t.max_steps:
                step = self.state.step
                out = self.train_step(step)
                self.state.step = step = step + 1
                kill_here("step", step, acc.process_index)

                final = step == t.max_steps or (step % t.log_every == 0 and self._time_up(started))
                interrupted = self._stop_requested(ctrl_c, step)
                final = final or interrupted
                due_log = step % t.log_every == 0 or final
                due_ckpt = step % t.checkpoint_every == 0 or final
                due_grid = step % t.sample_every == 0 or final
                sync = due_log or due_ckpt or due_grid
                nonfinite = out["nonfinite"]
                if sync:  # weights are checked here only: with finite gradients they turn non-finite only by overflow
                    nonfinite = nonfinite | 8 * (~_weights_finite(self.G, self.D)).long()
                first = (nonfinite > 0) & (bad_step == NO_BAD_STEP)
                bad_step = torch.where(first, torch.full_like(bad_step, step), bad_step)
                bad_what = torch.where(first, nonfinite, bad_what)
                if not sync:
                    continue
                # Host syncs happen only here: never write anything made from non-finite weights.
                first_bad, what = earliest_bad_step(acc.gather(torch.stack([bad_step, bad_what])[None]))
                if first_bad is not None:
                    good = list_checkpoints(self.run_dir)
                    raise UserError(
                        f"{what} became NaN or infinite at step {first_bad}; training stopped and nothing was "
                        f"saved after it. The last good checkpoint is {good[-1] if good else 'none'}. Lower the "
                        f"learning rates (train.g_lr, train.d_lr) or check the classifier's logits"
                    )
                if due_log:
                    with torch.no_grad(), acc.autocast():
                        out["agree"] = (
                            (self.classifier(out["fake"]).argmax(1) == out["logits"].argmax(1)).float().mean()
                        )
                    now = time.perf_counter()
                    names = {
                        "loss/d_real": "loss_real",
                        "loss/d_fake": "loss_fake",
                        "loss/g": "g_loss",
                        "loss/pixel": "loss_pixel",
                        "loss/feature": "loss_feature",
                        "d_out/real": "d_real",
                        "d_out/fake": "d_fake",
                        "recon/top1_agreement": "agree",
                        "grad_norm/d": "grad_d",
                        "grad_norm/g": "grad_g",
                    }
                    values = torch.stack([out[k].float() for k in names.values()])
                    record = dict(zip(names, acc.reduce(values, reduction="mean").tolist()))
                    record["images_per_s"] = (
                        # Real batches per step: num_d_steps with the adversarial term on, else one.
                        (step - last_step)
                        * world_batch
                        * (t.num_d_steps if self.adversarial_at(step - 1) else 1)
                        / max(now - last_time, 1e-9)
                    )
                    record["step_time_s"] = (now - last_time) / max(step - last_step, 1)
                    record["memory/peak_mib"] = peak_memory_mib(self.device)
                    record["lr/g"] = self.opt_g.param_groups[0]["lr"]
                    last_time, last_step = now, step
                    log.scalars(
                        step,
                        record,
                        postfix={
                            "d": f"{record['loss/d_real'] + record['loss/d_fake']:.3f}",
                            "g": f"{record['loss/g']:.3f}",
                            "agree": f"{record['recon/top1_agreement']:.2f}",
                            "img_s": f"{record['images_per_s']:.0f}",
                        },
                    )
                if due_grid and main:
                    self.write_grid(step, log)
                if due_ckpt:
                    self.checkpoint()
                    log.note(f"step {step}: checkpoint and snapshot written", console=False)
                log.advance(step)
                if interrupted:
                    acc.wait_for_everyone()
                    raise Interrupted(step)
                if final and step < t.max_steps:
                    if main:
                        print(
                            f"train.max_minutes={t.max_minutes:g} reached at step {step}; checkpoint and snapshot "
                            "written"
                        )
                    break
            minutes = (time.perf_counter() - started) / 60
            log.note(f"at step {self.state.step} of {t.max_steps} after {minutes:.1f} min of training in this session")
        acc.wait_for_everyone()
        return self.run_dir


def train(cfg: Config, run_dir: Path, resume: bool = False, accept_old_marker: bool = False) -> Path:
    """Train (or, with `resume`, continue) the run in `run_dir`, holding its lock; returns `run_dir`.

    `accept_old_marker`: see `infra.checkpoints.resume_point`."""
    with rank_zero_lock(run_dir):  # a second writer of this folder gets one line naming this process
        if resume:
            resume_point(run_dir, accept_old_marker)  # under the lock, before the data and the classifier load
        else:
            ensure_new_run(run_dir, SNAPSHOT)
        return Trainer(cfg, Path(run_dir), resume=resume).fit()
