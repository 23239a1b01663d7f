"""The experiments' steps, in one place: what each step runs, what it writes, and what it needs first.

`experiments/run.py` runs the steps of an experiment (resumably, several at once) and
`experiments/collect_results.py` finds every number through the same names, so a renamed step cannot
silently read "not run yet": asking the manifest for a step it does not define is an error, and a
defined step that has not finished is named in the document with the command that runs it.

Experiments (see docs/experiments.md):

- `reference`: the reference experiment on the shipped Fashion-MNIST networks (checkpoints/fmnist/):
  the retrieval references, the paper-recipe GAN and the default recipe at three training seeds each,
  the pixel-loss decoder at three seeds, optimisation-based inversion, every evaluate.py command on
  the default inverters, the probes and the report;
- `diagnosis`: what limits the paper recipe, and what closes the gap (issue 24); what holds the robust
  inverter back: short runs, three seeds per configuration;
- `leakage`: what a prediction API leaks, per output kind: the retrieval reference and the ridge
  regression to evaluator features (neither trains a generator), and GAN inverters at three seeds;
- `networks`, `networks-gpu`: the classifiers and the evaluator trained from scratch (CPU or GPU size),
  with their PGD and AutoAttack accuracy.

Commands are argument lists with `{root}` for the experiment's folder and `{py}` for the Python that
runs them; a step's `output` is its folder under the root.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHIPPED = "checkpoints/fmnist"
EVALUATOR = f"{SHIPPED}/evaluator.safetensors"
CLASSIFIERS = {"std": "standard", "robust": "robust"}
SEEDS = (0, 1, 2)
CPU_CONFIG = "configs/fmnist_cpu.yaml"  # the default recipe, CPU size
PAPER_CONFIG = "configs/paper_fmnist_cpu.yaml"  # the paper's recipe (adversarial loss only), CPU size
DECODER_STEPS = 4000


@dataclass(frozen=True)
class Step:
    name: str  # unique within the experiment; its log is logs/<name>.log
    command: tuple[str, ...]
    output: str  # the folder it writes, relative to the root
    needs: tuple[str, ...] = ()  # steps that must have finished first
    trains: bool = False  # a train.py run: a cut-off run resumes from its newest checkpoint
    result: str = ""  # where its results.json is, relative to the root ("" for steps without one)

    def argv(self, root: str, py: str) -> list[str]:
        return [part.format(root=root, py=py) for part in self.command]


@dataclass
class Experiment:
    name: str
    about: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        if any(s.name == step.name for s in self.steps):
            raise ValueError(f"two steps are called {step.name}")
        unknown = [n for n in step.needs if not any(s.name == n for s in self.steps)]
        if unknown:
            raise ValueError(f"{step.name} needs steps not defined before it: {', '.join(unknown)}")
        self.steps.append(step)
        return step

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"the {self.name} experiment has no step {name!r}")


def classifier(kind: str) -> str:
    return f"{SHIPPED}/classifier-{kind}.safetensors"


# ------------------------------------------------------------------ building blocks
def train_and_score(
    exp: Experiment, name: str, config: str, kind: str, seed: int, overrides: tuple[str, ...] = (), limit: int = 0
) -> Step:
    """A train.py run in {root}/<name> and its fidelity table (on `limit` test images, 0: all 10,000)."""
    train = exp.add(
        Step(
            name,
            (
                "{py}",
                "train.py",
                "--config",
                config,
                f"name={name}",
                "runs_dir={root}",
                f"classifier.checkpoint={classifier(kind)}",
                f"train.seed={seed}",
                *overrides,
            ),
            name,
            trains=True,
        )
    )
    return score(exp, name, needs=(train.name,), limit=limit)


def score(exp: Experiment, run: str, needs: tuple[str, ...], limit: int = 0) -> Step:
    extra = ("--limit", str(limit)) if limit else ()
    return exp.add(
        Step(
            f"{run}/fidelity",
            ("{py}", "evaluate.py", "fidelity", "--run", f"{{root}}/{run}", "--evaluator", EVALUATOR, *extra),
            f"{run}/eval/fidelity",
            needs=needs,
            result=f"{run}/eval/fidelity/results.json",
        )
    )


def retrieval(exp: Experiment, name: str, kind: str, k: int = 1, overrides: tuple[str, ...] = ()) -> Step:
    build = exp.add(
        Step(
            name,
            (
                "{py}",
                "evaluate.py",
                "baseline",
                "retrieval",
                "--classifier",
                classifier(kind),
                "--config",
                CPU_CONFIG,
                "--k",
                str(k),
                "--out",
                f"{{root}}/{name}",
                *overrides,
            ),
            name,
        )
    )
    return score(exp, name, needs=(build.name,))


def ridge(exp: Experiment, name: str, kind: str, overrides: tuple[str, ...] = ()) -> Step:
    """The ridge reference (no image made): its identification lands in {root}/<name>/eval/fidelity."""
    return exp.add(
        Step(
            name,
            (
                "{py}",
                "evaluate.py",
                "baseline",
                "ridge",
                "--classifier",
                classifier(kind),
                "--evaluator",
                EVALUATOR,
                "--config",
                CPU_CONFIG,
                "--out",
                f"{{root}}/{name}",
                *overrides,
            ),
            name,
            result=f"{name}/eval/fidelity/results.json",
        )
    )


def decoder(exp: Experiment, name: str, kind: str, seed: int, overrides: tuple[str, ...] = ()) -> Step:
    build = exp.add(
        Step(
            name,
            (
                "{py}",
                "evaluate.py",
                "baseline",
                "decoder",
                "--classifier",
                classifier(kind),
                "--config",
                CPU_CONFIG,
                "--steps",
                str(DECODER_STEPS),
                "--out",
                f"{{root}}/{name}",
                f"train.seed={seed}",
                *overrides,
            ),
            name,
        )
    )
    return score(exp, name, needs=(build.name,))


WIDE = "wide"  # the robust-gap candidate's method name: the default recipe with G twice as wide
WIDE_G = ("model.g.ch=16",)
# The wide candidate's robust seed 0 trained on from its last checkpoint (experiments/continue_run.py):
# its curve still rose at the end, so what would more steps of the adversarial phase give?
LONGER = "wide-longer"
LONGER_STEPS = 21000
# The identification curves, (method, classifier): seed 0 of each keeps every checkpoint's snapshot.
CURVES = (
    *((method, kind) for kind in CLASSIFIERS for method in ("gan", "paper")),
    (WIDE, "robust"),
    (WIDE, "std"),
    (LONGER, "robust"),
)


# ------------------------------------------------------------------ the experiments
def reference() -> Experiment:
    exp = Experiment(
        "reference",
        "the reference experiment on the shipped Fashion-MNIST networks (CPU sizes, three seeds per inverter)",
    )
    # In the order the runner takes them: both classifiers side by side, the default recipe's seeds first.
    for kind in CLASSIFIERS:
        retrieval(exp, f"floor-{kind}", kind, overrides=("classifier.output=label",))  # the class alone
        retrieval(exp, f"lookup-{kind}", kind)
    for method, config in (("gan", CPU_CONFIG), ("paper", PAPER_CONFIG)):
        for seed in SEEDS:
            for kind in CLASSIFIERS:
                # Every checkpoint's snapshot is kept for seed 0: the identification curve below.
                keep = ("train.keep_snapshots=true",) if seed == 0 else ()
                train_and_score(exp, f"{method}-{kind}-seed{seed}", config, kind, seed, keep)
    for kind in CLASSIFIERS:
        retrieval(exp, f"knn10-{kind}", kind, k=10)
    # A candidate for the robust gap (the diagnosis' robust rows: a G twice as wide identified more at 3,000
    # steps): the default recipe with that G, robust classifier only, seed 0 with its curve first.
    for seed in SEEDS:
        keep = ("train.keep_snapshots=true",) if seed == 0 else ()
        train_and_score(exp, f"{WIDE}-robust-seed{seed}", CPU_CONFIG, "robust", seed, WIDE_G + keep)
    # The same for the standard classifier: a default recipe for both needs both measured.
    for seed in SEEDS:
        keep = ("train.keep_snapshots=true",) if seed == 0 else ()
        train_and_score(exp, f"{WIDE}-std-seed{seed}", CPU_CONFIG, "std", seed, WIDE_G + keep)
    exp.add(
        Step(
            f"{LONGER}-robust-seed0",
            (
                "{py}",
                "experiments/continue_run.py",
                f"{{root}}/{WIDE}-robust-seed0",
                f"{{root}}/{LONGER}-robust-seed0",
                f"train.max_steps={LONGER_STEPS}",
                "--train",
            ),
            f"{LONGER}-robust-seed0",
            needs=(f"{WIDE}-robust-seed0",),
            trains=True,  # cut off, it resumes from its own newest checkpoint
        )
    )
    for method, kind in CURVES:
        exp.add(
            Step(
                f"curve-{method}-{kind}",
                (
                    "{py}",
                    "experiments/identification_curve.py",
                    f"{{root}}/{method}-{kind}-seed0",
                    "--lookup",
                    f"{{root}}/lookup-{kind}",
                    "--out",
                    f"{{root}}/curve-{method}-{kind}",
                ),
                f"curve-{method}-{kind}",
                needs=(f"{method}-{kind}-seed0", f"lookup-{kind}/fidelity"),
                result=f"curve-{method}-{kind}/curve.json",
            )
        )
    for seed in SEEDS:
        for kind in CLASSIFIERS:
            decoder(exp, f"decoder-{kind}-seed{seed}", kind, seed)
    for kind in CLASSIFIERS:
        run, needs = f"gan-{kind}-seed0", (f"gan-{kind}-seed0",)
        evaluations = {
            "grid": ("--n", "32", "--noise-draws", "3"),
            "invariance": ("--evaluator", EVALUATOR),
            "adversarial": ("--evaluator", EVALUATOR),
        }
        for command, args in evaluations.items():
            exp.add(
                Step(
                    f"{run}/{command}",
                    ("{py}", "evaluate.py", command, "--run", f"{{root}}/{run}", *args),
                    f"{run}/eval/{command}",
                    needs=needs,
                    result=f"{run}/eval/{command}/results.json",
                )
            )
        for edit in ("shift", "scale", "noise", "interpolate", "swap-top2"):
            exp.add(
                Step(
                    f"{run}/manipulate-{edit}",
                    (
                        "{py}",
                        "evaluate.py",
                        "manipulate",
                        "--run",
                        f"{{root}}/{run}",
                        "--edit",
                        edit,
                        "--evaluator",
                        EVALUATOR,
                    ),
                    f"{run}/eval/manipulate-{edit}",
                    needs=needs,
                    result=f"{run}/eval/manipulate-{edit}/results.json",
                )
            )
        for images in ("sklearn-digits", "skimage-samples"):
            exp.add(
                Step(
                    f"{run}/ood-{images}",
                    ("{py}", "evaluate.py", "ood", "--run", f"{{root}}/{run}", "--images", images),
                    f"{run}/eval/ood-{images}",
                    needs=needs,
                    result=f"{run}/eval/ood-{images}/results.json",
                )
            )
        exp.add(
            Step(
                f"optimize-{kind}",
                (
                    "{py}",
                    "evaluate.py",
                    "baseline",
                    "optimize",
                    "--classifier",
                    classifier(kind),
                    "--evaluator",
                    EVALUATOR,
                    "--config",
                    CPU_CONFIG,
                    "--limit",
                    "1000",
                    "--out",
                    f"{{root}}/optimize-{kind}",
                ),
                f"optimize-{kind}",
                result=f"optimize-{kind}/eval/fidelity/results.json",
            )
        )
    exp.add(
        Step(
            "report",
            (
                "{py}",
                "evaluate.py",
                "report",
                "--runs",
                "{root}/gan-std-seed0",
                "{root}/gan-robust-seed0",
                "{root}/lookup-std",
                "{root}/lookup-robust",
                "--out",
                "{root}/report",
                "--title",
                "Fashion-MNIST reference experiment",
            ),
            "report",
            needs=tuple(f"{run}/{c}" for run in ("gan-std-seed0", "gan-robust-seed0") for c in ("grid", "fidelity"))
            + ("lookup-std/fidelity", "lookup-robust/fidelity"),
        )
    )
    exp.add(
        Step(
            "comparison-figure",
            ("{py}", "experiments/comparison_figure.py", "{root}", "--out", "{root}/comparison.png"),
            "comparison.png",
            needs=("gan-std-seed0", "gan-robust-seed0", "paper-std-seed0", "paper-robust-seed0", "lookup-std")
            + ("lookup-robust", "decoder-std-seed0", "decoder-robust-seed0"),
        )
    )
    return exp


# The diagnosis: what moves identification, one change at a time from the paper recipe, on short runs
# (2,000 steps of the CPU size, about a quarter of an hour each on one core) with three seeds per row.
# "all terms" is the default recipe's model and losses with the adversarial term from the first step.
DIAGNOSIS_STEPS = 2000
ALL_TERMS = (
    "model.g.logit_input=true",
    "train.pixel_loss_weight=1",
    "train.feature_loss_weight=1",
    "train.g_lr=5e-4",
    "train.d_lr=5e-4",
)
DIAGNOSIS = {
    "paper": (PAPER_CONFIG, ()),
    "logits-into-input": (PAPER_CONFIG, ("model.g.logit_input=true",)),
    "pixel-term": (PAPER_CONFIG, ("train.pixel_loss_weight=1",)),
    "feature-term": (PAPER_CONFIG, ("train.feature_loss_weight=1",)),
    "logit-consistency": (PAPER_CONFIG, ("train.logit_loss_weight=1",)),
    "cond-width-256": (PAPER_CONFIG, ("model.g.cond_hidden=256",)),
    "all-terms": (PAPER_CONFIG, (*ALL_TERMS, "train.adversarial_weight=0.3")),
    "all-terms-no-adversarial": (PAPER_CONFIG, (*ALL_TERMS, "train.adversarial_weight=0")),
}


# What holds the robust inverter back: the default recipe reaches about 14% from the robust classifier's logits
# and 19% from the standard one's, while a lookup reaches about 19% from either, and a linear map to the
# evaluator's features 9% and 19%: the robust logits hold the instance, less linearly. The gap is there
# before the adversarial phase starts (the identification curve), so these rows train the default recipe's
# reconstruction phase alone (its adversarial term starts at step 13,000) for 3,000 steps, one change at a
# time, three seeds per row, each against the `robust` row: a wider G, a wider conditioning, the pixel term
# alone (the feature term uses the robust classifier's own activations), G's learning rate decayed (a half
# cosine to a tenth over the 3,000 steps: both classifiers' curves flatten at the constant 5e-4), random
# Fourier features of the logits (in the robust classifier's standardised logit space a training image's
# nearest other training image is 0.15 away, median, against 0.24 for the standard one: the robust logits crowd the
# images closer, so G's map back must change faster); `std` is the gap at this budget.
ROBUST_DIAGNOSIS_STEPS = 3000
ROBUST_DIAGNOSIS = {
    "robust": ("robust", ()),
    "robust-g-width-16": ("robust", ("model.g.ch=16",)),
    "robust-cond-width-256": ("robust", ("model.g.cond_hidden=256",)),
    "robust-pixel-term-only": ("robust", ("train.feature_loss_weight=0",)),
    "robust-g-lr-decay": ("robust", (f"train.g_lr_decay_steps={ROBUST_DIAGNOSIS_STEPS}",)),
    "robust-fourier-64": ("robust", ("model.g.fourier_features=64",)),
    "std": ("std", ()),
}


def diagnosis() -> Experiment:
    exp = Experiment("diagnosis", "what limits the paper recipe and what closes the gap; what holds robust back")
    rows = [(label, config, "std", DIAGNOSIS_STEPS, 500, o) for label, (config, o) in DIAGNOSIS.items()]
    rows += [
        (label, CPU_CONFIG, kind, ROBUST_DIAGNOSIS_STEPS, 1000, o) for label, (kind, o) in ROBUST_DIAGNOSIS.items()
    ]
    for label, config, kind, steps, every, overrides in rows:
        for seed in SEEDS:
            train_and_score(
                exp,
                f"{label}-seed{seed}",
                config,
                kind,
                seed,
                (f"train.max_steps={steps}", f"train.checkpoint_every={every}", *overrides),
            )
    return exp


# What a prediction API returns, as the attacker uses it (classifiers/outputs.py): probabilities with the
# attacker's log taken, from the most to the least detail; raw `softmax` once more without the log, for the
# non-generative references only, to show what the encoding alone costs.
LEAKAGE_KINDS = ("logits", "softmax+log", "topk:5+log", "round:2+log", "topk:1+log", "label", "softmax")
LEAKAGE_GAN_KINDS = ("logits", "softmax+log", "topk:5+log", "label")  # the GAN cells with three seeds
# The `logits` cell trains nothing of its own: the default classifier output is the logits, so its GAN runs are
# the reference experiment's default recipe (gan-<classifier>-seed<n>), the same command. The others train here.
LEAKAGE_GAN_TRAINED = tuple(k for k in LEAKAGE_GAN_KINDS if k != "logits")


def leakage_gan_run(kind: str, output: str, seed: int) -> tuple[str, str]:
    """Which experiment holds the leakage table's GAN run for a classifier, an output kind and a seed."""
    if output == "logits":
        return "reference", f"gan-{kind}-seed{seed}"
    return "leakage", f"gan-{kind}-{slug(output)}-seed{seed}"


