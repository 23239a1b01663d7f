"""`evaluate.py explore`: a static page that runs the inverters' generators in the browser (see inversion.explorer)."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
from pathlib import Path

from infra.batches import eval_batches
from infra.cli import integer
from infra.datasets import load_data, split_labels, spread_over_classes, to_uint8
from infra.errors import UserError

from ..explorer import ort_web
from ..explorer.page import PageRun, refuse_foreign_folder, slider_range, write_page
from ..inverter import Inverter
from ..onnx_export import TOLERANCE, export_error, export_generator
from ..presentation.report import describe_classifier
from ..snapshot import SNAPSHOT
from .base import Command, Output, Result, describe_run, device_of, register

MAX_RUNS = 4


def run_name(path: str) -> str:
    p = Path(path)
    return p.parent.name if p.name == SNAPSHOT else (p.name if p.is_dir() else p.stem)


@register
class Explore(Command):
    name = "explore"
    help = "write a static page that runs the generators in the browser: drag a logit, watch the reconstruction"
    heading = "Logit explorer"
    about = "An interactive page that runs the inverters' generators in the browser."
    takes_run = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--run",
            action="append",
            required=True,
            help="a run folder or snapshot; repeat it (up to 4) to put inverters side by side, e.g. the standard "
            "and the robust classifier's, each driven by its own classifier's logits for the chosen image",
        )
        parser.add_argument(
            "--out", default="runs/explorer", help="output folder, emptied first (default runs/explorer)"
        )
        parser.add_argument("--images", type=integer(1), default=48, help="test images on the page (default 48)")
        parser.add_argument("--title", default="logit explorer", help="the page's title")
        parser.add_argument("--data-root", help="where the data set lives, if not where the runs were trained")
        parser.add_argument(
            "--ort-web",
            help=f"ONNX Runtime Web {ort_web.VERSION}: the npm package's .tgz or a folder with its files (default: "
            f"the cache {ort_web.cache_dir()}, filled from the npm registry the first time)",
        )

    def output_dir(self, args: argparse.Namespace) -> Path:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is a file; give a folder for the explorer")
        refuse_foreign_folder(out)  # before anything is written into it
        return out

    def run(self, args: argparse.Namespace) -> Result:
        if len(args.run) > MAX_RUNS:
            raise UserError(f"at most {MAX_RUNS} --run at once (the page puts them side by side)")
        ort_files = ort_web.ensure(args.ort_web)  # first: without the runtime there is no page to write
        names = [run_name(r) for r in args.run]
        names = [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]
        device = device_of(args)
        inverters = [Inverter.load(r, device=device) for r in args.run]
        for r, inv in zip(args.run, inverters):
            if inv.kind == "retrieval":
                raise UserError(
                    f"{r} is a retrieval reference: it holds its whole lookup set of training images, too large "
                    f"for a page; explore trained inverters, and compare with it in `evaluate.py report`"
                )
        first = inverters[0]
        for r, inv in zip(args.run[1:], inverters[1:]):
            for key in ("resolution", "channels", "num_classes"):
                if inv.meta[key] != first.meta[key]:
                    raise UserError(
                        f"{r} has {key} {inv.meta[key]} but {args.run[0]} has {first.meta[key]}: the page shows the "
                        f"same images to every inverter"
                    )
            if inv.config.data.name != first.config.data.name:
                raise UserError(f"{r} was trained on {inv.config.data.name}, {args.run[0]} on {first.config.data.name}")
        data_cfg = first.config.data
        if args.data_root:
            data_cfg = dataclasses.replace(data_cfg, root=args.data_root)
        data = load_data(data_cfg)
        indices = spread_over_classes(split_labels(data.test), args.images)
        x, y = next(eval_batches(data.test, len(indices), device, indices=indices))

        workdir = Path(tempfile.mkdtemp(prefix="explore-"))
        runs, onnx_files, errors = [], [], {}
        for name, run, inv in zip(names, args.run, inverters):
            logits = inv.logits(x).cpu()
            path = export_generator(inv, workdir / f"{len(onnx_files)}.onnx")
            error = export_error(inv, path)
            if not error <= TOLERANCE:
                raise UserError(
                    f"the ONNX export of {run} differs from PyTorch by up to {error:.2e} (tolerance {TOLERANCE})"
                )
            unit = float(inv.generator.logit_norm.std.mean())
            runs.append(
                PageRun(
                    name=name,
                    description=describe_classifier(describe_run(run)["classifier"]),
                    kind=inv.kind,
                    output=inv.output,
                    dim_noise=inv.generator.dim_noise,
                    unit=unit,
                    slider_range=slider_range(logits, unit),
                    logits=logits.tolist(),
                )
            )
            onnx_files.append(path)
            errors[name] = error
        return Result(
            {
                "images": len(indices),
                "test_indices": indices,
                "runs": names,
                "onnx_max_error": errors,
                "tolerance": TOLERANCE,
                "ort_web": ort_web.VERSION,
            },
            {
                "runs": runs,
                "onnx_files": onnx_files,
                "images": to_uint8(x).cpu(),
                "labels": y.tolist(),
                "classes": data.classes,
                "ort_files": ort_files,
                "workdir": workdir,
            },
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        p = result.pictures
        check = {"max_error": max(result.numbers["onnx_max_error"].values()), "tolerance": TOLERANCE}
        sizes = write_page(
            out.staging,
            p["runs"],
            p["onnx_files"],
            p["images"],
            p["labels"],
            result.numbers["test_indices"],
            p["classes"],
            args.title,
            p["ort_files"],
            check,
        )
        shutil.rmtree(p["workdir"], ignore_errors=True)
        result.numbers["files"] = sizes
        megabytes = sum(sizes.values()) / 2**20
        errors = ", ".join(f"{k} {v:.1e}" for k, v in result.numbers["onnx_max_error"].items())
        return (
            f"explorer: {(out.path / 'index.html').resolve()} ({len(sizes)} files, {megabytes:.1f} MB; open it in a "
            f"browser, from disk or any static host)\nONNX export vs PyTorch, largest pixel difference: {errors} "
            f"(tolerance {TOLERANCE})"
        )
