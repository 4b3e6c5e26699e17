"""Mixture recipes: which curated sources go into a training set, and how much of each.

A recipe is data (``mixtures/recipes/*.yaml``), not code:

    name: palm_780b
    total_tokens: 780_000_000_000      # the whole training set, end-of-document ids included
    seq_len: 2048
    seed: 0
    sources:
      web:
        share: 0.27                    # fraction of total_tokens
        paths: [web]                   # curated/<path>/<lang>/*.jsonl.zst
        max_epochs: 1.0                # plan warns past this many passes over the source
        languages:                     # only for multilingual sources
          temperature: 0.3             # p(lang) ∝ n(lang)^temperature (1 = as found, 0 = uniform)
          max_epochs: 4.0              # no language repeats more often than this

Loading is strict in the spirit of ``palmkit.config``: an unknown key, a wrong
type or shares that do not sum to one is a ``RecipeError`` naming the key.
This package imports nothing of palmkit's, so it carries its own small loader;
the command line may equally build a ``Recipe`` with ``palmkit.config``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from typing import Any, Mapping

import yaml

RECIPES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recipes")
SHARE_TOLERANCE = 1e-6


class RecipeError(ValueError):
    """A bad recipe; one line that names the offending key."""


@dataclasses.dataclass(frozen=True)
class LanguageSampling:
    """How a multilingual source spreads its tokens over languages.

    ``temperature`` is the exponent α in p(lang) ∝ n(lang)^α, n being the
    tokens available in that language: α = 1 keeps the corpus proportions,
    α < 1 flattens them so small languages get more than their natural share
    (mT5 and XLM-R use 0.3). ``max_epochs`` caps how often any one language may
    repeat; tokens a capped language cannot supply go to the others.
    """

    temperature: float = 1.0
    max_epochs: float | None = None

    def __post_init__(self):
        if not 0.0 <= self.temperature <= 1.0:
            raise ValueError(f"temperature must be in [0, 1], got {self.temperature}")
        if self.max_epochs is not None and self.max_epochs <= 0:
            raise ValueError(f"max_epochs must be positive, got {self.max_epochs}")


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """One named source of the mixture and the curated folders it is drawn from."""

    share: float
    # Folders under CURATED/curated/; empty means the source's own name.
    paths: tuple[str, ...] = ()
    max_epochs: float = 1.0
    languages: LanguageSampling | None = None
    # Only these languages (curated/<path>/<lang>); empty means all found.
    include_languages: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self):
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share must be in [0, 1], got {self.share}")
        if self.max_epochs <= 0:
            raise ValueError(f"max_epochs must be positive, got {self.max_epochs}")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A whole mixture: sources with shares, a token budget, packing length and seed."""

    name: str
    total_tokens: int
    sources: dict[str, SourceSpec]
    seq_len: int = 2048
    seed: int = 0
    description: str = ""

    def __post_init__(self):
        if self.total_tokens <= 0:
            raise ValueError(f"total_tokens must be positive, got {self.total_tokens}")
        if self.seq_len < 2:
            raise ValueError(f"seq_len must be at least 2, got {self.seq_len}")
        if not self.sources:
            raise ValueError("a recipe needs at least one source")
        for name in self.sources:
            if not name or "/" in name or name.startswith("."):
                raise ValueError(f"source name {name!r} must be a plain folder-safe name")
        owner: dict[str, str] = {}
        for name in self.sources:
            for path in self.source_paths(name):
                if path in owner:
                    raise ValueError(f"curated folder {path!r} belongs to both {owner[path]!r} and {name!r}")
                owner[path] = name
        total = sum(s.share for s in self.sources.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"source shares sum to {total:.6g}, expected 1")

    def source_paths(self, name: str) -> tuple[str, ...]:
        """The curated folders of source ``name`` (its own name when ``paths`` is empty)."""
        spec = self.sources[name]
        return spec.paths or (name,)

    def tokens_wanted(self, name: str) -> int:
        """Tokens source ``name`` contributes: its share of the budget, rounded."""
        return int(round(self.sources[name].share * self.total_tokens))

    def to_dict(self) -> dict:
        """Plain data, as the YAML file would hold it (for manifests and --json)."""

        def plain(v: Any) -> Any:
            if dataclasses.is_dataclass(v):
                return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            return v

        return plain(self)


# ---------------------------------------------------------------------------
# A small strict loader (palmkit.config's rules, without importing palmkit).
# ---------------------------------------------------------------------------


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:  # Optional[X]: X's own error names the inner key
            return _coerce(value, options[0], key)
        for arg in options:
            try:
                return _coerce(value, arg, key)
            except RecipeError:
                pass
        raise RecipeError(f"{key}: expected {tp}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise RecipeError(f"{key}: expected a mapping of {tp.__name__} fields, got {value!r}")
        return _build(tp, value, key + ".")
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise RecipeError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise RecipeError(f"{key}: expected a mapping, got {value!r}")
        return {str(k): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif tp is int:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, float) and value.is_integer():
            return int(value)  # 7.8e11 written as a float is still a whole number of tokens
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise RecipeError(f"{key}: expected {tp.__name__}, got {value!r}")


def _build(cls: type, data: Mapping[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            raise RecipeError(f"unknown recipe key '{prefix}{key}' (known: {', '.join(sorted(names))})")
        kwargs[key] = _coerce(value, hints[key], prefix + key)
    missing = [f.name for f in dataclasses.fields(cls)
               if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RecipeError(f"recipe key '{prefix}{missing[0]}' is required")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{prefix.rstrip('.') or 'recipe'}: {exc}") from None


def recipe_from_dict(data: Mapping[str, Any]) -> Recipe:
    """A ``Recipe`` from plain data; RecipeError names the first bad key."""
    if not isinstance(data, Mapping):
        raise RecipeError("a recipe must be a mapping at the top level")
    return _build(Recipe, data)


def resolve_recipe_path(name_or_path: str) -> str:
    """A file path as given, or the name of a shipped recipe (``demo`` → recipes/demo.yaml)."""
    if os.path.exists(name_or_path):
        return name_or_path
    shipped = os.path.join(RECIPES_DIR, name_or_path if name_or_path.endswith(".yaml") else name_or_path + ".yaml")
    if os.path.exists(shipped):
        return shipped
    known = ", ".join(sorted(n[:-5] for n in os.listdir(RECIPES_DIR) if n.endswith(".yaml")))
    raise RecipeError(f"recipe not found: {name_or_path} (shipped: {known})")


def read_recipe_yaml(name_or_path: str) -> dict:
    """The YAML mapping of a recipe file or shipped recipe name."""
    path = resolve_recipe_path(name_or_path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise RecipeError(f"recipe {path} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {path} must hold a mapping at the top level")
    return data


def load_recipe(name_or_path: str) -> Recipe:
    """Loads and validates a recipe file (or a shipped recipe by name)."""
    return recipe_from_dict(read_recipe_yaml(name_or_path))
