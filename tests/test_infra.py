"""The shared infrastructure: optional dependencies, the resume rules, the run log."""

import argparse
import json
import sys

import pytest

from infra.config import load_config
from infra.errors import UserError, report_user_errors
from infra.optional import require
from infra.runs import RunLog, changed_settings, plan_run
from inversion.config import Config


def test_a_missing_optional_package_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lpips", None)  # makes `import lpips` fail as if it were not installed
    with pytest.raises(UserError, match=r"LPIPS needs the package lpips.*pip install 'logit-inversion\[eval\]'"):
        require("lpips", "LPIPS")
    assert require("json", "reading JSON") is json


def test_a_broken_dependency_inside_an_installed_package_is_not_hidden(monkeypatch, tmp_path):
    (tmp_path / "brokenpkg.py").write_text("import a_module_nobody_has\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_module_nobody_has"):
        require("brokenpkg", "a test")


def test_user_errors_become_one_line_and_exit_code_2(capsys):
    def fail():
        raise UserError("what went wrong; what to do")

    assert report_user_errors(fail) == 2
    assert capsys.readouterr().err == "error: what went wrong; what to do\n"
    assert report_user_errors(lambda: None) == 0


def test_changed_settings_name_each_differing_leaf_under_the_frozen_paths():
    saved = {"model": {"g": {"ch": 4, "attention": 0}, "d": {"ch": 4}}, "data": {"name": "a", "root": "x"}, "train": {}}
    new = {"model": {"g": {"ch": 8, "attention": 0}, "d": {"ch": 4}}, "data": {"name": "a", "root": "y"}, "train": {}}
    assert changed_settings(saved, new, ("model", "data.name")) == ["model.g.ch: 4 -> 8"]
    assert changed_settings(saved, new, ("data",)) == ["data.root: 'x' -> 'y'"]


def _args(**kwargs) -> argparse.Namespace:
    defaults = {"config": None, "resume": None, "dry_run": False, "overrides": []}
    return argparse.Namespace(**{**defaults, **kwargs})


def test_plan_run_names_a_new_run_and_needs_a_config(tmp_path, tiny_config):
    plan = plan_run(
        Config, _args(config=tiny_config, overrides=[f"runs_dir={tmp_path}"]), frozen=("model",), frozen_reason="model"
    )
    assert plan.run_dir == tmp_path / "tiny" and not plan.resume and plan.config.name == "tiny"
    with pytest.raises(UserError, match="give --config"):
        plan_run(Config, _args(), frozen=("model",), frozen_reason="model")


def test_run_log_writes_config_stats_and_nothing_on_other_processes(tmp_path, tiny_config):
    config = load_config(Config, tiny_config)
    with RunLog(tmp_path / "main", config, total=3, initial=0, desc="t", main=True) as log:
        log.scalars(1, {"loss": 0.5})
        log.scalars(2, {"loss": 0.25})
    lines = (tmp_path / "main" / "stats.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]
    assert load_config(Config, tmp_path / "main" / "config.yaml") == config
    assert any((tmp_path / "main" / "tb").iterdir())
    with RunLog(tmp_path / "other", config, total=3, initial=0, desc="t", main=False) as log:
        log.scalars(1, {"loss": 0.5})
    assert not (tmp_path / "other").exists()
