import pytest

from infra.config import from_dict, load_config, parse_overrides
from infra.errors import UserError
from inversion.config import Config


def test_defaults_yaml_and_overrides_layer_in_order(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("train: {max_steps: 10, g_lr: 1e-3}\nmodel: {g: {ch: 16}}\n")
    cfg = load_config(Config, path, ["train.max_steps=20", "model.d.ch=8", "train.betas=[0.0, 0.9]"])
    assert cfg.train.max_steps == 20 and cfg.train.g_lr == 1e-3  # "1e-3" is a string to YAML 1.1
    assert cfg.model.g.ch == 16 and cfg.model.d.ch == 8 and cfg.train.betas == [0.0, 0.9]
    assert cfg.train.d_lr == Config().train.d_lr


def test_unknown_keys_and_wrong_types_are_errors():
    with pytest.raises(UserError, match="unknown config key model.g.chh; valid keys here: model.g.ch"):
        from_dict(Config, {"model": {"g": {"chh": 3}}})
    with pytest.raises(UserError, match="train.max_steps: .*could not be converted to Integer"):
        from_dict(Config, {"train": {"max_steps": "many"}})
    with pytest.raises(UserError, match="data.hflip: .*not a valid bool"):
        from_dict(Config, {"data": {"hflip": "maybe"}})
    assert from_dict(Config, {"train": {"g_lr": 1}}).train.g_lr == 1.0  # int widened to float


def test_yaml_no_stays_a_string_where_a_string_is_expected():
    assert load_config(Config, None, ["train.mixed_precision=no"]).train.mixed_precision == "no"


def test_override_syntax_is_checked():
    with pytest.raises(UserError, match="key=value"):
        parse_overrides(["train.max_steps"])
    assert parse_overrides(["a.b=true", "c=[1, 2]"]) == [("a.b", True), ("c", [1, 2])]


def test_the_shipped_configs_all_parse():
    from pathlib import Path

    from classifiers.config import ClassifierTrainConfig

    root = Path(__file__).resolve().parents[1] / "configs"
    for path in root.glob("*.yaml"):
        load_config(Config, path)
    for path in (root / "classifiers").glob("*.yaml"):
        load_config(ClassifierTrainConfig, path)
