"""``palmkit tokenize``: a recipe's packed, shuffled token shards (Apache Beam)."""

from __future__ import annotations

HELP = "tokenize, sample and pack curated shards into seq_len token shards per a recipe (Apache Beam)"
DESCRIPTION = """\
palmkit tokenize RECIPE [key=value ...] --curated DIR --vocab spm.model --output DIR

Plans the recipe (as 'palmkit mix plan'), then a Beam job tokenizes every
curated document, keeps or repeats it to its source's planned token count
(per-document decisions from a hash of seed, document id and copy), joins
documents with the end-of-document id, cuts rows of exactly seq_len tokens
(no padding), shuffles them globally with the recipe's seed and writes

  OUTPUT/shard-SSSSS-of-NNNNN.tfrecord  tf.train.Example{targets: int64[seq_len]}
  OUTPUT/shard-SSSSS-of-NNNNN.idx       record offsets (random access)
  OUTPUT/manifest.json                  tokens and examples per source, shard sha256s,
                                        vocabulary sha256, recipe and plan (written last)

The same inputs and seed give the same bytes on any runner and worker count.
key=value pairs right after RECIPE override recipe keys (seq_len=512, seed=1,
total_tokens=...); canaries.* keys configure canaries (pipeline.canaries).

Canaries (off unless canaries.enabled=true): interleave, shuffle and secret
canaries per language and repetition count (canaries.repetitions=[1,10,100]),
each copy packed as a document of its own; nothing in the shards or manifest
marks them. Their record goes beside the shard folder, mode 0600:
  --canaries-out FILE (default: OUTPUT.canaries.json)

Example:
  palmkit tokenize demo --curated demo-out/curate --vocab demo-out/spm.model --output demo-out/shards
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    parser.add_argument("recipe", metavar="RECIPE", help="recipe YAML file or shipped recipe name")
    parser.add_argument("--curated", required=True, metavar="DIR", help="palmkit curate output folder (or its curated/)")
    parser.add_argument("--vocab", required=True, metavar="FILE.model", help="SentencePiece model")
    parser.add_argument("--output", required=True, metavar="DIR", help="shard folder (local); earlier shards there are replaced")
    parser.add_argument("--cache", metavar="DIR", default=None, help="token-count cache (default: token_counts/ beside the vocabulary)")
    parser.add_argument("--examples-per-shard", type=int, default=8192, metavar="N", help="examples per shard file (default: 8192)")
    parser.add_argument("--bucket-tokens", type=int, default=64_000_000, metavar="N",
                        help="tokens per packing bucket; bounds one worker's memory (default: 64M)")
    parser.add_argument("--canaries-out", metavar="FILE", default=None,
                        help="canary record, outside the shard folder (default: OUTPUT.canaries.json)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="recipe overrides (seq_len=512) and canaries.* keys (canaries.enabled=true)")
    add_runner_arguments(parser)


def run(args) -> int:
    import json
    import os

    from palmkit.commands._beam import pipeline_options
    from palmkit.commands.mix import check_inputs, default_cache, load_recipe_arg
    from palmkit.config import load_config
    from palmkit.errors import UsageError
    from pipeline.canaries import default_path
    from pipeline.tokenize import EmptySourceError, TokenizeConfig, run_tokenize

    job_overrides = [o for o in args.overrides if o.startswith("canaries.")]
    recipe = load_recipe_arg(args.recipe, [o for o in args.overrides if not o.startswith("canaries.")])
    cfg = load_config(TokenizeConfig, None, job_overrides,
                      base={"examples_per_shard": args.examples_per_shard, "bucket_tokens": args.bucket_tokens})
    check_inputs(args.curated, args.vocab)
    if "://" in args.output:
        raise UsageError("--output must be a local folder (token shards are written with local file I/O)")
    if args.canaries_out and os.path.abspath(args.canaries_out).startswith(os.path.abspath(args.output).rstrip("/") + "/"):
        raise UsageError("--canaries-out must be outside the shard folder (the canary record is kept apart from the shards)")
    options = pipeline_options(args, "palmkit-tokenize")
    try:
        manifest = run_tokenize(recipe, args.curated, args.vocab, args.output, options, cfg=cfg,
                                cache_dir=args.cache or default_cache(args.vocab), canaries_out=args.canaries_out)
    except (FileNotFoundError, EmptySourceError) as exc:
        raise UsageError(str(exc)) from None
    summary = {
        "output": args.output,
        "examples": manifest["examples"],
        "tokens": manifest["tokens"],
        "shards": len(manifest["shards"]),
        "sources": {k: {"examples": v["examples"], "epochs": round(v["epochs"], 4)} for k, v in manifest["sources"].items()},
    }
    if cfg.canaries.enabled:
        path = args.canaries_out or default_path(args.output)
        with open(path, encoding="utf-8") as f:
            summary["canaries"] = {"path": path, "count": len(json.load(f)["canaries"])}
    print(json.dumps(summary))
    return 0
