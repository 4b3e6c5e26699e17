"""``TrainConfig``: every setting of ``palmkit train``, with PaLM's numbers as defaults.

Loaded with ``palmkit.config.load_config(TrainConfig, path, overrides)``; nested
sections are addressed with dots (``optimizer.peak_lr=3e-3``). This module
imports nothing of palmkit's but ``model``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from model import palm


class SetupError(ValueError):
    """The config does not fit the data or the machine (the message says how to fix it)."""

# Logical axis -> mesh axes. Parameters and the batch carry logical names;
# this table (overridable as ``mesh.rules``) is the only place they meet devices.
DEFAULT_RULES: dict[str, list[str]] = {
    "batch": ["data", "fsdp"],
    "vocab": ["tensor"],
    "embed": ["fsdp"],
    "heads": ["tensor"],
    "mlp": ["tensor"],
    "head_dim": [],
    "kv_head_dim": [],
    "norm": [],
}


@dataclass
class ModelSettings:
    """A preset from ``model.palm.PRESETS`` with any field overridden (None keeps the preset's)."""

    preset: str = "palm_tiny"
    vocab_size: int | None = None
    d_model: int | None = None
    num_layers: int | None = None
    num_heads: int | None = None
    head_dim: int | None = None
    ff_mult: int | None = None
    dtype: str | None = None
    remat: bool | None = None
    fuse_inputs: bool | None = None  # one matmul for q/k/v/gate/up; false suits tensor parallelism

    def __post_init__(self) -> None:
        if self.preset not in palm.PRESETS:
            raise ValueError(f"unknown preset '{self.preset}' (known: {', '.join(palm.PRESETS)})")

    def build(self) -> palm.PalmConfig:
        overrides = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "preset"}
        return palm.preset(self.preset, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class OptimizerConfig:
    """PaLM §5: unfactored Adafactor with parameter scaling, lr², z-loss."""

    peak_lr: float = 1e-2
    constant_steps: int = 10_000  # lr = peak for this many steps, then peak·sqrt(constant_steps/step)
    beta1: float = 0.9
    beta2_decay: float = 0.8  # beta2 = 1 - k^-0.8 at update k (1-based)
    clip_norm: float | None = 1.0  # global gradient-norm clipping
    weight_decay_lr_exponent: float | None = 2.0  # decay rate = lr^2; None: no weight decay
    param_scale_min: float = 1e-3  # parameter scaling uses max(this, RMS(param))
    update_clip: float | None = None  # Adafactor's per-block update RMS clipping (off in PaLM's text)
    epsilon: float = 1e-30
    z_loss: float = 1e-4  # z_loss · log²Z added to the loss


@dataclass
class DataConfig:
    shards: str = ""  # a directory written by mixtures.shards (manifest.json + shard-*.tfrecord)
    seed: int = 0  # the example order is a pure function of (seed, position)
    batch_size: int = 8  # sequences per step
    # [[step, batch_size], ...]: from each step on, use that batch size (PaLM 540B:
    # [[0, 512], [50000, 1024], [115000, 2048]]). Empty: batch_size throughout.
    batch_ramp: list[list[int]] = field(default_factory=list)
    tokenizer: str = ""  # SentencePiece model; defaults to the manifest's vocab path

    def __post_init__(self) -> None:
        for entry in self.batch_ramp:
            if len(entry) != 2 or entry[1] <= 0 or entry[0] < 0:
                raise ValueError(f"batch_ramp entries are [step, batch_size] with batch_size > 0, got {entry}")
        if [e[0] for e in self.batch_ramp] != sorted(e[0] for e in self.batch_ramp):
            raise ValueError("batch_ramp steps must increase")
        if self.batch_size <= 0:
            raise ValueError("batch_size must be positive")


@dataclass
class MeshConfig:
    """Device mesh ('data', 'fsdp', 'tensor'); -1 on one axis takes the remaining devices."""

    data: int = -1
    fsdp: int = 1
    tensor: int = 1
    # Logical axis -> mesh axes; entries given here replace those of DEFAULT_RULES,
    # e.g. ``mesh.rules={embed: []}`` to replicate instead of FSDP-sharding.
    rules: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = {**{k: list(v) for k, v in DEFAULT_RULES.items()}, **self.rules}
        for name, axes in self.rules.items():
            unknown = [a for a in axes if a not in ("data", "fsdp", "tensor")]
            if unknown:
                raise ValueError(f"rules.{name}: unknown mesh axis {unknown[0]!r} (mesh axes: data, fsdp, tensor)")


@dataclass
class DistributedConfig:
    """Multi-host start: ``jax.distributed.initialize`` runs when ``enabled``.

    With no address the cluster is auto-detected (TPU pods, SLURM); otherwise
    all three of coordinator_address, num_processes and process_id are given.
    """

    enabled: bool = False
    coordinator_address: str | None = None
    num_processes: int | None = None
    process_id: int | None = None


@dataclass
class CheckpointConfig:
    directory: str = ""  # default: <output_dir>/checkpoints
    every_steps: int = 100
    keep: int = 3  # keep the last N complete checkpoints
    async_save: bool = True


@dataclass
class SpikeConfig:
    """PaLM §5: on a loss spike, restart from the checkpoint before it and skip batches."""

    enabled: bool = True
    window: int = 100  # running window of recent losses
    min_history: int = 20  # no median test before this many losses
    mad_k: float = 8.0  # spike: loss > median + mad_k · MAD(window); non-finite is always one
    skip_batches: int = 200  # batches skipped from the restored checkpoint's position
    max_rollbacks: int = 20  # then give up with an error


@dataclass
class LogConfig:
    every_steps: int = 10
    progress: bool = True  # tqdm bar on stderr
    peak_tflops: float | None = None  # all devices together, for MFU; None: measured with a matmul


@dataclass
class TrainConfig:
    output_dir: str = "runs/palm"
    steps: int = 1000
    seed: int = 0  # parameter initialisation
    model: ModelSettings = field(default_factory=ModelSettings)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    mesh: MeshConfig = field(default_factory=MeshConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    spike: SpikeConfig = field(default_factory=SpikeConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError("steps must be >= 0")

    @property
    def checkpoint_dir(self) -> str:
        import os

        return self.checkpoint.directory or os.path.join(self.output_dir, "checkpoints")


def batch_size_at(cfg: DataConfig, step: int) -> int:
    """The batch size of ``step`` under the ramp."""
    size = cfg.batch_size
    for start, bs in cfg.batch_ramp:
        if step >= start:
            size = bs
    return size
