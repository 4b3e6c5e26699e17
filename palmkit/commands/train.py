"""``palmkit train CONFIG [key=value ...]``: train (or resume) the PaLM model on token shards."""

from __future__ import annotations

import argparse
import os

HELP = "train or resume the JAX/Flax PaLM model on token shards"

DESCRIPTION = """\
Trains the PaLM model described by a TrainConfig YAML (see configs/train/) on a
token-shard directory written by 'palmkit tokenize', with PaLM's optimizer recipe
(unfactored Adafactor, lr 1e-2 then 1/sqrt(step), beta2 = 1 - k^-0.8, clipping 1.0,
weight decay lr^2, z-loss 1e-4) over a ('data', 'fsdp', 'tensor') device mesh.

The run resumes automatically from the newest complete checkpoint under
<output_dir>/checkpoints; a damaged newest checkpoint is skipped with a warning.
Loss spikes (non-finite, or above the running median by mad_k * MAD) roll back
to the previous checkpoint and skip spike.skip_batches batches.

Writes <output_dir>/config.yaml, metrics.jsonl (loss, lr, grad_norm, tokens/s,
MFU; loss_spike events) and checkpoints/.

examples:
  palmkit train configs/train/tiny_cpu.yaml data.shards=demo-out/shards
  palmkit train configs/train/tiny_cpu.yaml steps=500 optimizer.peak_lr=3e-3
  palmkit train configs/train/palm_8b.yaml distributed.enabled=true
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="TrainConfig YAML file")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. steps=100 model.preset=palm_cpu_s")


def run(args: argparse.Namespace) -> int:
    from palmkit.config import load_config
    from palmkit.errors import UsageError
    from train.config import TrainConfig

    cfg = load_config(TrainConfig, args.config, args.overrides)
    if not cfg.data.shards:
        raise UsageError("data.shards is not set: give the directory written by 'palmkit tokenize' (data.shards=DIR)")
    if not os.path.exists(os.path.join(cfg.data.shards, "manifest.json")):
        raise UsageError(f"data.shards={cfg.data.shards}: no manifest.json there (not a token-shard directory)")

    from train.config import SetupError
    from train.loop import train

    try:
        result = train(cfg)
    except SetupError as exc:
        raise UsageError(str(exc)) from None
    summary = f"trained to step {result.step} (input position {result.position})"
    if result.last_metrics:
        summary += f", loss {result.last_metrics['loss']:.4f}"
    if result.rollbacks:
        summary += f", {len(result.rollbacks)} loss-spike rollback(s)"
    print(f"{summary}; checkpoints in {cfg.checkpoint_dir}")
    return 0
