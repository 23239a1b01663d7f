"""Configuration: a dataclass schema holds the defaults; YAML files and `key=value` overrides change them.

A YAML file lists only what differs from the defaults; command-line overrides use dotted paths
(`train.max_steps=100 model.g.ch=64`) with values parsed as YAML (`true`, `1e-4`, `[1, 2]`). The
layers are merged in order (defaults, a base dict such as a resumed run's saved config, the file,
the overrides) and the result is a plain instance of the schema's dataclass.

OmegaConf's structured configs do the typing: each value is checked and converted against the
schema's annotations (an int where a float is expected, "1e-4" written as a string, a list of
floats, `int | None`), and a value that does not convert is an error naming its key. This module
adds what OmegaConf does not say the way users need it: an unknown key is an error that lists the
valid keys beside it, YAML is read with YAML 1.2 booleans (only `true` / `false`), so that
`mixed_precision: no` stays the string "no" rather than becoming False, and every setting with a
valid range or a set of choices is checked when the config is resolved (under `--dry-run` too): a
schema declares them in a `LIMITS` class attribute, e.g. `{"batch_size": at_least(1),
"mixed_precision": one_of("auto", "no", "bf16")}`, and a value outside is one error naming the key,
the value and what it must be.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import sysconfig
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .errors import UserError

T = TypeVar("T")


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's booleans (true/false only) and floats ("1e-4" included)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping whose every key appears once: YAML would keep the last of two `train:` sections silently."""
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1})"
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Yaml12Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
# Plain integers must still win over the float pattern above.
for _first in "-+0123456789":
    _resolvers = _Yaml12Loader.yaml_implicit_resolvers[_first]
    _resolvers.sort(key=lambda pair: pair[0] != "tag:yaml.org,2002:int")


# ------------------------------------------------------------------ valid ranges and choices
@dataclass(frozen=True)
class Limit:
    """A number's valid range (None: unbounded on that side); `None` values pass (optional settings)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self, integer: bool = False) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return ("an integer " if integer else "a number ") + " and ".join(parts)

    def check(self, key: str, value: Any) -> None:
        if value is None:
            return
        bad = isinstance(value, float) and not math.isfinite(value)
        bad |= self.low is not None and (value <= self.low if self.low_open else value < self.low)
        bad |= self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if bad:
            integer = isinstance(value, int) and not isinstance(value, bool)
            raise UserError(f"{key}={value!r} is out of range: it must be {self.describe(integer)}")


@dataclass(frozen=True)
class OneOf:
    choices: tuple

    def check(self, key: str, value: Any) -> None:
        if value not in self.choices:
            raise UserError(f"{key}={value!r} is not a valid choice: use one of {', '.join(map(str, self.choices))}")


@dataclass(frozen=True)
class Each:
    """A list whose items all satisfy `limit`, and of exactly `length` items when given."""

    limit: Limit
    length: int | None = None

    def check(self, key: str, value: Any) -> None:
        if value is None:
            return
        if self.length is not None and len(value) != self.length:
            raise UserError(f"{key}={value!r} must have {self.length} items, each {self.limit.describe()}")
        for i, item in enumerate(value):
            self.limit.check(f"{key}[{i}]", item)


def at_least(low: float) -> Limit:
    return Limit(low=low)


def above(low: float) -> Limit:
    return Limit(low=low, low_open=True)


def between(low: float, high: float, high_open: bool = False) -> Limit:
    return Limit(low=low, high=high, high_open=high_open)


def one_of(*choices) -> OneOf:
    return OneOf(tuple(choices))


def check_limits(config: Any, where: str = "") -> None:
    """Check every setting of a loaded config against its schema's LIMITS, sections included."""
    limits = getattr(type(config), "LIMITS", {})
    for f in dataclasses.fields(config):
        key = f"{where}.{f.name}" if where else f.name
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            check_limits(value, key)
        elif f.name in limits:
            limits[f.name].check(key, value)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)