def slug(kind: str) -> str:
    return kind.replace(":", "").replace("+", "-")


def leakage() -> Experiment:
    exp = Experiment("leakage", "what a prediction API leaks: every output kind, both classifiers")
    for kind in CLASSIFIERS:
        for output in LEAKAGE_KINDS:
            retrieval(exp, f"lookup-{kind}-{slug(output)}", kind, overrides=(f"classifier.output={output}",))
            ridge(exp, f"ridge-{kind}-{slug(output)}", kind, overrides=(f"classifier.output={output}",))
    for output in LEAKAGE_GAN_TRAINED:
        for kind in CLASSIFIERS:
            for seed in SEEDS:
                train_and_score(
                    exp,
                    f"gan-{kind}-{slug(output)}-seed{seed}",
                    CPU_CONFIG,
                    kind,
                    seed,
                    (f"classifier.output={output}",),
                )
    exp.add(
        Step(
            "grid",
            ("{py}", "experiments/leakage_grid.py", "{root}", "--out", "{root}/grid.png"),
            "grid.png",
            needs=tuple(f"gan-{k}-{slug(o)}-seed0" for o in LEAKAGE_GAN_TRAINED for k in CLASSIFIERS),
        )
    )
    return exp


def networks(profile: str) -> Experiment:
    """The three networks of the reference experiment, trained: a standard and a PGD-robust classifier of
    one architecture and an independent evaluator (another architecture and seed), then PGD-20 and
    AutoAttack on the two inverted ones. `networks` is the CPU size that made checkpoints/fmnist/
    (`python scripts/ship_checkpoints.py` copies them there); `networks-gpu` the GPU size."""
    suffix = "cpu" if profile == "cpu" else "resnet18"
    configs = {
        "std": f"configs/classifiers/fmnist_{suffix}.yaml",
        "robust": f"configs/classifiers/fmnist_{suffix}_robust.yaml",
        "evaluator": f"configs/classifiers/fmnist_{'cpu_' if profile == 'cpu' else ''}evaluator.yaml",
    }
    exp = Experiment(f"networks{'' if profile == 'cpu' else '-gpu'}", f"the classifiers and the evaluator ({profile})")
    for name, config in configs.items():
        exp.add(
            Step(
                name,
                ("{py}", "-m", "classifiers.train", "--config", config, f"name={name}", "runs_dir={root}"),
                name,
            )
        )
    for name in ("std", "robust"):
        exp.add(
            Step(
                f"{name}/attacks",
                (
                    "{py}",
                    "-m",
                    "classifiers.evaluate",
                    f"{{root}}/{name}/classifier.safetensors",
                    "--norm",
                    "linf",
                    "--eps",
                    "0.1",
                    "--steps",
                    "20",
                    "--autoattack-steps",
                    "100",
                    "--samples",
                    "1000",
                    "--write-metadata",
                ),
                f"{name}/attacks",
                needs=(name,),
            )
        )
    return exp


EXPERIMENTS = {
    "reference": reference,
    "diagnosis": diagnosis,
    "leakage": leakage,
    "networks": lambda: networks("cpu"),
    "networks-gpu": lambda: networks("gpu"),
}


def experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise KeyError(f"no experiment {name!r}; one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]()
