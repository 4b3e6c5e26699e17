"""``palmkit demo``: every stage that exists, end to end, on the bundled sample corpus."""

from __future__ import annotations

HELP = "run the pipeline end to end on the bundled sample corpus (what `make demo` runs)"
DESCRIPTION = """\
Runs palmkit's stages on the real sample corpus in examples/corpus (see
examples/SOURCES.md), writing everything under --output:

  OUTPUT/curate/   palmkit curate: curated shards, rejected/, errors/, duplicates/, stats.json, report.html
  OUTPUT/data/     tokenizer (spm.model), the demo recipe's plan, token shards with canaries
                   (shards/), and the canary record beside them (shards.canaries.json)
  OUTPUT/train/    a small PaLM (configs/train/demo_cpu.yaml) trained on the shards
  OUTPUT/audit/    exposure and extraction of the canaries, audit.html
  OUTPUT/index.html  one line per stage with a link to its report

and prints where the index page is. About 5 minutes on 2 idle cores.
--stages runs a subset (each stage reads what the earlier ones wrote).
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    parser.add_argument("--output", default="demo-out", metavar="DIR", help="output folder (default: demo-out)")
    parser.add_argument("--corpus", default=None, metavar="DIR", help="sample corpus folder (default: examples/corpus in the checkout)")
    parser.add_argument("--stages", default="curate,data,train,audit", metavar="LIST",
                        help="comma-separated stages to run, in order (default: curate,data,train,audit)")
    add_runner_arguments(parser)


def run(args) -> int:
    from palmkit.commands._beam import pipeline_options
    from palmkit.demo import STAGES, run_demo
    from palmkit.errors import UsageError

    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise UsageError(f"unknown stage {unknown[0]!r} (stages: {', '.join(STAGES)})" if unknown else "--stages is empty")
    options = pipeline_options(args, "palmkit-demo")
    report = run_demo(args.output, options, corpus=args.corpus, stages=stages)
    print(f"demo finished; index: {report}")
    return 0