def config_folders() -> list[Path]:
    """Where a config given by name is looked for: the checkout's `configs/`, then the installed copy
    (setup.cfg's data_files put it in `<prefix>/share/logit-inversion/configs`)."""
    return [
        Path(__file__).resolve().parent.parent / "configs",
        Path(sysconfig.get_path("data")) / "share" / "logit-inversion" / "configs",
    ]


def find_config(path: str | Path) -> Path:
    """A config file: the path itself when it exists, else a shipped config by name (`fmnist_cpu`,
    `classifiers/tiny`, with or without `.yaml`; a README path `configs/x.yaml` outside a checkout)."""
    path = Path(path)
    if path.is_file():
        return path
    name = path if path.suffix in (".yaml", ".yml") else path.with_suffix(".yaml")
    if name.parts and name.parts[0] == "configs":
        name = Path(*name.parts[1:])
    if name.parts and not name.is_absolute() and ".." not in name.parts:
        for folder in config_folders():
            if (folder / name).is_file():
                return folder / name
    shipped = sorted({p.stem for folder in config_folders() if folder.is_dir() for p in folder.glob("*.yaml")})
    hint = f"; the shipped configs, by name: {', '.join(shipped)}" if shipped else ""
    raise UserError(f"config file {path} does not exist{hint}")


def read_yaml(path: str | Path) -> dict:
    path = find_config(path)
    text = path.read_text()
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise UserError(f"config file {path} is empty: list the settings that differ from the defaults")
    try:
        data = parse_yaml(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"config file {path} is not valid YAML{where}: {err.problem or err.context}") from err
    except yaml.YAMLError as err:
        raise UserError(f"config file {path} is not valid YAML: {' '.join(str(err).split())}") from err
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping of keys")
    return data


def parse_overrides(overrides: list[str]) -> list[tuple[str, Any]]:
    parsed = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"override {item!r} is not of the form key=value (e.g. train.max_steps=100)")
        try:
            value = parse_yaml(raw) if raw.strip() else None
        except yaml.YAMLError as err:
            raise UserError(f"override {item!r}: the value is not valid YAML ({err})") from err
        parsed.append((key.strip(), value))
    return parsed


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"override {dotted}: {part} is not a section")
    node[last] = value


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _is_str_field(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return str in typing.get_args(annotation)
    return False


def _check_keys(schema: type, data: Any, where: str = "") -> dict:
    """Reject unknown keys (listing the valid ones) and non-mappings where a section is expected.

    Also maps a YAML boolean given for a string setting to "yes" / "no", as older configs wrote
    `mixed_precision: no` under YAML 1.1. Returns a checked copy; the values' types are OmegaConf's job.
    """
    if not isinstance(data, dict):
        raise UserError(f"{where or 'config'}: expected a mapping of keys, got {data!r}")
    hints = typing.get_type_hints(schema)
    names = [f.name for f in dataclasses.fields(schema)]
    prefix = f"{where}." if where else ""
    out = {}
    for key, value in data.items():
        if key not in names:
            valid = ", ".join(prefix + name for name in names)
            raise UserError(f"unknown config key {prefix}{key}; valid keys here: {valid}")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            out[key] = _check_keys(annotation, value or {}, prefix + key)
        elif isinstance(value, bool) and _is_str_field(annotation):
            out[key] = "yes" if value else "no"
        else:
            out[key] = value
    return out


def from_dict(schema: type[T], data: dict) -> T:
    """An instance of dataclass `schema` from a nested dict, with every key, type and range checked."""
    checked = _check_keys(schema, data)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), checked)
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "config"
        reason = str(getattr(err, "msg", None) or err).splitlines()[0]
        raise UserError(f"{key}: {reason}") from err
    check_limits(config)
    return config


def load_config(
    schema: type[T], path: str | Path | None = None, overrides: list[str] = (), base: dict | None = None
) -> T:
    """Defaults of `schema`, then `base` (a dict), then the YAML at `path`, then `key=value` overrides."""
    data = copy.deepcopy(base or {})
    if path is not None:
        data = _merge(data, read_yaml(path))
    for key, value in parse_overrides(list(overrides)):
        _set_dotted(data, key, value)
    return from_dict(schema, data)


def to_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def dump_yaml(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
