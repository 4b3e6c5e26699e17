"""``palmkit curate``: the Beam curation job."""

from __future__ import annotations

HELP = "clean, language-ID, filter and deduplicate raw text and code (Apache Beam)"
DESCRIPTION = """\
Turns raw multilingual text and code into curated, language-tagged shards.

Inputs (repeat --input; NAME= sets the source, otherwise --source):
  JSONL (.jsonl, .jsonl.gz, .jsonl.zst), Parquet, folders of text files (one
  document per file), and code trees (a folder whose source is in
  reader.code_sources, default 'code' and 'github': one document per source file).
  Local paths, globs and any Beam filesystem (gs://...) work.

Outputs under --output:
  curated/<source>/<lang>/part-*.jsonl.zst   the kept Documents
  rejected/<reason>/part-*.jsonl.zst         rejected Documents with their reason
  errors/part-*.jsonl                        malformed input records (dead letters)
  duplicates/part-*.jsonl                    removed id -> surviving id
  stats.json, report.html                    counts (read = kept + errors + duplicates + rejected) and the report
  config.yaml                                the effective config (--config it to run the same job again)

Example:
  palmkit curate --input web=data/web/*.jsonl.zst --input code=src/ --output out/ \\
      langid.threshold=0.6 steps=[clean,langid,gopher_quality,code]
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_config_arguments, add_runner_arguments

    parser.add_argument("--input", action="append", required=True, metavar="[NAME=]PATH_OR_GLOB", help="input files, folder or glob (repeatable)")
    parser.add_argument("--source", default="web", help="source name for inputs given without NAME= (default: web)")
    parser.add_argument("--output", required=True, metavar="DIR", help="output folder (local or gs://); earlier outputs there are replaced")
    add_config_arguments(parser)
    add_runner_arguments(parser)


def run(args) -> int:
    import json
    import logging

    from palmkit.commands._beam import parse_inputs, pipeline_options
    from palmkit.config import load_config
    from palmkit.errors import UsageError
    from pipeline.curate import CurateConfig, check_models, run_curate

    cfg = load_config(CurateConfig, args.config, args.overrides)
    inputs = parse_inputs(args)
    try:
        check_models(cfg)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = pipeline_options(args, "palmkit-curate")
    logging.getLogger("palmkit").info("curating %d input(s) into %s", len(inputs), args.output)
    stats = run_curate(cfg, inputs, args.output, options)
    summary = {k: stats[k] for k in ("read", "kept", "errors", "duplicates")}
    summary["rejected"] = sum(stats["rejected"].values())
    print(json.dumps(summary))
    print(f"report: {args.output.rstrip('/')}/report.html")
    return 0
