"""Evaluate inverters: grids, the fidelity table, baselines, logit edits, invariance, adversarial and
out-of-distribution probes, and an HTML report.

    python evaluate.py grid        --run runs/fmnist-robust --n 64 --noise-draws 3
    python evaluate.py fidelity    --run runs/fmnist-robust --evaluator EVAL.safetensors
    python evaluate.py baseline decoder  --classifier CKPT --config configs/fmnist.yaml --out runs/decoder-std
    python evaluate.py baseline optimize --classifier CKPT --evaluator EVAL.safetensors --out runs/optimize-std
    python evaluate.py manipulate  --run R --edit shift|scale|noise|interpolate|swap-top2 [--evaluator EVAL]
    python evaluate.py invariance  --run R --evaluator EVAL
    python evaluate.py adversarial --run R --evaluator EVAL
    python evaluate.py ood         --run R --images DIR|sklearn-digits|skimage-samples
    python evaluate.py report      --runs R1 R2 ... --out report/

Results go to <run>/eval/<command>/ (override with --out): results.json for machines, Markdown
tables and PNG pictures for people. A GPU is used when present.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

from inversion.errors import UserError

EVALUATOR_HINT = ("train one with `python -m classifiers.train --config configs/classifiers/fmnist_evaluator.yaml` "
                  "(another architecture and seed than the inverted classifier)")


# ---------------------------------------------------------------- shared plumbing
def _device(args) -> torch.device:
    return torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))


def _open_run(args):
    from inversion import Inverter
    from inversion.data import load_data

    inv = Inverter.load(args.run, device=_device(args))
    data_cfg = inv.config.data
    if args.data_root:
        data_cfg = dataclasses.replace(data_cfg, root=args.data_root)
    return inv, load_data(data_cfg)


def _evaluator(path, channels: int, device, required: bool = True):
    from classifiers import load_classifier
    from inversion.config import ClassifierConfig

    if path is None:
        if required:
            raise UserError(f"--evaluator PATH is required: the independent classifier whose features judge "
                            f"reconstructions; {EVALUATOR_HINT}")
        return None
    return load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), channels, device)


def _out(args, name: str) -> Path:
    out = Path(args.out) if args.out else Path(args.run) / "eval" / name
    out.mkdir(parents=True, exist_ok=True)
    return out


def _indices(n_total: int, limit: int | None) -> torch.Tensor:
    return torch.arange(n_total if not limit else min(limit, n_total))


def _save_results(out: Path, results: dict, settings: dict) -> None:
    from inversion.fidelity import write_json

    write_json(out / "results.json", {"settings": settings, **results})


def _settings(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}


# ---------------------------------------------------------------- grid
def cmd_grid(args) -> str:
    from inversion.data import eval_batches
    from inversion.grid import reconstruction_grid, save_image

    inv, data = _open_run(args)
    split = data.test if args.split == "test" else data.train
    x, _ = next(eval_batches(split, args.n, inv.device))
    logits = inv.logits(x)
    recons = [inv.generate(logits)] + [inv.generate(logits, noise="random", seed=s) for s in range(args.noise_draws)]
    out = _out(args, "grid")
    path = save_image(reconstruction_grid(x, recons, groups_per_row=args.per_row), out / "grid.png")
    (out / "grid.md").write_text(f"Each group: the {args.split} image, its reconstruction at noise 0, then "
                                 f"{args.noise_draws} reconstructions with random noise (the same logits).\n")
    _save_results(out, {"images": len(x), "png": path.name}, _settings(args))
    return f"grid: {path}"


# ---------------------------------------------------------------- fidelity
def _fidelity_columns(collected, args, evaluator_path, masks: dict | None = None) -> dict:
    from inversion.fidelity import summarize

    masks = masks or {"all": None}
    return {name: summarize(collected, mask, candidates=args.candidates, evaluator_checkpoint=evaluator_path,
                            inception_weights=args.inception_weights, realism=not args.no_realism)
            for name, mask in masks.items()}


def cmd_fidelity(args) -> str:
    from inversion.fidelity import collect, inverter_reconstruct, markdown_table
    from inversion.perceptual import default_alexnet_weights, lpips_model

    inv, data = _open_run(args)
    evaluator = _evaluator(args.evaluator, inv.channels, inv.device)
    lp = lpips_model(args.lpips_weights or default_alexnet_weights(), inv.device)
    start = time.perf_counter()
    collected = collect(inverter_reconstruct(inv), inv.classifier, evaluator, data.test,
                        _indices(len(data.test), args.limit), noise_draws=args.noise_draws,
                        batch_size=args.batch_size, lpips_model=lp, device=inv.device)
    columns = _fidelity_columns(collected, args, args.evaluator)
    seconds = time.perf_counter() - start
    out = _out(args, "fidelity")
    name = Path(args.run).name
    table = markdown_table({name: columns["all"]})
    (out / "fidelity.md").write_text(f"Fidelity of {name} on {columns['all']['images']} test images "
                                     f"({seconds:.1f} s on {inv.device.type}).\n\n{table}")
    _save_results(out, {"fidelity": columns["all"], "seconds": seconds, "device": str(inv.device)}, _settings(args))
    return table + f"\n{seconds:.1f} s; {out / 'results.json'}"


# ---------------------------------------------------------------- baselines
def cmd_baseline(args) -> str:
    from inversion.config import Config, load_config

    overrides = ["classifier.name=project", f"classifier.checkpoint={args.classifier}", *args.overrides]
    if args.data_root:
        overrides.append(f"data.root={args.data_root}")
    cfg = load_config(Config, args.config, overrides)
    if args.steps is None:
        args.steps = 2000 if args.method == "decoder" else 200
    if args.method == "decoder":
        from inversion.baselines import train_decoder

        out = Path(args.out or f"runs/decoder-{Path(args.classifier).parent.name or 'classifier'}")
        train_decoder(cfg, out, steps=args.steps, lr=args.lr or 2e-4)
        return (f"decoder snapshot: {out / 'snapshot.safetensors'}; score it with "
                f"`python evaluate.py fidelity --run {out} --evaluator EVAL`")
    return _baseline_optimize(args, cfg)


def _baseline_optimize(args, cfg) -> str:
    from classifiers import load_classifier
    from inversion.baselines import optimize_reconstruct
    from inversion.data import eval_batches, load_data
    from inversion.fidelity import collect, markdown_table
    from inversion.grid import reconstruction_grid, save_image

    device = _device(args)
    data = load_data(cfg.data)
    classifier = load_classifier(cfg.classifier, data.channels, device)
    evaluator = _evaluator(args.evaluator, data.channels, device)
    shape = (data.channels, cfg.data.resolution, cfg.data.resolution)
    recon = optimize_reconstruct(classifier, shape, steps=args.steps, lr=args.lr or 0.05, tv_weight=args.tv)
    start = time.perf_counter()
    collected = collect(recon, classifier, evaluator, data.test, _indices(len(data.test), args.limit),
                        noise_draws=args.noise_draws, batch_size=args.batch_size, device=device, desc="optimize")
    columns = _fidelity_columns(collected, args, args.evaluator)
    seconds = time.perf_counter() - start
    out = Path(args.out or f"runs/optimize-{Path(args.classifier).parent.name or 'classifier'}") / "eval" / "fidelity"
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table({"optimisation": columns["all"]})
    (out / "fidelity.md").write_text(f"Optimisation-based inversion (Mahendran and Vedaldi 2015): {args.steps} Adam "
                                     f"steps, TV weight {args.tv}, on {columns['all']['images']} test images "
                                     f"({seconds:.1f} s on {device.type}).\n\n{table}")
    x, _ = next(eval_batches(data.test, min(16, len(data.test)), device))
    logits = classifier(x).float()
    save_image(reconstruction_grid(x, [recon(logits, "zero", 0), recon(logits, "random", 1)]), out / "grid.png")
    _save_results(out, {"fidelity": columns["all"], "seconds": seconds}, _settings(args))
    return table + f"\n{seconds:.1f} s; {out}"


# ---------------------------------------------------------------- logit edits
def cmd_manipulate(args) -> str:
    from inversion.data import eval_batches
    from inversion.grid import table_grid
    from inversion.manipulations import DEFAULT_LEVELS, NOTES, edit, partner_indices

    inv, data = _open_run(args)
    evaluator = _evaluator(args.evaluator, inv.channels, inv.device, required=False)
    judge, judge_name = (evaluator, "evaluator") if evaluator is not None else (inv.classifier, "inverted classifier")
    levels = args.levels or DEFAULT_LEVELS[args.edit]
    pool, pool_labels = next(eval_batches(data.test, min(len(data.test), 4 * args.n), inv.device))
    partners = partner_indices(pool_labels.cpu())
    x, labels = pool[: args.n], pool_labels[: args.n]
    z = inv.logits(x)
    z_other = inv.logits(pool[partners[: args.n].to(pool.device)])
    scale = float(inv.generator.logit_norm.std.mean())
    noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0)).to(z.device)
    images, paths = [], [dict(source_label=int(labels[i]), levels=[]) for i in range(len(x))]
    with torch.no_grad():
        for level in levels:
            edited = edit(args.edit, z, level, scale, z_other=z_other, noise=noise)
            recon = inv.generate(edited)
            prob = torch.softmax(judge(recon).float(), dim=1)
            soft = torch.softmax(edited, dim=1)
            images.append(recon)
            for i in range(len(x)):
                paths[i]["levels"].append({
                    "level": level, "judge_class": int(prob[i].argmax()), "judge_confidence": float(prob[i].max()),
                    "judge_prob_source": float(prob[i, labels[i]]), "softmax_top1": int(soft[i].argmax()),
                    "softmax_confidence": float(soft[i].max())})
    cells = torch.stack([x] + images, dim=1)  # rows: images; columns: original, then the levels
    title = f"{args.edit}: {NOTES[args.edit]}"
    col_labels = ["original"] + [f"{level:g}" for level in levels]
    names = data.classes
    row_labels = [names[int(labels[i])][:10] for i in range(len(x))]
    out = _out(args, f"manipulate-{args.edit}")
    table_grid(cells, title=title, col_labels=col_labels, row_labels=row_labels).save(out / "grid.png")
    _plot_paths(paths, levels, args.edit, judge_name, out / "confidence.png")
    lines = [f"Edit `{args.edit}` ({NOTES[args.edit]}); class judged by the {judge_name}.", "",
             "| level | judge keeps the source class | judge confidence | softmax top-1 = source |",
             "| --- | --- | --- | --- |"]
    for j, level in enumerate(levels):
        keep = sum(p["levels"][j]["judge_class"] == p["source_label"] for p in paths) / len(paths)
        conf = sum(p["levels"][j]["judge_confidence"] for p in paths) / len(paths)
        soft = sum(p["levels"][j]["softmax_top1"] == p["source_label"] for p in paths) / len(paths)
        lines.append(f"| {level:g} | {keep:.0%} | {conf:.2f} | {soft:.0%} |")
    (out / "manipulate.md").write_text("\n".join(lines) + "\n")
    _save_results(out, {"edit": args.edit, "levels": levels, "judge": judge_name, "scale": scale, "paths": paths},
                  _settings(args))
    return "\n".join(lines) + f"\n{out}"


def _plot_paths(paths, levels, edit_name, judge_name, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    for p in paths:
        ax.plot(levels, [lv["judge_prob_source"] for lv in p["levels"]], color="tab:blue", alpha=0.3, lw=1)
    mean = [sum(p["levels"][j]["judge_prob_source"] for p in paths) / len(paths) for j in range(len(levels))]
    ax.plot(levels, mean, color="tab:blue", lw=2.5, label="mean")
    ax.set_xlabel(f"{edit_name} level")
    ax.set_ylabel(f"{judge_name}: p(source class)")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------- invariance
def cmd_invariance(args) -> str:
    from inversion.data import eval_batches
    from inversion.fidelity import inverter_reconstruct
    from inversion.grid import table_grid
    from inversion.invariance import TRANSFORMS, probe

    inv, data = _open_run(args)
    evaluator = _evaluator(args.evaluator, inv.channels, inv.device)
    names = args.transforms or list(TRANSFORMS)
    unknown = [t for t in names if t not in TRANSFORMS]
    if unknown:
        raise UserError(f"unknown transform {unknown[0]!r}; choose from {', '.join(TRANSFORMS)}")
    rec = inverter_reconstruct(inv)
    sums: dict[str, dict[str, float]] = {t: {} for t in names}
    count = 0
    for x, _ in eval_batches(data.test, args.batch_size, inv.device, indices=_indices(len(data.test), args.limit)):
        for t in names:
            for key, v in probe(TRANSFORMS[t], x, inv.classifier, evaluator, rec).items():
                sums[t][key] = sums[t].get(key, 0.0) + float(v.sum())
        count += len(x)
    table = {t: {k: v / count for k, v in s.items()} for t, s in sums.items()}
    lines = [f"Invariance on {count} test images: the share of reconstructions G(phi(T x)) nearer (evaluator "
             f"features) to T x than to x. Near 1: phi keeps T; near 0: phi is invariant to it.", "",
             "| transform | follows T | logit change (relative) | phi top-1 changed | pixel MSE of T |",
             "| --- | --- | --- | --- | --- |"]
    for t in names:
        r = table[t]
        lines.append(f"| {t} | {r['follows_transform']:.1%} | {r['logit_change']:.3f} | {r['top1_changed']:.1%} | "
                     f"{r['image_change']:.4f} |")
    x, _ = next(eval_batches(data.test, args.examples, inv.device))
    with torch.no_grad():
        base = rec(inv.logits(x), "zero", 0)
        rows = []
        for t in names:
            tx = TRANSFORMS[t](x)
            rows.append(torch.stack([x, tx, base, rec(inv.logits(tx), "zero", 0)], dim=1))
    cells = torch.cat(rows)  # per transform: `examples` rows of [x, T x, G(phi(x)), G(phi(T x))]
    row_labels = [t if i == 0 else "" for t in names for i in range(len(x))]
    out = _out(args, "invariance")
    table_grid(cells, title="x | T x | G(phi(x)) | G(phi(T x))", col_labels=["x", "T x", "G(phi(x))", "G(phi(Tx))"],
               row_labels=row_labels).save(out / "examples.png")
    (out / "invariance.md").write_text("\n".join(lines) + "\n")
    _save_results(out, {"images": count, "transforms": table}, _settings(args))
    return "\n".join(lines) + f"\n{out}"


# ---------------------------------------------------------------- adversarial and subsets
def cmd_adversarial(args) -> str:
    from classifiers.attacks import PGDConfig, pgd
    from classifiers.evaluate import DEFAULT_THREAT
    from inversion.data import eval_batches
    from inversion.fidelity import collect, inverter_reconstruct, markdown_table
    from inversion.grid import table_grid

    inv, data = _open_run(args)
    evaluator = _evaluator(args.evaluator, inv.channels, inv.device)
    norm, eps = DEFAULT_THREAT.get(inv.config.data.name, ("linf", 8 / 255))
    norm, eps = args.norm or norm, args.eps if args.eps is not None else eps
    attack = PGDConfig(norm=norm, eps=eps, steps=args.steps, step_size=2.5 * eps / args.steps)
    k = inv.num_classes
    totals = {m: {"images": 0, "attack_success": 0, "recon_is_source": 0, "recon_is_adversary": 0}
              for m in ("untargeted", "targeted")}
    examples = None
    g = torch.Generator().manual_seed(0)
    for x, y in eval_batches(data.test, args.batch_size, inv.device, indices=_indices(len(data.test), args.limit)):
        for mode in ("untargeted", "targeted"):
            targets = (y + torch.randint(1, k, y.shape, generator=g).to(y.device)) % k if mode == "targeted" else None
            x_adv = pgd(inv.classifier, x, y, attack, targets=targets, generator=g)
            with torch.no_grad():
                z_adv = inv.classifier(x_adv).float()
                adversary = targets if targets is not None else z_adv.argmax(1)
                success = (z_adv.argmax(1) == targets) if targets is not None else (z_adv.argmax(1) != y)
                recon = inv.generate(z_adv)
                judged = evaluator(recon).argmax(1)
            t = totals[mode]
            t["images"] += len(x)
            t["attack_success"] += int(success.sum())
            t["recon_is_source"] += int((judged == y)[success].sum())
            t["recon_is_adversary"] += int((judged == adversary)[success].sum())
            if examples is None and mode == "untargeted":
                with torch.no_grad():
                    examples = torch.stack([x, x_adv, inv.generate(inv.logits(x)), recon], dim=1)[: args.examples]
    lines = [f"PGD on the inverted classifier ({norm}, eps {eps:g}, {args.steps} steps); the evaluator judges "
             f"G(phi(x_adv)) for the successful attacks.", "",
             "| attack | images | attack success | recon shows source class | recon shows adversary's class |",
             "| --- | --- | --- | --- | --- |"]
    summary = {}
    for mode, t in totals.items():
        s = max(t["attack_success"], 1)
        summary[mode] = {"images": t["images"], "attack_success": t["attack_success"] / max(t["images"], 1),
                         "recon_is_source": t["recon_is_source"] / s, "recon_is_adversary": t["recon_is_adversary"] / s}
        r = summary[mode]
        lines.append(f"| {mode} | {r['images']} | {r['attack_success']:.1%} | {r['recon_is_source']:.1%} | "
                     f"{r['recon_is_adversary']:.1%} |")
    collected = collect(inverter_reconstruct(inv), inv.classifier, evaluator, data.test,
                        _indices(len(data.test), args.limit), noise_draws=0, batch_size=args.batch_size,
                        device=inv.device, desc="subsets")
    correct = collected.classifier_pred == collected.labels
    columns = _fidelity_columns(collected, args, args.evaluator, {"correctly classified": correct,
                                                                  "wrongly classified": ~correct})
    subsets = "Fidelity by whether the inverted classifier got the image right:\n\n" + markdown_table(columns)
    out = _out(args, "adversarial")
    table_grid(examples, title="x | x_adv | G(phi(x)) | G(phi(x_adv))",
               col_labels=["x", "x_adv", "G(phi(x))", "G(phi(x_adv))"]).save(out / "examples.png")
    (out / "adversarial.md").write_text("\n".join(lines) + "\n")
    (out / "subsets.md").write_text(subsets)
    _save_results(out, {"attacks": summary, "attack": dataclasses.asdict(attack), "subsets": columns}, _settings(args))
    return "\n".join(lines) + "\n\n" + subsets + f"\n{out}"


# ---------------------------------------------------------------- out of distribution
def cmd_ood(args) -> str:
    from inversion import metrics
    from inversion.grid import reconstruction_grid, save_image
    from inversion.ood import load_ood

    inv, _ = _open_run(args)
    images, names = load_ood(args.images, inv.resolution, inv.channels, limit=args.limit)
    x = images.to(inv.device)
    with torch.no_grad():
        z = inv.logits(x)
        recon = inv.generate(z)
        draws = [inv.generate(z, noise="random", seed=s) for s in range(args.noise_draws)]
        z_recon = inv.classifier(recon).float()
    result = {"images": len(x), "mse": float(metrics.mse(x, recon).mean()), "psnr": float(metrics.psnr(x, recon).mean()),
              "ssim": float(metrics.ssim(x, recon).mean()), "logit_cosine": float(metrics.cosine(z, z_recon).mean()),
              "top1_agreement": float((z.argmax(1) == z_recon.argmax(1)).float().mean()),
              "predicted_classes": {inv.meta["classes"][int(c)]: int(n) for c, n in zip(*z.argmax(1).unique(return_counts=True))}}
    evaluator = _evaluator(args.evaluator, inv.channels, inv.device, required=False)
    if evaluator is not None:
        with torch.no_grad():
            result["feature_distance"] = float(metrics.relative_feature_distance(
                evaluator.features(x).float(), evaluator.features(recon).float()).mean())
    out = _out(args, "ood-" + (Path(args.images).name if Path(args.images).is_dir() else args.images))
    save_image(reconstruction_grid(x, [recon] + draws, groups_per_row=args.per_row), out / "grid.png")
    lines = [f"Out-of-distribution images from `{args.images}` ({len(x)}): each original, its reconstruction at "
             f"noise 0 and {args.noise_draws} noise draws.", "", "| metric | value |", "| --- | --- |"]
    for key in ("mse", "psnr", "ssim", "feature_distance", "logit_cosine", "top1_agreement"):
        if key in result:
            lines.append(f"| {key} | {result[key]:.4f} |")
    lines.append("| classes phi predicts | " + ", ".join(f"{c}: {n}" for c, n in result["predicted_classes"].items()) + " |")
    (out / "ood.md").write_text("\n".join(lines) + "\n")
    _save_results(out, {**result, "names": names}, _settings(args))
    return "\n".join(lines) + f"\n{out}"


# ---------------------------------------------------------------- report
def cmd_report(args) -> str:
    from inversion.report import build_report

    missing = [r for r in args.runs if not Path(r).is_dir()]
    if missing:
        raise UserError(f"run folder {missing[0]} does not exist")
    path = build_report([Path(r) for r in args.runs], Path(args.out), title=args.title)
    return f"report: {path}"


# ---------------------------------------------------------------- probes (seeds 000, 001, 002, 004)
def _probe_data(args):
    from inversion.config import DataConfig
    from inversion.data import load_data

    return load_data(DataConfig(name=args.data, root=args.data_root or "data", synthetic_channels=1))


def _probe_out(args) -> Path:
    out = Path(args.out or f"runs/probes/{args.probe}")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _load_frozen(paths, channels: int, dev) -> dict:
    from classifiers import load_classifier
    from inversion.config import ClassifierConfig

    return {Path(p).parent.name if Path(p).name == "classifier.safetensors" else Path(p).stem:
            load_classifier(ClassifierConfig(name="project", checkpoint=str(p)), channels, dev) for p in paths}


def cmd_probe(args) -> str:
    return {"fingerprint": _probe_fingerprint, "features": _probe_features, "confidence": _probe_confidence,
            "novelty": _probe_novelty, "style-shift": _probe_style}[args.probe](args)


def _probe_fingerprint(args) -> str:
    from classifiers.architectures import SEED000_FAMILIES
    from probes import fingerprint as fp

    data = _probe_data(args)
    settings = fp.FingerprintSettings(epochs=args.epochs, train_logits=args.train_logits, test_logits=args.test_logits)
    if len(args.family) == 1 and args.family[0] in SEED000_FAMILIES:
        family = args.family[0]
        names = SEED000_FAMILIES[family]
        nets = fp.family_networks(family, data, settings, seed=0)
        transfer = fp.family_networks(family, data, settings, seed=1)
        random_nets = fp.family_networks(family, data, settings, seed=0, trained=False)
    else:
        frozen = _load_frozen(args.family, data.channels, torch.device("cpu"))
        names, nets, transfer = list(frozen), list(frozen.values()), None
        torch.manual_seed(0)
        random_nets = [_random_twin(p, n.num_classes, data.channels) for p, n in zip(args.family, nets)]
    results = fp.run(nets, data, settings, transfer_nets=transfer, random_nets=random_nets)
    out = _probe_out(args)
    fp.plot_curve(results, out / "accuracy_vs_size.png")
    text = fp.markdown(results, names)
    (out / "fingerprint.md").write_text(text)
    _save_results(out, {"networks": names, **results}, _settings(args))
    return text + f"\n{out}"


def _random_twin(path, num_classes: int, channels: int):
    """The checkpoint's architecture (same width) with random weights."""
    from classifiers.architectures import build_arch
    from classifiers.checkpoint import read_metadata

    meta = read_metadata(path)
    return build_arch(meta["arch"], num_classes, channels, meta.get("width"), image_size=meta.get("resolution") or 32)


