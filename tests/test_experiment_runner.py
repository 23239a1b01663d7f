"""experiments/run.py and the manifest: steps run in the order their needs give, finished steps are skipped
on the next run, a failure stops only what needs it, and a training step cut off midway resumes."""

import sys
from pathlib import Path

import pytest

from experiments import run as runner
from experiments.manifest import EXPERIMENTS, Experiment, Step, experiment


def _write(path: str, text: str = "x") -> tuple[str, ...]:
    return (
        "{py}",
        "-c",
        f"import pathlib; p = pathlib.Path('{path}'); p.parent.mkdir(parents=True, exist_ok=True); "
        f"p.write_text('{text}')",
    )


def _toy() -> Experiment:
    exp = Experiment("toy", "a test")
    exp.add(Step("a", _write("{root}/a/out.txt"), "a"))
    exp.add(
        Step(
            "b", ("{py}", "-c", "import pathlib; assert pathlib.Path('{root}/a/out.txt').is_file()"), "b", needs=("a",)
        )
    )
    exp.add(Step("broken", ("{py}", "-c", "raise SystemExit(3)"), "broken"))
    exp.add(Step("after-broken", _write("{root}/c.txt"), "c.txt", needs=("broken",)))
    exp.add(Step("independent", _write("{root}/d/out.txt"), "d"))
    return exp


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(EXPERIMENTS, "toy", _toy)
    return _toy()


def test_needs_order_failures_and_skips(toy, tmp_path, capsys):
    root = tmp_path / "toy"
    assert runner.main(["toy", str(root), "--jobs", "2", "--python", sys.executable]) == 1
    done = runner.finished(root)
    assert set(done) == {"a", "b", "independent"}  # b ran after a; the broken step's dependant did not run
    err = capsys.readouterr()
    assert "FAILED broken (exit 3" in err.err and "skipped after-broken: needs broken" in err.out
    assert not (root / "c.txt").exists() and (root / "logs" / "broken.log").is_file()
    # A second run skips what finished and tries the rest again.
    assert runner.main(["toy", str(root), "--python", sys.executable]) == 1
    assert "3 steps to run" not in capsys.readouterr().out
    assert runner.finished(root)["a"]["command"].endswith(
        "a/out.txt'); p.parent.mkdir(parents=True, exist_ok=True); p.write_text('x')"
    )


def test_only_runs_the_chosen_steps_and_their_needs_must_be_done(toy, tmp_path, capsys):
    root = tmp_path / "toy"
    assert runner.main(["toy", str(root), "--only", "b", "--python", sys.executable]) == 1
    assert "skipped b: needs a" in capsys.readouterr().out
    assert runner.main(["toy", str(root), "--only", "a", "b", "--python", sys.executable]) == 0
    assert set(runner.finished(root)) == {"a", "b"}
    with pytest.raises(SystemExit, match="no step of toy matches"):
        runner.main(["toy", str(root), "--only", "nothing*"])


def test_a_cut_off_training_run_resumes_and_other_steps_start_again(tmp_path):
    exp = experiment("reference")
    train = exp.step("gan-std-seed0")
    run_dir = tmp_path / "gan-std-seed0"
    (run_dir / "checkpoints" / "step-0001000").mkdir(parents=True)
    assert runner.command_for(train, tmp_path, "python") == ["python", "train.py", "--resume", str(run_dir)]
    fidelity = exp.step("gan-std-seed0/fidelity")
    partial = tmp_path / fidelity.output
    partial.mkdir(parents=True)
    (partial / "results.json").write_text("{")
    assert runner.command_for(fidelity, tmp_path, "python")[:3] == ["python", "evaluate.py", "fidelity"]
    assert not partial.exists() and (run_dir / "checkpoints").is_dir()  # the half-written output only


def test_the_manifest_defines_each_name_once_and_every_need():
    for name in EXPERIMENTS:
        exp = experiment(name)
        names = [s.name for s in exp.steps]
        assert len(names) == len(set(names)), name
        for step in exp.steps:
            assert set(step.needs) <= set(names), step.name
    with pytest.raises(KeyError, match="no step"):
        experiment("reference").step("gan-std-seed9")
    with pytest.raises(ValueError, match="not defined before it"):
        Experiment("x", "").add(Step("late", ("true",), "late", needs=("early",)))


