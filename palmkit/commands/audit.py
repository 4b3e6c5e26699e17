"""``palmkit audit``: memorization audit of a trained checkpoint (canaries and training data)."""

from __future__ import annotations

import argparse
import os

HELP = "memorization audit: canary exposure and extraction, training-data extraction, membership scores"

DESCRIPTION = """\
Audits a checkpoint written by 'palmkit train' for memorization, using the
canaries that 'palmkit tokenize' planted (canaries.json) and the token shards:

  exposure             secret canaries: log2|R| - log2 rank among sampled references
                       (interpolation, and skew-normal extrapolation), per repetition count
  canary extraction    interleave/shuffle canaries: greedy 30 tokens from the 60-token
                       prefix; exact-match rate and matched-token fraction, per
                       repetition count and language bin
  training data        100-token windows counted across the shards by a Beam job
                       (pipeline.repeats), sampled per repetition bucket; 50-token
                       prompt, greedy 50, exact-match rate per bucket
  membership scores    loss, zlib ratio, Min-K% for canaries and never-inserted controls

Writes OUTPUT/audit.json, OUTPUT/audit.html (self-contained), PNG plots,
OUTPUT/training_extraction.jsonl and OUTPUT/repeats/ (the Beam job's sample and
histogram). Inference runs batched and jitted on the training run's mesh.

examples:
  palmkit audit --checkpoint runs/tiny --canaries demo-out/canaries.json --shards demo-out/shards --output runs/tiny/audit
  palmkit audit --checkpoint runs/tiny --canaries c.json --shards s --output a --max-per-bucket 200 --batch-size 128
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from palmkit.commands._beam import add_runner_arguments

    parser.add_argument("--checkpoint", required=True, metavar="DIR", help="run directory (or its checkpoints/ folder)")
    parser.add_argument("--canaries", required=True, metavar="FILE", help="canaries.json written by 'palmkit tokenize'")
    parser.add_argument("--shards", required=True, metavar="DIR", help="the token-shard directory the model trained on")
    parser.add_argument("--output", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--max-per-bucket", type=int, default=1000, metavar="N", help="training windows sampled per repetition bucket (default 1000; PaLM 2: 10000)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="sequences per inference batch (default 64)")
    parser.add_argument("--max-references", type=int, default=None, metavar="N", help="references scored per secret canary (default: all)")
    parser.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    parser.add_argument("--tokenizer", metavar="SPM_MODEL", help="SentencePiece model (default: the one canaries.json names)")
    add_runner_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from palmkit.audit import run_audit, summary_lines
    from palmkit.commands._beam import pipeline_options

    options = pipeline_options(args, "palmkit-audit")
    result = run_audit(
        args.checkpoint, args.canaries, args.shards, args.output,
        max_sequences_per_bucket=args.max_per_bucket, batch_size=args.batch_size, step=args.step,
        tokenizer_path=args.tokenizer, max_references=args.max_references, beam_options=options,
    )
    print(summary_lines(result))
    print(f"audit written to {os.path.join(args.output, 'audit.html')} and audit.json")
    return 0
