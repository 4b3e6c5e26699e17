"""mixtures.recipe: the shipped recipes, and loud errors for bad ones."""

from __future__ import annotations

import pytest
import yaml

from mixtures.recipe import LanguageSampling, Recipe, RecipeError, load_recipe, recipe_from_dict, resolve_recipe_path


def _minimal(**changes):
    data = {"name": "t", "total_tokens": 1000, "sources": {"web": {"share": 0.6}, "code": {"share": 0.4}}}
    data.update(changes)
    return data


def test_palm_780b_is_the_published_mixture():
    r = load_recipe("palm_780b")
    assert r.total_tokens == 780_000_000_000
    assert {k: s.share for k, s in r.sources.items()} == {
        "conversations": 0.50, "web": 0.27, "books": 0.13, "code": 0.05, "wiki": 0.04, "news": 0.01}
    assert all(s.max_epochs == 1.0 for s in r.sources.values())
    assert r.tokens_wanted("conversations") == 390_000_000_000
    assert r.seq_len == 2048


def test_every_shipped_recipe_loads_and_sums_to_one():
    for name in ("palm_780b", "palm2_style", "demo"):
        r = load_recipe(name)
        assert sum(s.share for s in r.sources.values()) == pytest.approx(1.0)
    assert load_recipe("palm2_style").total_tokens == 3_600_000_000_000
    # palm2_style says in the file which numbers are published and which are assumed.
    text = open(resolve_recipe_path("palm2_style"), encoding="utf-8").read()
    assert "NOT published" in text and "Published" in text
    # demo covers the sample corpus's five sources.
    assert set(load_recipe("demo").sources) == {"conversations", "web", "books", "code", "wiki"}


def test_paths_default_to_the_source_name_and_languages_parse():
    r = recipe_from_dict(_minimal(sources={"web": {"share": 1.0, "languages": {"temperature": 0.3, "max_epochs": 4}}}))
    assert r.source_paths("web") == ("web",)
    assert r.sources["web"].languages == LanguageSampling(0.3, 4.0)
    assert recipe_from_dict(_minimal(total_tokens=7.8e11)).total_tokens == 780_000_000_000


@pytest.mark.parametrize(
    "data, message",
    [
        (_minimal(shares=1), "unknown recipe key 'shares'"),
        (_minimal(sources={"web": {"share": 1.0, "max_epoch": 2}}), "unknown recipe key 'sources.web.max_epoch'"),
        (_minimal(sources={"web": {"share": 1.0, "languages": {"temp": 1}}}), "sources.web.languages.temp"),
        (_minimal(sources={"web": {"share": 0.5}}), "shares sum to 0.5"),
        (_minimal(total_tokens="many"), "total_tokens: expected int"),
        (_minimal(sources={"web": {"share": "half"}}), "sources.web.share: expected float"),
        (_minimal(sources={"web": {"share": 1.0, "languages": {"temperature": 2}}}), "temperature must be in [0, 1]"),
        (_minimal(sources={"a": {"share": 0.5, "paths": ["x"]}, "b": {"share": 0.5, "paths": ["x"]}}), "belongs to both"),
        ({"name": "t", "sources": {"web": {"share": 1.0}}}, "'total_tokens' is required"),
        (_minimal(seq_len=1), "seq_len must be at least 2"),
    ],
)
def test_bad_recipes_fail_with_the_key(data, message):
    with pytest.raises(RecipeError) as err:
        recipe_from_dict(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(RecipeError, match="recipe not found: nope .*palm_780b"):
        load_recipe("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(str(bad))


def test_palmkit_config_builds_the_same_recipe_with_overrides(tmp_path):
    """The command line loads recipes with palmkit.config (for key=value overrides); same result."""
    from palmkit.config import ConfigError, load_config

    path = resolve_recipe_path("demo")
    assert load_config(Recipe, path) == load_recipe("demo")
    r = load_config(Recipe, path, ["total_tokens=5000", "seq_len=128"])
    assert (r.total_tokens, r.seq_len) == (5000, 128)
    with pytest.raises(ConfigError, match="unknown config key 'bogus'"):
        load_config(Recipe, path, ["bogus=1"])


def test_to_dict_round_trips():
    r = load_recipe("palm2_style")
    assert recipe_from_dict(yaml.safe_load(yaml.safe_dump(r.to_dict()))) == r
