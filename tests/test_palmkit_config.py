"""The config loader: defaults, YAML, overrides, and one-line errors naming the key."""

import dataclasses

import pytest

from palmkit.config import ConfigError, load_config, to_dict


@dataclasses.dataclass(frozen=True)
class Inner:
    threshold: float = 0.8
    enabled: bool = True
    langs: tuple[str, ...] = ("en",)


@dataclasses.dataclass(frozen=True)
class Outer:
    name: str = "demo"
    workers: int = 2
    seed: int | None = None
    inner: Inner = dataclasses.field(default_factory=Inner)

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


def write(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_defaults_without_file():
    assert load_config(Outer) == Outer()


def test_yaml_then_overrides(tmp_path):
    path = write(tmp_path, "name: web\ninner:\n  threshold: 0.7\n")
    cfg = load_config(Outer, path, ["workers=4", "inner.enabled=false", "inner.langs=[de, fr]", "seed=7"])
    assert cfg == Outer(name="web", workers=4, seed=7, inner=Inner(threshold=0.7, enabled=False, langs=("de", "fr")))


def test_int_is_accepted_for_float(tmp_path):
    cfg = load_config(Outer, None, ["inner.threshold=1"])
    assert cfg.inner.threshold == 1.0 and isinstance(cfg.inner.threshold, float)


def test_unknown_key_in_yaml(tmp_path):
    path = write(tmp_path, "nmae: web\n")
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, path)
    assert str(exc.value) == "unknown config key 'nmae' (known: inner, name, seed, workers)"


def test_unknown_nested_key_in_override():
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, None, ["inner.treshold=0.5"])
    assert str(exc.value) == "unknown config key 'inner.treshold'"


def test_wrong_type():
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, None, ["workers=many"])
    assert str(exc.value) == "workers: expected int, got 'many'"


def test_wrong_type_in_yaml_nested(tmp_path):
    path = write(tmp_path, "inner:\n  enabled: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, path)
    assert str(exc.value) == "inner.enabled: expected bool, got 3"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, tmp_path / "nope.yaml")
    assert str(exc.value) == f"config file not found: {tmp_path / 'nope.yaml'}"


def test_invalid_yaml(tmp_path):
    path = write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML \(line 2\)"):
        load_config(Outer, path)


def test_override_without_equals():
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, None, ["workers"])
    assert str(exc.value) == "override 'workers' is not of the form key=value"


def test_post_init_validation_is_one_line():
    with pytest.raises(ConfigError) as exc:
        load_config(Outer, None, ["workers=0"])
    assert str(exc.value) == "Outer: workers must be at least 1"


def test_to_dict_round_trips(tmp_path):
    import yaml

    cfg = load_config(Outer, None, ["inner.langs=[de]"])
    path = write(tmp_path, yaml.safe_dump(to_dict(cfg)))
    assert load_config(Outer, path) == cfg


@dataclasses.dataclass(frozen=True)
class WithMapping:
    levels: dict[str, float] = dataclasses.field(default_factory=lambda: {"low": 0.0, "high": 0.5})
    inner: Inner = dataclasses.field(default_factory=Inner)


def test_override_sets_one_entry_of_a_mapping_and_keeps_the_others(tmp_path):
    assert load_config(WithMapping, None, ["levels.mid=0.2"]).levels == {"low": 0.0, "high": 0.5, "mid": 0.2}
    assert load_config(WithMapping, None, ["levels.high=1"]).levels == {"low": 0.0, "high": 1.0}
    # After a YAML file or a whole-mapping override, the entry joins what they gave.
    path = write(tmp_path, "levels:\n  low: 0.1\n")
    assert load_config(WithMapping, path, ["levels.top=0.9"]).levels == {"low": 0.1, "top": 0.9}
    assert load_config(WithMapping, None, ["levels={a: 0.3}", "levels.b=0.4"]).levels == {"a": 0.3, "b": 0.4}


def test_mapping_entry_errors_name_the_key():
    with pytest.raises(ConfigError) as exc:
        load_config(WithMapping, None, ["levels.mid=lots"])
    assert str(exc.value) == "levels.mid: expected float, got 'lots'"
    with pytest.raises(ConfigError) as exc:
        load_config(WithMapping, None, ["levels.mid.x=1"])
    assert str(exc.value) == "unknown config key 'levels.mid.x' ('levels' has no sub-keys)"
