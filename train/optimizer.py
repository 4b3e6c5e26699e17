"""PaLM's optimizer recipe (§5) as an optax chain.

    clip global norm 1.0
    -> Adafactor second moment, unfactored, beta2 = 1 - k^-0.8     (optax.scale_by_factored_rms)
    -> [optional per-block update clipping]
    -> x learning rate: 1e-2 for 10k steps, then 1e-2·sqrt(10k/step)
    -> x max(1e-3, RMS(param))  "parameter scaling"               (optax.scale_by_param_block_rms)
    -> first moment, beta1 = 0.9                                   (optax.ema, no debiasing)
    -> + lr(step)^2 · param   weight decay at rate lr²             (add_lr_power_decay, below)
    -> negate

This is T5X's ``adafactor(factored=False, multiply_by_parameter_scale=True,
decay_rate=0.8, global_norm_clip_threshold=1.0, weight_decay_rate_lr_exponent=2)``.
``optax.adafactor`` has the same pieces but a fixed weight-decay rate, hence the
custom transform. Step numbers are optax's update counts (0 for the first update).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from train.config import OptimizerConfig


def lr_schedule(cfg: OptimizerConfig) -> Callable[[jax.Array], jax.Array]:
    """lr(step) = peak for step < constant_steps, then peak·sqrt(constant_steps / step)."""

    def schedule(step):
        step = jnp.asarray(step, jnp.float32)
        return cfg.peak_lr * jnp.sqrt(cfg.constant_steps / jnp.maximum(step, cfg.constant_steps))

    return schedule


def beta2(cfg: OptimizerConfig, step) -> jax.Array:
    """Second-moment decay at update ``step`` (0-based): 1 - (step+1)^-decay, as optax counts."""
    return 1.0 - jnp.asarray(step + 1, jnp.float32) ** (-cfg.beta2_decay)


def weight_decay_rate(cfg: OptimizerConfig, step) -> jax.Array:
    """Decoupled weight-decay rate at ``step``: lr(step)^exponent (PaLM: lr²); 0 if disabled."""
    if cfg.weight_decay_lr_exponent is None:
        return jnp.zeros((), jnp.float32)
    return lr_schedule(cfg)(step) ** cfg.weight_decay_lr_exponent


class LrPowerDecayState(NamedTuple):
    count: jax.Array


def add_lr_power_decay(schedule: Callable[[jax.Array], jax.Array], exponent: float) -> optax.GradientTransformation:
    """updates + schedule(count)^exponent · params: weight decay whose rate follows the lr."""

    def init(params):
        del params
        return LrPowerDecayState(jnp.zeros((), jnp.int32))

    def update(updates, state, params):
        if params is None:
            raise ValueError("add_lr_power_decay needs params")
        rate = schedule(state.count) ** exponent
        updates = jax.tree.map(lambda u, p: u + (rate * p).astype(u.dtype), updates, params)
        return updates, LrPowerDecayState(optax.safe_increment(state.count))

    return optax.GradientTransformation(init, update)


def build(cfg: OptimizerConfig) -> optax.GradientTransformation:
    """The optax chain above, from the config."""
    schedule = lr_schedule(cfg)
    parts = []
    if cfg.clip_norm is not None:
        parts.append(optax.clip_by_global_norm(cfg.clip_norm))
    parts.append(optax.scale_by_factored_rms(factored=False, decay_rate=cfg.beta2_decay, epsilon=cfg.epsilon))
    if cfg.update_clip is not None:
        parts.append(optax.clip_by_block_rms(cfg.update_clip))
    parts.append(optax.scale_by_learning_rate(schedule, flip_sign=False))
    parts.append(optax.scale_by_param_block_rms(min_scale=cfg.param_scale_min))
    parts.append(optax.ema(cfg.beta1, debias=False))
    if cfg.weight_decay_lr_exponent is not None:
        parts.append(add_lr_power_decay(schedule, cfg.weight_decay_lr_exponent))
    parts.append(optax.scale(-1.0))
    return optax.chain(*parts)