def test_a_resumed_step_counts_the_time_of_the_attempts_cut_off_before(tmp_path):
    import os

    exp = experiment("reference")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    logs = tmp_path / "logs"
    logs.mkdir()
    train = exp.step("gan-std-seed0")
    (tmp_path / "gan-std-seed0" / "checkpoints" / "step-0001000").mkdir(parents=True)
    (logs / "gan-std-seed0.seconds").write_text("100\n")  # an earlier attempt ran 100 s before it was cut off
    step, code, seconds, argv = runner.run_step(train, tmp_path, sys.executable, env)
    assert "--resume" in argv and code == 2  # no config.yaml: it fails at once, which is all this needs
    assert 100 <= seconds < 160 and float((logs / "gan-std-seed0.seconds").read_text()) == round(seconds)
    fidelity = exp.step("gan-std-seed0/fidelity")  # starts again from nothing: earlier attempts do not count
    (logs / "gan-std-seed0--fidelity.seconds").write_text("100\n")
    assert runner.run_step(fidelity, tmp_path, sys.executable, env)[2] < 100


def _nested() -> Experiment:
    """A run with an evaluation inside its folder, an index too large for a record, and its score."""
    exp = Experiment("nested", "a test")
    exp.add(Step("run", _write("{root}/run/snapshot.txt", "weights"), "run"))
    exp.add(Step("run/score", _write("{root}/run/eval/score/results.json", "ok"), "run/eval/score", needs=("run",)))
    big = (
        "{py}",
        "-c",
        "import pathlib; p = pathlib.Path('{root}/index'); p.mkdir(parents=True, exist_ok=True); "
        "(p / 'big.bin').write_bytes(bytes(5 * 2**20)); (p / 'config.yaml').write_text('k: 1')",
    )
    exp.add(Step("index", big, "index"))
    exp.add(
        Step("index/score", _write("{root}/index/eval/score/results.json", "ok"), "index/eval/score", needs=("index",))
    )
    # A later evaluation that reads the index itself: it needs the big file back.
    reads = ("{py}", "-c", "import pathlib; assert pathlib.Path('{root}/index/big.bin').stat().st_size == 5 * 2**20")
    exp.add(Step("index/reads", reads, "index/eval/reads", needs=("index",)))
    return exp


