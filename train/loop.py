"""The train loop: resume, step, log, checkpoint, and roll back loss spikes.

    state <- newest complete checkpoint, or a fresh init (saved as checkpoint 0)
    while step < steps:
        batch  <- examples [position, position + batch_size) in (seed)-order
        state', metrics <- train step
        spike?  (non-finite, or loss > median + k·MAD of recent losses)
            yes: restore the newest checkpoint at or before this step, move its
                 position past ``skip_batches`` batches, log what was skipped
            no:  state <- state'; position += batch_size; log; checkpoint

The input position travels in each checkpoint, so resuming (after a crash or a
rollback) continues with exactly the batches that come next.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import numpy as np
import yaml

from mixtures.shards import ShardSet
from model import palm
from train import metrics as tm
from train import sharding
from train.checkpoint import Checkpoints
from train.config import SetupError, TrainConfig, batch_size_at
from train.data import BatchSource
from train.steps import Steps

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"


@dataclass
class RunResult:
    state: dict
    step: int
    position: int
    rollbacks: list[dict] = field(default_factory=list)
    last_metrics: dict = field(default_factory=dict)


def _to_plain(cfg: Any) -> dict:
    import dataclasses

    def plain(v):
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def _check_vocab(model_cfg: palm.PalmConfig, shards: ShardSet, spm_path: str) -> None:
    """The model's vocabulary must cover the shards' (manifest ``vocab.size``, else the tokenizer's)."""
    vocab = shards.manifest.get("vocab")
    size = vocab.get("size") if isinstance(vocab, dict) else None
    if size is None and spm_path and os.path.exists(spm_path):
        import sentencepiece as spm

        size = spm.SentencePieceProcessor(model_file=spm_path).get_piece_size()
    if size is not None and int(size) > model_cfg.vocab_size:
        raise SetupError(
            f"the shards use a vocabulary of {size} pieces but model.vocab_size is {model_cfg.vocab_size}; "
            f"set model.vocab_size={size} (or more)"
        )


def tokenizer_path(cfg: TrainConfig, shards: ShardSet | None = None) -> str:
    """The SentencePiece model: ``data.tokenizer``, else the manifest's ``vocab.path``."""
    if cfg.data.tokenizer:
        return cfg.data.tokenizer
    if shards is not None:
        vocab = shards.manifest.get("vocab")
        if isinstance(vocab, dict) and vocab.get("path"):
            path = vocab["path"]
            beside = os.path.join(shards.directory, path)
            return os.path.abspath(beside if not os.path.isabs(path) and os.path.exists(beside) else path)
    return ""


def train(cfg: TrainConfig, on_step: Callable[[int, dict], None] | None = None) -> RunResult:
    """Trains (or resumes training) until ``cfg.steps``; returns the final state."""
    sharding.initialize_distributed(cfg.distributed)
    main_process = jax.process_index() == 0
    if not cfg.data.shards:
        raise SetupError("data.shards is not set (a directory written by 'palmkit tokenize')")
    shards = ShardSet(cfg.data.shards)
    source = BatchSource(shards, cfg.data)
    model_cfg = cfg.model.build()
    spm_path = tokenizer_path(cfg, shards)
    _check_vocab(model_cfg, shards, spm_path)

    os.makedirs(cfg.output_dir, exist_ok=True)
    if main_process:
        plain = _to_plain(cfg)
        plain["data"]["tokenizer"] = spm_path
        with open(os.path.join(cfg.output_dir, CONFIG_FILE), "w", encoding="utf-8") as f:
            yaml.safe_dump(plain, f, sort_keys=False)

    try:
        mesh = sharding.make_mesh(cfg.mesh)
    except ValueError as exc:
        raise SetupError(f"mesh: {exc}") from None
    steps = Steps(model_cfg, cfg.optimizer, mesh, cfg.mesh.rules, seed=cfg.seed, donate=jax.default_backend() != "cpu")
    ckpts = Checkpoints(cfg.checkpoint_dir, keep=cfg.checkpoint.keep, async_save=cfg.checkpoint.async_save)
    mlog = tm.MetricsLog(os.path.join(cfg.output_dir, "metrics.jsonl"), enabled=main_process)

    restored = ckpts.restore(steps.abstract_state)
    if restored is None:
        state, meta = steps.init(), {"step": 0, "position": 0, "skipped": []}
        ckpts.save(0, state, meta)
        log.info("initialised %s (%.2fM parameters) on mesh %s", cfg.model.preset, palm.param_count(model_cfg) / 1e6, dict(mesh.shape))
    else:
        state, meta = restored
        log.info("resumed from checkpoint %d (input position %d)", meta["step"], meta["position"])
    step, position, skipped = int(meta["step"]), int(meta["position"]), list(meta.get("skipped", []))

    if cfg.log.peak_tflops:
        peak = cfg.log.peak_tflops * 1e12
    else:  # one device's matmul rate times the devices (simulated CPU devices share the same cores)
        per_device = tm.measure_matmul_peak(dtype=model_cfg.dtype)
        peak = per_device * (1 if jax.default_backend() == "cpu" else jax.device_count())
    fpt = palm.flops_per_token(model_cfg, source.seq_len)
    meter = tm.Throughput(fpt, peak)
    detector = tm.SpikeDetector(cfg.spike.window, cfg.spike.min_history, cfg.spike.mad_k)
    rollbacks: list[dict] = []
    last: dict = {}
    bar = _progress(cfg, step, main_process)
    compiled_sizes: set[int] = set()
    try:
        while step < cfg.steps:
            bs = source.batch_size(step)
            batch = source.batch(position, bs, rows=sharding.process_rows(bs))
            inputs, targets = steps.put_batch(batch.inputs, bs), steps.put_batch(batch.targets, bs)
            new_state, m = steps.step(state, inputs, targets)
            loss = float(m["loss"])
            if cfg.spike.enabled and detector.is_spike(loss):
                state, event = _rollback(cfg, ckpts, steps, step, loss, detector.threshold(), rollbacks)
                rollbacks.append(event)
                if len(rollbacks) > cfg.spike.max_rollbacks:
                    raise RuntimeError(f"more than {cfg.spike.max_rollbacks} loss-spike rollbacks; giving up")
                mlog.write(event)
                step, position = event["restored_step"], event["skip_to_position"]
                skipped.append([event["skip_from_position"], event["skip_to_position"]])
                bar.n = step
                meter.reset()
                continue
            state, step, position = new_state, step + 1, position + bs
            detector.add(loss)
            if bs in compiled_sizes:
                meter.add(bs * source.seq_len)
            else:  # this step compiled; leave it out of tokens/s
                compiled_sizes.add(bs)
                meter.reset()
            last = {k: float(v) for k, v in m.items()}
            bar.update(1)
            if step % cfg.log.every_steps == 0 or step == cfg.steps:
                record = {"step": step, "position": position, "batch_size": bs, **last, **meter.report()}
                mlog.write(record)
                bar.set_postfix(loss=f"{loss:.3f}", mfu=f"{record.get('mfu', 0):.1%}")
                if main_process:
                    bar.write(_format(record))
            if step % cfg.checkpoint.every_steps == 0 or step == cfg.steps:
                ckpts.save(step, state, {"step": step, "position": position, "skipped": skipped})
            if on_step is not None:
                on_step(step, last)
    finally:
        bar.close()
        ckpts.close()
    return RunResult(state, step, position, rollbacks, last)


def _rollback(cfg, ckpts, steps, step, loss, threshold, earlier: list[dict]) -> tuple[dict, dict]:
    restored = ckpts.restore(steps.abstract_state, at_most=step)
    if restored is None:
        raise RuntimeError(f"loss spike at step {step} (loss {loss}) and no checkpoint to roll back to")
    state, meta = restored
    start, pos = int(meta["step"]), int(meta["position"])
    skip = sum(batch_size_at(cfg.data, start + i) for i in range(cfg.spike.skip_batches))
    # Back at a checkpoint we already restarted from: skip past the previous skip too,
    # or the same batches would be replayed into the same spike.
    again = [e["skip_to_position"] for e in earlier if e["restored_step"] == start]
    skip_from = max(again) if again else pos
    skip_to = skip_from + skip
    event = {
        "event": "loss_spike",
        "step": step,
        "loss": loss if np.isfinite(loss) else str(loss),
        "threshold": threshold if np.isfinite(threshold) else None,
        "restored_step": start,
        "skip_from_position": skip_from,
        "skip_to_position": skip_to,
        "skipped_batches": cfg.spike.skip_batches,
    }
    log.warning(
        "loss spike at step %d (loss %s, threshold %s): restored checkpoint %d, skipping examples [%d, %d) (%d batches)",
        step, loss, threshold, start, skip_from, skip_to, cfg.spike.skip_batches,
    )
    return state, event


def _format(r: dict) -> str:
    parts = [f"step {r['step']}", f"loss {r['loss']:.4f}", f"lr {r['lr']:.2e}", f"gnorm {r['grad_norm']:.3f}", f"tok/s {r['tokens_per_s']:.0f}"]
    if "mfu" in r:
        parts.append(f"MFU {r['mfu']:.1%}")
    return "  ".join(parts)


def _progress(cfg: TrainConfig, step: int, main_process: bool):
    from tqdm import tqdm

    return tqdm(total=cfg.steps, initial=step, disable=not (cfg.log.progress and main_process), unit="step", dynamic_ncols=True)
