"""Arguments shared by the Beam subcommands: runner, workers, config and overrides."""

from __future__ import annotations

import argparse

from palmkit.errors import UsageError


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML config file (defaults apply to every key it leaves out; every key with its "
                        "default: configs/<command>/default.yaml in the palmkit repository)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. langid.threshold=0.6 dedup.near.threshold=0.7")


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("runner", "Any other Beam option goes after a bare '--', e.g. '-- --project P --region R --temp_location gs://B/tmp'.")
    group.add_argument("--runner", default="DirectRunner", help="Beam runner: DirectRunner (default, local) or DataflowRunner, FlinkRunner, ...")
    group.add_argument("--workers", type=int, default=None, help="local worker processes for the DirectRunner (default: all cores)")
    group.add_argument("--max_bundle_mb", type=float, default=None, metavar="MB",
                       help="DirectRunner with 2+ workers: the most encoded input one bundle gets, so a worker's memory "
                            "does not grow with the corpus (default: 2; 0: Beam's own bundling, which gives each "
                            "worker 1/workers of every stage's input at once)")


def pipeline_options(args, job_name: str):
    from pipeline.options import RunnerOptionsError, build_options

    try:
        level = "INFO" if getattr(args, "verbose", 0) else "WARNING"
        return build_options(args.runner, args.workers, args.beam_args, job_name=job_name, worker_log_level=level,
                             max_bundle_mb=getattr(args, "max_bundle_mb", None))
    except RunnerOptionsError as exc:
        raise UsageError(str(exc)) from None


def parse_inputs(args) -> list:
    """``--input [NAME=]PATH_OR_GLOB`` values as ``pipeline.readers.InputSpec``s; a bad one is a UsageError."""
    from pipeline.readers import parse_input

    try:
        return [parse_input(text, args.source) for text in args.input]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
