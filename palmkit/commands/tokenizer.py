"""``palmkit tokenizer train``: a SentencePiece vocabulary with PaLM's properties, from a curated sample."""

from __future__ import annotations

HELP = "train a lossless SentencePiece vocabulary on a recipe-weighted sample of curated shards"
DESCRIPTION = """\
palmkit tokenizer train RECIPE [key=value ...] --curated DIR --output spm.model [--config FILE]

Draws a sample of the curated shards with a Beam job (fixed seed; sources
weighted by the recipe's shares and its language temperature, so code and
small languages are represented), writes it as text files next to the model
(<output stem>.sample/), and trains SentencePiece on it with PaLM's
vocabulary properties: lossless (identity normalisation, whitespace and
newlines kept, whitespace-only pieces for indentation), digits split, byte
fallback, pad=0 eos=1 unk=2, and control symbols <tox:low> <tox:medium>
<tox:high>. Writes spm.model, spm.vocab and spm.json (options and inputs).

RECIPE is a YAML file or a shipped recipe name (demo, palm_780b, palm2_style).
key=value pairs (right after RECIPE: argparse takes positionals in one run)
set mixtures.vocab.VocabConfig keys: vocab_size (256000), sample_chars,
input_sentence_size, character_coverage, control_symbols, model_type, seed, ...

Example:
  palmkit tokenizer train demo vocab_size=1024 --curated demo-out/curate --output demo-out/spm.model
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train a vocabulary", description=DESCRIPTION,
                               formatter_class=parser.formatter_class)
    train.add_argument("recipe", metavar="RECIPE", help="recipe YAML file or shipped recipe name")
    train.add_argument("--curated", required=True, metavar="DIR", help="palmkit curate output folder (or its curated/)")
    train.add_argument("--output", required=True, metavar="FILE.model", help="where to write the SentencePiece model")
    train.add_argument("--config", metavar="FILE", help="YAML of VocabConfig keys (defaults apply to every key it leaves out)")
    train.add_argument("overrides", nargs="*", metavar="key=value", help="VocabConfig overrides, e.g. vocab_size=32000 sample_chars=100000000")
    add_runner_arguments(train)


def run(args) -> int:
    import json

    from palmkit.commands._beam import pipeline_options
    from palmkit.commands.mix import load_recipe_arg
    from palmkit.config import load_config
    from palmkit.errors import UsageError
    from mixtures.vocab import VocabConfig
    from pipeline.sample import run_tokenizer_train

    if not args.output.endswith(".model"):
        raise UsageError(f"--output must end in .model, got {args.output}")
    recipe = load_recipe_arg(args.recipe, [])
    cfg = load_config(VocabConfig, args.config, args.overrides)
    options = pipeline_options(args, "palmkit-tokenizer")
    try:
        record = run_tokenizer_train(recipe, args.curated, args.output, cfg, options)
    except (FileNotFoundError, ValueError) as exc:  # no shards, empty sample, vocabulary too small
        raise UsageError(str(exc)) from None
    print(json.dumps({"model": args.output, "pieces": record["pieces"], "sha256": record["sha256"],
                      "sample_lines": record["sample"]["lines"]}))
    return 0