def _probe_features(args) -> str:
    from probes import features as feat
    from probes.common import outputs, subset

    data = _probe_data(args)
    models = _load_frozen(args.models, data.channels, torch.device("cpu"))
    train = subset(data.train, limit=args.train_images, seed=0)
    test = subset(data.test, limit=args.test_images, seed=0)
    train_out = {n: (outputs(m, train), outputs(m, train, features=True)) for n, m in models.items()}
    test_out = {n: (outputs(m, test), outputs(m, test, features=True)) for n, m in models.items()}
    matrix = feat.run(models, train_out, test_out)
    out = _probe_out(args)
    text = feat.markdown(matrix)
    (out / "features.md").write_text(text)
    _save_results(out, {"matrix": matrix, "train_images": len(train), "test_images": len(test)}, _settings(args))
    return text + f"\n{out}"


def _probe_confidence(args) -> str:
    from classifiers.attacks import PGDConfig, pgd
    from classifiers.evaluate import DEFAULT_THREAT
    from inversion.data import eval_batches
    from probes import confidence as conf

    data = _probe_data(args)
    dev = _device(args)
    models = _load_frozen(args.classifier, data.channels, dev)
    norm, eps = DEFAULT_THREAT.get(args.data, ("linf", 8 / 255))
    attack = PGDConfig(norm=args.norm or norm, eps=args.eps if args.eps is not None else eps, steps=args.steps,
                       step_size=2.5 * (args.eps if args.eps is not None else eps) / args.steps)
    results, curves = {}, {"ratio": {}, "margin": {}}
    g = torch.Generator().manual_seed(0)
    for name, model in models.items():
        clean, corrupted = [], []
        for x, y in eval_batches(data.test, 500, dev, indices=_indices(len(data.test), args.limit)):
            x_adv = pgd(model, x, y, attack, generator=g)
            with torch.no_grad():
                clean.append(model(x).float().cpu())
                corrupted.append(model(x_adv).float().cpu())
        clean, corrupted = torch.cat(clean), torch.cat(corrupted)
        results[name] = conf.summarize(clean, corrupted)
        for score, fn in conf.SCORES.items():
            curves[score][name] = (fn(clean), fn(corrupted))
    out = _probe_out(args)
    for score in conf.SCORES:
        conf.plot_cdfs(curves[score], score, out / f"cdf_{score}.png")
    lines = [f"Clean vs PGD-corrupted test images ({attack.norm}, eps {attack.eps:g}, {attack.steps} steps); "
             f"clean is the positive class.", "",
             "| classifier | score | AUROC | corrupted kept at 10% clean rejected | at 20% | median clean | median corrupted |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        for score, v in r.items():
            lines.append(f"| {name} | {score} | {v['auroc']:.3f} | {v['kept_at_10pct_clean_rejected']:.1%} | "
                         f"{v['kept_at_20pct_clean_rejected']:.1%} | {v['median_clean']:.3g} | {v['median_corrupted']:.3g} |")
    text = "\n".join(lines) + "\n"
    (out / "confidence.md").write_text(text)
    _save_results(out, {"results": results, "attack": dataclasses.asdict(attack)}, _settings(args))
    return text + f"\n{out}"


def _probe_novelty(args) -> str:
    from probes import novelty

    data = _probe_data(args)
    split = tuple(int(v) for v in args.split.split(","))
    if len(split) != 3:
        raise UserError("--split takes three class counts, e.g. 4,3,3")
    settings = novelty.NoveltySettings(split=split, width=args.width, backbone_epochs=args.backbone_epochs,
                                       backbone_images=args.backbone_images, probe_images=args.probe_images,
                                       test_images=args.test_images, probe_epochs=args.probe_epochs)
    results = novelty.run(args.arch, data, settings)
    out = _probe_out(args)
    text = novelty.markdown(results, data.classes)
    (out / "novelty.md").write_text(text)
    _save_results(out, results, _settings(args))
    return text + f"\n{out}"


def _probe_style(args) -> str:
    from inversion.grid import table_grid
    from probes import style_shift

    data = _probe_data(args)
    dev = _device(args)
    (name, model), = _load_frozen([args.classifier], data.channels, dev).items()
    pool = data.test
    n = min(len(pool), args.pool)
    settings = style_shift.StyleSettings(pairs=args.pairs, steps=args.steps)
    results, examples = style_shift.run(model, pool.images[:n], pool.labels[:n], settings, dev)
    out = _probe_out(args)
    for condition, cells in examples.items():
        table_grid(cells, title=f"{condition}: A | style exemplar B | result",
                   col_labels=["A", "B", "result"]).save(out / f"{condition}.png")
    text = style_shift.markdown(results, len(data.classes))
    (out / "style_shift.md").write_text(text)
    _save_results(out, {"classifier": name, "results": results}, _settings(args))
    return text + f"\n{out}"


# ---------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help_text, run=True, device=True):
        s = sub.add_parser(name, help=help_text, description=help_text)
        if run:
            s.add_argument("--run", required=True, help="a run folder (or its snapshot.safetensors)")
            s.add_argument("--out", help="output folder (default: <run>/eval/<command>)")
            s.add_argument("--data-root", help="where the data set lives, if not where the run was trained")
        if device:
            s.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when present)")
        s.set_defaults(func=func)
        return s

    def evaluator_args(s, required_text="(required)"):
        s.add_argument("--evaluator", help=f"the independent evaluator classifier's checkpoint {required_text}")

    def fidelity_args(s):
        s.add_argument("--limit", type=int, default=0, help="use the first N test images (default: all)")
        s.add_argument("--noise-draws", type=int, default=3, help="K random noise draws per image (default 3)")
        s.add_argument("--candidates", type=int, default=1000, help="identification: sources per group (default 1000)")
        s.add_argument("--batch-size", type=int, default=500)
        s.add_argument("--lpips-weights", help="torchvision AlexNet weights for LPIPS (default: torchvision's cache; "
                                               "without them LPIPS is reported unavailable)")
        s.add_argument("--inception-weights", help="torch-fidelity Inception-v3 weights for Inception FID (optional)")
        s.add_argument("--no-realism", action="store_true", help="skip FID/KID")

    s = command("grid", cmd_grid, "a PNG of test images, each followed by its reconstructions")
    s.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    s.add_argument("--noise-draws", type=int, default=3, help="random-noise reconstructions per image, besides noise 0")
    s.add_argument("--split", choices=["test", "train"], default="test")
    s.add_argument("--per-row", type=int, default=4, help="image groups per row (default 4)")

    s = command("fidelity", cmd_fidelity, "the fidelity table (pixel, perceptual, identification, semantics, "
                                          "realism, diversity) on the test split")
    evaluator_args(s)
    fidelity_args(s)

    s = command("baseline", cmd_baseline, "baselines: the pixel-loss decoder (trains a snapshot) or "
                                          "optimisation-based inversion (scored directly)", run=False)
    s.add_argument("method", choices=["decoder", "optimize"])
    s.add_argument("--classifier", required=True, help="the classifier checkpoint to invert (project format)")
    s.add_argument("--config", default="configs/fmnist.yaml", help="data and G architecture (default configs/fmnist.yaml)")
    s.add_argument("--out", help="decoder: the run folder to create; optimize: where results go")
    s.add_argument("--data-root", help="where the data set lives")
    s.add_argument("--steps", type=int, help="decoder: training steps (default 2000); optimize: Adam steps per "
                                             "image (default 200)")
    s.add_argument("--lr", type=float, help="learning rate (decoder 2e-4, optimize 0.05)")
    s.add_argument("--tv", type=float, default=0.05, help="optimize: total-variation weight (default 0.05)")
    evaluator_args(s, "(optimize: required)")
    fidelity_args(s)
    s.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides for the decoder (train.batch_size=...)")

    s = command("manipulate", cmd_manipulate, "edit the logits (shift, scale, noise, interpolate, swap-top2) and "
                                              "reconstruct along each path")
    s.add_argument("--edit", required=True, choices=["shift", "scale", "noise", "interpolate", "swap-top2"])
    s.add_argument("--levels", type=float, nargs="+", help="edit levels (defaults per edit; see inversion/manipulations.py)")
    s.add_argument("--n", type=int, default=8, help="number of paths (test images)")
    evaluator_args(s, "(optional: without it the inverted classifier judges)")

    s = command("invariance", cmd_invariance, "does the reconstruction follow image transforms?")
    evaluator_args(s)
    s.add_argument("--transforms", nargs="+", help="subset of: hflip shift rotation brightness contrast blur noise")
    s.add_argument("--limit", type=int, default=1000, help="test images (default 1000; 0: all)")
    s.add_argument("--examples", type=int, default=3, help="example rows per transform in the picture")
    s.add_argument("--batch-size", type=int, default=500)

    s = command("adversarial", cmd_adversarial, "PGD on the inverted classifier: whose class does the "
                                                "reconstruction show? Plus fidelity of correct vs wrong images")
    evaluator_args(s)
    fidelity_args(s)
    s.set_defaults(limit=1000, noise_draws=0)
    s.add_argument("--norm", choices=["linf", "l2"], help="default: L-inf for Fashion-MNIST, L2 for CIFAR")
    s.add_argument("--eps", type=float, help="radius in [0, 1] pixel units (default 0.1 / 0.5)")
    s.add_argument("--steps", type=int, default=20)
    s.add_argument("--examples", type=int, default=8)

    s = command("ood", cmd_ood, "reconstruct out-of-distribution images")
    s.add_argument("--images", required=True, help="a folder of images, sklearn-digits or skimage-samples")
    s.add_argument("--limit", type=int, default=64)
    s.add_argument("--noise-draws", type=int, default=2)
    s.add_argument("--per-row", type=int, default=4)
    evaluator_args(s, "(optional: adds the feature distance)")

    s = command("probe", cmd_probe, "logit probes from the related work (seeds 000, 001, 002, 004)", run=False,
                device=False)
    probes = s.add_subparsers(dest="probe", required=True, metavar="PROBE")

    def probe(name, help_text):
        ps = probes.add_parser(name, help=help_text, description=help_text)
        ps.add_argument("--out", help=f"output folder (default runs/probes/{name})")
        ps.add_argument("--data", default="fashion-mnist", help="data set (default fashion-mnist)")
        ps.add_argument("--data-root", help="where the data set lives (default data)")
        ps.add_argument("--device", help="cpu, cuda, ... (default: cuda when present)")
        return ps

    ps = probe("fingerprint", "which of N networks produced a logit vector? SVMs on raw / normalised logits")
    ps.add_argument("--family", nargs="+", required=True,
                    help="seed000-depth, seed000-activation (trained here), or classifier checkpoints")
    ps.add_argument("--epochs", type=float, default=1.0, help="training epochs of each family member (default 1)")
    ps.add_argument("--train-logits", type=int, default=2000, help="training images per network for the SVM")
    ps.add_argument("--test-logits", type=int, default=1000, help="test images per network")

    ps = probe("features", "a linear map from logits back to penultimate features, within and across models")
    ps.add_argument("--models", nargs="+", required=True, help="classifier checkpoints")
    ps.add_argument("--train-images", type=int, default=10000)
    ps.add_argument("--test-images", type=int, default=10000)

    ps = probe("confidence", "top-1/top-2 ratio and margin: clean vs PGD-corrupted inputs")
    ps.add_argument("--classifier", nargs="+", required=True, help="one or more checkpoints (standard, robust)")
    ps.add_argument("--attack", choices=["pgd"], default="pgd")
    ps.add_argument("--norm", choices=["linf", "l2"])
    ps.add_argument("--eps", type=float, help="radius in [0, 1] pixel units (default: the data set's usual)")
    ps.add_argument("--steps", type=int, default=20)
    ps.add_argument("--limit", type=int, default=1000, help="test images (default 1000)")

    ps = probe("novelty", "seen vs novel classes from each layer's activations")
    ps.add_argument("--arch", default="resnet18", help="backbone architecture (default resnet18)")
    ps.add_argument("--split", default="4,3,3", help="class counts of sets 1, 2, 3 (default 4,3,3)")
    ps.add_argument("--width", type=int, default=16)
    ps.add_argument("--backbone-epochs", type=float, default=2.0)
    ps.add_argument("--backbone-images", type=int, default=6000)
    ps.add_argument("--probe-images", type=int, default=2000)
    ps.add_argument("--test-images", type=int, default=1000)
    ps.add_argument("--probe-epochs", type=int, default=20)

    ps = probe("style-shift", "Gram-matrix style transfer toward another class: ordinal rank before and after")
    ps.add_argument("--classifier", required=True)
    ps.add_argument("--pairs", type=int, default=32, help="pairs per condition (intra-class, inter-class)")
    ps.add_argument("--steps", type=int, default=150)
    ps.add_argument("--pool", type=int, default=2000, help="test images to draw pairs from")

    s = command("report", cmd_report, "one self-contained HTML page with the results of several runs", run=False)
    s.add_argument("--runs", nargs="+", required=True, help="run folders, shown side by side")
    s.add_argument("--out", default="report", help="output folder (default report/)")
    s.add_argument("--title", default="logit-inversion report")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        message = args.func(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
