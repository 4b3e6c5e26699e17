"""``palmkit demo``: every stage that exists, end to end, on the bundled sample corpus."""

from __future__ import annotations

HELP = "run the pipeline end to end on the bundled sample corpus (what `make demo` runs)"
DESCRIPTION = """\
Runs palmkit's stages on the real sample corpus in examples/corpus (see
examples/SOURCES.md), writing everything under --output:

  OUTPUT/curate/   palmkit curate: curated shards, rejected/, errors/, duplicates/, stats.json, report.html

and prints where the report is. Later stages (tokenizer, mix, tokenize, train,
audit) join the demo as they land.
"""


def add_arguments(parser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    parser.add_argument("--output", default="demo-out", metavar="DIR", help="output folder (default: demo-out)")
    parser.add_argument("--corpus", default=None, metavar="DIR", help="sample corpus folder (default: examples/corpus in the checkout)")
    add_runner_arguments(parser)


def run(args) -> int:
    from palmkit.commands._beam import pipeline_options
    from palmkit.demo import run_demo

    options = pipeline_options(args, "palmkit-demo")
    report = run_demo(args.output, options, corpus=args.corpus)
    print(f"demo finished; report: {report}")
    return 0
