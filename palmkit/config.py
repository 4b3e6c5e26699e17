"""Typed configs: dataclasses loaded from YAML, overridden with ``key=value``.

Every area of palmkit keeps its settings in a plain dataclass (the area itself
stays free of this module, so ``filters/`` and ``model/`` import nothing of
ours). This module turns YAML files and command-line overrides into instances
of those dataclasses, and fails loudly, with the offending key's dotted name,
on anything it does not understand:

    >>> cfg = load_config(CurateConfig, "curate.yaml", ["gopher_quality.min_words=20"])

Nested dataclasses are addressed with dots (``dedup.threshold=0.7``). Values
given on the command line are parsed as YAML scalars, so ``true``, ``3`` and
``[a, b]`` mean what they look like.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from typing import Any, Iterable, Mapping, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad config: unknown key, wrong type, missing file. One line, names the problem."""


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Checks ``value`` against the annotation ``tp`` and returns it converted.

    Only lossless conversions happen (int -> float, list -> tuple); anything
    else is a ConfigError naming ``key``.
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping of {tp.__name__} fields, got {value!r}")
        return _build(tp, value, prefix=key + ".")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{key}: expected {len(args)} items, got {len(value)}")
            return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        out = [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, f"{key}.{k}"): _coerce(v, vt, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected bool, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: expected float, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected int, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected str, got {value!r}")
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    return value


def _build(cls: type[T], data: Mapping[str, Any], prefix: str = "") -> T:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown config key '{prefix}{key}' (known: {known})")
        kwargs[key] = _coerce(value, hints[key], prefix + key)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        # __post_init__ validation speaks for itself; keep it on one line.
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {exc}") from None


def to_dict(cfg: Any) -> dict:
    """The config as plain data (what a YAML file for it would hold)."""
    out = dataclasses.asdict(cfg)

    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(out)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=3`` -> (['a', 'b'], 3). The value is read as a YAML scalar or list."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override '{text}' has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def _field_default(cls: type, name: str) -> Any:
    """The default of dataclass ``cls``'s field ``name`` (None when it has none)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _set_path(data: dict, path: list[str], value: Any, cls: type, full: str) -> None:
    node = data
    node_cls: Any = cls
    for i, part in enumerate(path):
        names = {f.name for f in dataclasses.fields(node_cls)} if dataclasses.is_dataclass(node_cls) else None
        if names is not None and part not in names:
            raise ConfigError(f"unknown config key '{full}'")
        if i == len(path) - 1:
            node[part] = value
            return
        hints = typing.get_type_hints(node_cls) if dataclasses.is_dataclass(node_cls) else {}
        parent_cls, node_cls = node_cls, hints.get(part, Any)
        if typing.get_origin(node_cls) is dict and i == len(path) - 2:
            # One entry of a mapping field ("langid.thresholds.da=0.3"): the other
            # entries stay as they are (the field's default unless set before);
            # _build checks the types.
            if part not in node:
                node[part] = dict(_field_default(parent_cls, part) or {})
            node = node[part]
            if not isinstance(node, dict):
                raise ConfigError(f"{'.'.join(path[: i + 1])}: expected a mapping")
            node[path[-1]] = value
            return
        if not dataclasses.is_dataclass(node_cls):
            raise ConfigError(f"unknown config key '{full}' ('{part}' has no sub-keys)")
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(path[: i + 1])}: expected a mapping")


def read_yaml(path: str | os.PathLike) -> dict:
    """Reads a YAML mapping, with one-line errors for a missing or bad file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def load_config(
    cls: type[T],
    path: str | os.PathLike | None = None,
    overrides: Iterable[str] = (),
    base: Mapping[str, Any] | None = None,
) -> T:
    """Builds ``cls`` from defaults, then ``base``, then the YAML at ``path``, then overrides."""
    data: dict = {}
    if base:
        data.update(_deep_copy(base))
    if path is not None:
        _merge(data, read_yaml(path))
    for text in overrides:
        keys, value = parse_override(text)
        _set_path(data, keys, value, cls, ".".join(keys))
    return _build(cls, data)


def _deep_copy(d: Mapping) -> dict:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in d.items()}


def _merge(dst: dict, src: Mapping) -> None:
    for k, v in src.items():
        if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = _deep_copy(v) if isinstance(v, Mapping) else v