def test_records_outlive_the_experiment_folder(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(EXPERIMENTS, "nested", _nested)
    root, records = tmp_path / "runs", tmp_path / "records"
    (root / "run" / "checkpoints" / "step-1").mkdir(parents=True)  # training state: never recorded
    (root / "run" / "checkpoints" / "step-1" / "state.bin").write_text("s")
    args = ["nested", str(root), "--records", str(records), "--python", sys.executable]
    assert runner.main([*args, "--only", "run", "run/score", "index", "index/score"]) == 0
    kept = runner.finished(records)
    assert set(kept) == {"run", "run/score", "index", "index/score"}
    assert kept["index"]["left_out"] == "index/big.bin" and kept["run"]["left_out"] == ""
    assert (records / "run" / "snapshot.txt").read_text() == "weights"
    assert not (records / "run" / "checkpoints").exists() and not (records / "index" / "big.bin").exists()
    # The score inside the run's folder is its own record, not the run's.
    assert (records / "run" / "eval" / "score" / "results.json").is_file()
    assert (records / "logs" / "run--score.log").is_file() and (records / "logs" / "run.seconds").is_file()

    # A new machine: the experiment folder is gone, the ledger is not.
    import shutil

    shutil.rmtree(root)
    capsys.readouterr()
    before = runner.finished(records)
    assert runner.main([*args, "--only", "run", "run/score", "index", "index/score"]) == 0
    out = capsys.readouterr().out
    # Everything comes back from the ledger and nothing runs: the index without its big file, which no
    # chosen step needs, and its score, which the ledger holds.
    assert "restored 4 finished steps" in out and "0 steps to run" in out and "] index" not in out
    assert not (root / "index" / "big.bin").exists() and (root / "index" / "config.yaml").read_text() == "k: 1"
    assert (root / "index" / "eval" / "score" / "results.json").read_text() == "ok"
    assert set(runner.finished(root)) == {"run", "run/score", "index", "index/score"}
    assert runner.finished(records) == before
    assert runner.main([*args, "--list"]) == 0
    assert "without index/big.bin (rebuilt when a step needs it)" in capsys.readouterr().out

    # A step that reads the index: the index runs again first, and its score comes back from the ledger.
    assert runner.main(args) == 0
    out = capsys.readouterr().out
    assert "2 steps to run" in out and "] index\n" in out and "restored index/score from" in out
    assert "] index/score" not in out and out.index("] index\n") < out.index("] index/reads")
    clock = Path("logs") / "index--score.seconds"
    assert (root / clock).read_text() == (records / clock).read_text()
    assert [row.split("\t")[0] for row in (records / "steps.tsv").read_text().splitlines()].count("index") == 1
    assert (root / "run" / "snapshot.txt").read_text() == "weights"
    assert (root / "run" / "eval" / "score" / "results.json").is_file() and (root / "index" / "big.bin").is_file()
    assert set(runner.finished(root)) == {"run", "run/score", "index", "index/score", "index/reads"}
    assert runner.finished(root)["run"]["command"] == kept["run"]["command"]
    assert "without" not in (runner.main([*args, "--list"]), capsys.readouterr().out)[1]


def test_a_failed_rebuild_stops_what_waits_for_the_evaluations_inside_it(monkeypatch, tmp_path, capsys):
    """The index's rebuild fails: the step that reads it, and one that needs only its score (which the
    ledger would have put back after the rebuild), are skipped, and the run ends instead of waiting."""

    def nested_with_report():
        exp = _nested()
        exp.add(Step("report", _write("{root}/report.txt"), "report.txt", needs=("index/score", "index/reads")))
        return exp

    monkeypatch.setitem(EXPERIMENTS, "nested", nested_with_report)
    root, records = tmp_path / "runs", tmp_path / "records"
    args = ["nested", str(root), "--records", str(records), "--python", sys.executable]
    assert runner.main([*args, "--only", "index", "index/score"]) == 0
    import shutil

    shutil.rmtree(root)
    monkeypatch.setattr(runner, "command_for", lambda step, root, py: [py, "-c", "raise SystemExit(4)"])
    assert runner.main(args) == 1
    out = capsys.readouterr().out
    assert "skipped index/reads" in out and "skipped report" in out


def test_steps_finished_without_records_join_the_ledger(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(EXPERIMENTS, "nested", _nested)
    root, records = tmp_path / "runs", tmp_path / "records"
    assert runner.main(["nested", str(root), "--only", "run", "run/score", "--python", sys.executable]) == 0
    assert not records.exists()
    assert runner.main(["nested", str(root), "--records", str(records), "--list"]) == 0
    assert "recorded 2 finished steps" in capsys.readouterr().out
    assert set(runner.finished(records)) == {"run", "run/score"}
    assert (records / "run" / "snapshot.txt").is_file()


def test_steps_run_with_one_thread_unless_the_caller_chose(tmp_path, monkeypatch):
    """Also with --jobs 1: two runners side by side on a 2-core CPU must not run two-thread steps each."""
    exp = Experiment("threads", "a test")
    record = "import os, pathlib; pathlib.Path('{root}/t.txt').write_text(os.environ.get('OMP_NUM_THREADS', 'unset'))"
    exp.add(Step("t", ("{py}", "-c", record), "t.txt"))
    monkeypatch.setitem(EXPERIMENTS, "threads", lambda: exp)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert runner.main(["threads", str(tmp_path / "a"), "--jobs", "1", "--python", sys.executable]) == 0
    assert (tmp_path / "a" / "t.txt").read_text() == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert runner.main(["threads", str(tmp_path / "b"), "--jobs", "2", "--python", sys.executable]) == 0
    assert (tmp_path / "b" / "t.txt").read_text() == "3"


def test_a_step_that_finished_by_resuming_records_its_own_command(toy, tmp_path, monkeypatch):
    """The ledger's command reproduces a step from nothing: not the `train.py --resume` that finished it."""
    root = tmp_path / "toy"
    resumed = [sys.executable, "-c", "import pathlib; pathlib.Path('{}').mkdir(parents=True)".format(root / "a")]
    monkeypatch.setattr(
        runner, "command_for", lambda step, root, py: resumed if step.name == "a" else step.argv(str(root), py)
    )
    assert runner.main(["toy", str(root), "--only", "a", "--python", sys.executable]) == 0
    assert runner.finished(root)["a"]["command"].endswith("p.write_text('x')")
