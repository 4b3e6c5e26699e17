"""``palmkit audit``: memorization audit of a trained checkpoint (canaries and training data)."""

from __future__ import annotations

import argparse
import os
from typing import Any

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


def run_audit(
    checkpoint_dir: str,
    canaries_path: str,
    shards_dir: str,
    output_dir: str,
    *,
    max_sequences_per_bucket: int = 1000,
    batch_size: int = 64,
    step: int | None = None,
    tokenizer_path: str | None = None,
    max_references: int | None = None,
    prompt_tokens: int = 50,
    continuation_tokens: int = 50,
    bucket_edges: tuple[int, ...] | None = None,
    beam_options: Any = None,
    progress: bool = True,
) -> dict:
    """The whole audit; returns the ``audit.json`` dict. Bad inputs raise ``UsageError`` (one line).

    ``checkpoint_dir``: a run directory with config.yaml and checkpoints/ (or the
    checkpoints/ folder). ``beam_options``: PipelineOptions for the repeats job
    (default: in-memory DirectRunner).
    """
    import datetime

    from palmkit.commands.generate import _run_dirs
    from palmkit.config import load_config
    from palmkit.errors import UsageError

    if max_sequences_per_bucket <= 0:
        raise UsageError("--max-per-bucket must be positive")
    if batch_size <= 0:
        raise UsageError("--batch-size must be positive")
    config_path, ckpt_dir = _run_dirs(checkpoint_dir)
    if not os.path.isfile(canaries_path):
        raise UsageError(f"--canaries {canaries_path}: no such file")
    if not os.path.exists(os.path.join(shards_dir, "manifest.json")):
        raise UsageError(f"--shards {shards_dir}: no manifest.json there (not a token-shard directory)")
    if tokenizer_path and not os.path.exists(tokenizer_path):
        raise UsageError(f"--tokenizer {tokenizer_path}: no such file")

    from mixtures.shards import ShardSet
    from pipeline.repeats import RepeatsConfig, count_repeats
    from train import audit as audit_mod
    from train.config import TrainConfig
    from train.extraction import AuditModel

    try:
        canaries = audit_mod.load_canaries(canaries_path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    train_cfg = load_config(TrainConfig, config_path)
    model_cfg = train_cfg.model.build()
    tokenizer = audit_mod.find_tokenizer(canaries, canaries_path, tokenizer_path)
    if tokenizer is not None and tokenizer.size > model_cfg.vocab_size:
        raise UsageError(f"{tokenizer.path} has {tokenizer.size} pieces but the model only {model_cfg.vocab_size}")

    cfg = audit_mod.AuditConfig(max_sequences_per_bucket=max_sequences_per_bucket, max_references=max_references,
                                prompt_tokens=prompt_tokens, continuation_tokens=continuation_tokens)
    shards = ShardSet(shards_dir)
    window = prompt_tokens + continuation_tokens
    repeats = windows = None
    if shards.seq_len >= window:
        rcfg = RepeatsConfig(window=window, max_per_bucket=max_sequences_per_bucket,
                             **({"bucket_edges": tuple(bucket_edges)} if bucket_edges else {}))
        repeats = count_repeats(shards_dir, os.path.join(output_dir, "repeats"), rcfg, beam_options)
        windows = repeats["samples"]

    try:
        model = AuditModel.from_checkpoint(model_cfg, ckpt_dir, train_cfg.mesh, step, batch_size=batch_size,
                                           vocab_limit=tokenizer.size if tokenizer else None, progress=progress)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    meta = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "checkpoint": {"dir": os.path.abspath(ckpt_dir), "step": int(model.step)},
        "model": {"preset": train_cfg.model.preset, "vocab_size": model_cfg.vocab_size},
        "mesh": {k: int(v) for k, v in model.mesh.shape.items()},
        "canaries_path": os.path.abspath(canaries_path),
        "shards": {"dir": os.path.abspath(shards_dir), "seq_len": shards.seq_len, "examples": shards.num_examples},
    }
    if repeats is None:
        meta["training_extraction_skipped"] = f"rows of {shards.seq_len} tokens are shorter than a {window}-token window"
    try:
        return audit_mod.audit(model, canaries, output_dir, shards=shards if windows is not None else None, windows=windows,
                               repeats=repeats, tokenizer=tokenizer, cfg=cfg, meta=meta)
    finally:
        shards.close()


def run(args: argparse.Namespace) -> int:
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


def summary_lines(result: dict) -> str:
    """A few lines for the terminal: exposure and extraction per repetition count."""
    lines = []
    for r in result.get("exposure", {}).get("summary", []):
        if r["lang_bin"] == "all" and r["interpolation"]["n"]:
            lines.append(f"exposure  reps {r['repetitions']:>5}: interpolation {r['interpolation']['mean']:.2f} bits, "
                         f"extrapolation {r['extrapolation']['mean']:.2f} bits (n={r['interpolation']['n']})")
    for r in result.get("canary_extraction", {}).get("summary", []):
        if r["lang_bin"] == "all":
            lines.append(f"extract   {r['kind']:<10} reps {r['repetitions']:>5}: exact {r['exact_rate']:.2f}, "
                         f"tokens {r['token_fraction']['mean']:.2f} (n={r['n']})")
    for r in result.get("training_extraction", {}).get("summary", []):
        lines.append(f"training  repeats {r['bucket']:>7}: exact {r['exact_rate']:.2f} (n={r['n']})")
    return "\n".join(lines)
