"""``palmkit mix plan``: what a recipe asks of the curated data, source by source."""

from __future__ import annotations

HELP = "plan a mixture recipe: tokens wanted vs available per source and language, epochs, warnings"
DESCRIPTION = """\
palmkit mix plan RECIPE [key=value ...] --curated DIR --vocab spm.model [--json]

Counts the tokens of every curated folder and language with the vocabulary (a
Beam job; cached under --cache by the sha256 of the vocabulary and of every
shard), then prints, per source: its share, tokens wanted (share x
total_tokens), tokens available, and epochs (wanted / available: below 1 the
source is down-sampled, above 1 repeated), with the split over languages
(p ~ n^temperature, capped repeats) and a warning wherever a source or
language would repeat more than max_epochs. Token counts include one
end-of-document id per document.

RECIPE is a YAML file or a shipped recipe name (demo, palm_780b, palm2_style);
key=value pairs right after RECIPE override recipe keys, e.g.
total_tokens=2000000 seq_len=512.

Example:
  palmkit mix plan palm_780b --curated out/curate --vocab out/spm.model --json
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan = actions.add_parser("plan", help="print the plan of a recipe", description=DESCRIPTION,
                              formatter_class=parser.formatter_class)
    plan.add_argument("recipe", metavar="RECIPE", help="recipe YAML file or shipped recipe name")
    plan.add_argument("--curated", required=True, metavar="DIR", help="palmkit curate output folder (or its curated/)")
    plan.add_argument("--vocab", required=True, metavar="FILE.model", help="SentencePiece model to count tokens with")
    plan.add_argument("--cache", metavar="DIR", default=None, help="token-count cache (default: token_counts/ beside the vocabulary)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON instead of a table")
    plan.add_argument("overrides", nargs="*", metavar="key=value", help="recipe overrides, e.g. total_tokens=1000000")
    add_runner_arguments(plan)


def load_recipe_arg(name_or_path: str, overrides):
    """The recipe named on the command line, with overrides, as a typed Recipe (ConfigError on any problem)."""
    from palmkit.config import ConfigError, load_config
    from mixtures.recipe import Recipe, RecipeError, resolve_recipe_path

    try:
        path = resolve_recipe_path(name_or_path)
    except RecipeError as exc:
        raise ConfigError(str(exc)) from None
    return load_config(Recipe, path, overrides)


def default_cache(vocab: str) -> str:
    import os

    return os.path.join(os.path.dirname(os.path.abspath(vocab)), "token_counts")


def check_inputs(curated: str, vocab: str) -> None:
    import os

    from palmkit.errors import UsageError

    if "://" not in vocab and not os.path.exists(vocab):
        raise UsageError(f"vocabulary not found: {vocab}")
    if "://" not in curated and not os.path.isdir(curated):
        raise UsageError(f"curated folder not found: {curated}")


def run(args) -> int:
    import json

    from palmkit.commands._beam import pipeline_options
    from palmkit.errors import UsageError
    from mixtures.plan import format_plan
    from pipeline.tokenize import plan_for

    recipe = load_recipe_arg(args.recipe, args.overrides)
    check_inputs(args.curated, args.vocab)
    options = pipeline_options(args, "palmkit-mix-plan")
    try:
        plan = plan_for(recipe, args.curated, args.vocab, options, args.cache or default_cache(args.vocab))
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(plan.to_dict(), indent=2, sort_keys=True) if args.json else format_plan(plan))
    return 0
