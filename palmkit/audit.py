"""Orchestration of the memorization audit: the Beam repeats job, the model, the reports.

Lives in ``palmkit`` (like ``palmkit.demo``) because it chains packages that
may not import each other: ``pipeline.repeats`` (Beam), ``train.audit`` and
``palmkit.config`` for the run's config. ``palmkit audit`` and the demo call
``run_audit``.
"""

from __future__ import annotations

import os
from typing import Any


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

    from palmkit.generate import run_dirs as _run_dirs
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
