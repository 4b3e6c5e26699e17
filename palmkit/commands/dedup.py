"""``palmkit dedup``: exact and MinHash near-duplicate removal on its own (Apache Beam)."""

from __future__ import annotations

HELP = "remove exact and near-duplicate documents from JSONL shards (Apache Beam)"
DESCRIPTION = """\
Removes exact duplicates (digest of normalised text) and near duplicates
(MinHash LSH, connected components as Beam transforms) from Document shards,
for example a curate output's curated/ tree, or any JSONL with 'id' and 'text'.
It is the dedup that 'palmkit curate' runs after its filters, with the same
config keys (dedup.exact.*, dedup.near.*, reader.*, records_per_shard).

Inputs (repeat --input; NAME= sets the source of records that have none):
  JSONL (.jsonl, .jsonl.gz, .jsonl.zst) files, folders or globs; a record that
  is a palmkit Document keeps its source, lang, lang_score and meta.

Outputs under --output:
  kept/<source>/<lang>/part-*.jsonl.zst   the surviving Documents (curate's layout)
  duplicates/part-*.jsonl                 removed id -> survivor id, kind exact|near
  errors/part-*.jsonl                     malformed input records (dead letters)
  stats.json, report.html                 counts (read = kept + errors + duplicates),
                                          cluster-size histogram, bands x rows
  config.yaml                             the effective config (--config it to run the same job again)

Examples:
  palmkit dedup --input out/curated/ --output out/deduped/
  palmkit dedup --input web=data/*.jsonl.zst --output dd/ dedup.near.threshold=0.7 dedup.near.shingle=char
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_config_arguments, add_runner_arguments

    parser.add_argument("--input", action="append", required=True, metavar="[NAME=]PATH_OR_GLOB", help="input files, folder or glob (repeatable)")
    parser.add_argument("--source", default="web", help="source name for records without one, inputs given without NAME= (default: web)")
    parser.add_argument("--output", required=True, metavar="DIR", help="output folder (local or gs://); earlier outputs there are replaced")
    add_config_arguments(parser)
    add_runner_arguments(parser)


def run(args) -> int:
    import json
    import logging

    from palmkit.commands._beam import parse_inputs, pipeline_options
    from palmkit.config import load_config
    from pipeline.dedup import lsh_parameters
    from pipeline.dedup_job import DedupJobConfig, run_dedup

    cfg = load_config(DedupJobConfig, args.config, args.overrides)
    inputs = parse_inputs(args)
    options = pipeline_options(args, "palmkit-dedup")
    if cfg.dedup.near.enabled:
        print(lsh_parameters(cfg.dedup.near), flush=True)
    logging.getLogger("palmkit").info("deduplicating %d input(s) into %s", len(inputs), args.output)
    stats = run_dedup(cfg, inputs, args.output, options)
    print(json.dumps({k: stats[k] for k in ("read", "kept", "errors", "duplicates")}))
    print(f"report: {args.output.rstrip('/')}/report.html")
    return 0
