"""PaLM (Chowdhery et al. 2022, §2) in Flax NNX: one file, top to bottom.

Every architectural choice of the paper:

* SwiGLU MLP, d_ff = 4·d_model: ``(swish(x·Wg) * (x·Wu))·Wd``.
* Parallel block: ``y = x + MLP(LN(x)) + Attention(LN(x))``, one LayerNorm per block.
* Multi-query attention: H query heads, ONE shared key/value head (head size 256 in
  the paper's presets).
* RoPE on queries and keys.
* Shared input/output embedding; logits = h·Eᵀ / √d_model.
* No biases anywhere; LayerNorm has a scale and no bias (it is not RMSNorm).
* Init: kernels N(0, 1/fan_in); embeddings N(0, 1).

Shape letters used in comments:

    B batch   T query length   S key length (= T, or the cache length)
    D d_model H query heads    K head size      F d_ff = 4·D      V vocabulary

Every parameter is an ``nnx.Param`` carrying ``logical_axes`` (one name per
dimension). ``train.sharding`` maps those names onto mesh axes with a rules
table from the config; nothing here knows about devices.

Decoding uses an explicit key/value cache (a pytree made by ``init_cache``) that
``Palm.__call__`` takes and returns, so it passes through ``jax.jit`` unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx


# ---------------------------------------------------------------------------
# Configuration and presets (Table 1)
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PalmConfig:
    vocab_size: int = 256_000
    d_model: int = 4096
    num_layers: int = 32
    num_heads: int = 16
    head_dim: int = 256
    ff_mult: int = 4  # d_ff = ff_mult · d_model
    rope_base: float = 10_000.0
    ln_eps: float = 1e-6
    dtype: str = "float32"  # activations and matmuls ("bfloat16" on TPU/GPU)
    param_dtype: str = "float32"
    remat: bool = False  # recompute each block in the backward pass (saves memory)
    fuse_inputs: bool = True  # one matmul for q, k, v, gate, up (turn off with tensor parallelism)

    @property
    def d_ff(self) -> int:
        return self.ff_mult * self.d_model


#              layers heads d_model head  vocab     (Table 1 params / batch)
PRESETS: dict[str, PalmConfig] = {
    "palm_8b":   PalmConfig(256_000, 4096, 32, 16, 256),     # 8.63B,   256→512
    "palm_62b":  PalmConfig(256_000, 8192, 64, 32, 256),     # 62.50B,  512→1024
    "palm_540b": PalmConfig(256_000, 18432, 118, 48, 256),   # 540.35B, 512→1024→2048
    # Small presets with the same architecture, for CPUs and tests.
    "palm_tiny": PalmConfig(512, 64, 2, 4, 16),              # 0.15M, trains in seconds
    "palm_cpu_s": PalmConfig(8192, 256, 4, 4, 64),           # 5.9M
    "palm_cpu_m": PalmConfig(16384, 512, 6, 8, 64),          # 30.8M
}


def preset(name: str, **overrides: Any) -> PalmConfig:
    """The preset ``name`` with some fields replaced, e.g. ``preset("palm_tiny", vocab_size=1000)``."""
    if name not in PRESETS:
        raise KeyError(f"unknown model preset '{name}' (known: {', '.join(PRESETS)})")
    return dataclasses.replace(PRESETS[name], **overrides)


def param_count(cfg: PalmConfig) -> int:
    """Exact parameter count, in closed form, LayerNorm scales included.

    Table 1's figures leave out the (L+1)·D LayerNorm scales: 540.35B is
    ``param_count(cfg) - (L+1)·D`` rounded; with them it is 540.356B.
    """
    d, k, h = cfg.d_model, cfg.head_dim, cfg.num_heads
    per_layer = 2 * d * h * k + 2 * d * k + 3 * d * cfg.d_ff + d
    return cfg.num_layers * per_layer + cfg.vocab_size * d + d


def flops_per_token(cfg: PalmConfig, seq_len: int, n_params: int | None = None) -> float:
    """PaLM's model FLOPs per trained token (App. B): 6N + 12·L·H·Q·T."""
    n = param_count(cfg) if n_params is None else n_params
    return 6.0 * n + 12.0 * cfg.num_layers * cfg.num_heads * cfg.head_dim * seq_len


# ---------------------------------------------------------------------------
# Initialisers
# ---------------------------------------------------------------------------


def _fan_in_normal(rngs: nnx.Rngs, shape: tuple[int, ...], fan_in: int, dtype: Any) -> jax.Array:
    """N(0, 1/fan_in): variance scaling by fan-in, untruncated."""
    return jax.random.normal(rngs.params(), shape, dtype) / math.sqrt(fan_in)


def _param(value: jax.Array, *axes: str | None) -> nnx.Param:
    assert value.ndim == len(axes), (value.shape, axes)
    return nnx.Param(value, logical_axes=tuple(axes))


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


class LayerNorm(nnx.Module):
    """LayerNorm with a learned scale and no bias (PaLM §2)."""

    def __init__(self, cfg: PalmConfig):
        self.eps = cfg.ln_eps
        self.scale = _param(jnp.ones((cfg.d_model,), cfg.param_dtype), "norm")  # (D,)

    def __call__(self, x: jax.Array) -> jax.Array:  # (B, T, D) -> (B, T, D)
        x32 = x.astype(jnp.float32)
        mean = x32.mean(-1, keepdims=True)
        var = jnp.square(x32 - mean).mean(-1, keepdims=True)
        y = (x32 - mean) * jax.lax.rsqrt(var + self.eps) * self.scale[...].astype(jnp.float32)
        return y.astype(x.dtype)


def rope(x: jax.Array, positions: jax.Array, base: float) -> jax.Array:
    """Rotary position embedding over the last axis (rotate-half form).

    x: (B, T, ..., K) with K even; positions: (B, T). The dot product of a rotated
    query at position m and a rotated key at n depends on m - n only.
    """
    k = x.shape[-1]
    inv_freq = 1.0 / (base ** (jnp.arange(0, k, 2, dtype=jnp.float32) / k))  # (K/2,)
    angles = positions.astype(jnp.float32)[..., None] * inv_freq  # (B, T, K/2)
    angles = angles.reshape(angles.shape[:2] + (1,) * (x.ndim - 3) + angles.shape[-1:])
    sin, cos = jnp.sin(angles), jnp.cos(angles)
    x1, x2 = jnp.split(x.astype(jnp.float32), 2, axis=-1)
    out = jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
    return out.astype(x.dtype)


class LayerCache(NamedTuple):
    """One layer's keys and values for decoding: (B, S_max, K) each (one head: MQA)."""

    k: jax.Array
    v: jax.Array


class MultiQueryAttention(nnx.Module):
    """H query heads, one key/value head shared by all of them; causal; RoPE."""

    def __init__(self, cfg: PalmConfig, rngs: nnx.Rngs):
        d, h, k, pd = cfg.d_model, cfg.num_heads, cfg.head_dim, cfg.param_dtype
        self.cfg = cfg
        self.q = _param(_fan_in_normal(rngs, (d, h, k), d, pd), "embed", "heads", "head_dim")  # (D, H, K)
        self.k = _param(_fan_in_normal(rngs, (d, k), d, pd), "embed", "kv_head_dim")  # (D, K)
        self.v = _param(_fan_in_normal(rngs, (d, k), d, pd), "embed", "kv_head_dim")  # (D, K)
        self.o = _param(_fan_in_normal(rngs, (h, k, d), h * k, pd), "heads", "head_dim", "embed")  # (H, K, D)

    def project(self, x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        dt = x.dtype
        q = jnp.einsum("btd,dhk->bthk", x, self.q[...].astype(dt))  # (B, T, H, K)
        k = jnp.einsum("btd,dk->btk", x, self.k[...].astype(dt))  # (B, T, K)
        v = jnp.einsum("btd,dk->btk", x, self.v[...].astype(dt))  # (B, T, K)
        return q, k, v

    def __call__(
        self, x: jax.Array, positions: jax.Array, cache: LayerCache | None = None, index: jax.Array | None = None
    ) -> tuple[jax.Array, LayerCache | None]:
        return self.attend(*self.project(x), positions, cache, index)

    def attend(self, q, k, v, positions, cache=None, index=None) -> tuple[jax.Array, LayerCache | None]:
        """Attention from projected q (B, T, H, K), k and v (B, T, K) to the output (B, T, D)."""
        dt = q.dtype
        q = rope(q, positions, self.cfg.rope_base)
        k = rope(k, positions, self.cfg.rope_base)
        if cache is not None:  # write this chunk at [index, index+T), attend over the cache
            k = jax.lax.dynamic_update_slice_in_dim(cache.k, k.astype(cache.k.dtype), index, axis=1)  # (B, S, K)
            v = jax.lax.dynamic_update_slice_in_dim(cache.v, v.astype(cache.v.dtype), index, axis=1)
            cache = LayerCache(k, v)
            key_pos = jnp.arange(k.shape[1])[None, :]  # (1, S)
        else:
            key_pos = positions  # (B, S=T)
        # With one K/V head, the H query heads are just more rows: (T·H, K) @ (K, S)
        # per sequence, in (B, T, H, S) order so that nothing gets transposed.
        q = q * jnp.asarray(1.0 / math.sqrt(self.cfg.head_dim), dt)  # scale (B,T,H,K), not the scores
        scores = jnp.einsum("bthk,bsk->bths", q, k.astype(dt)).astype(jnp.float32)  # (B, T, H, S)
        causal = key_pos[:, None, None, :] <= positions[:, :, None, None]  # (B, T, 1, S)
        scores = jnp.where(causal, scores, jnp.finfo(jnp.float32).min)
        probs = jax.nn.softmax(scores, axis=-1).astype(dt)
        out = jnp.einsum("bths,bsk->bthk", probs, v.astype(dt))  # (B, T, H, K)
        return jnp.einsum("bthk,hkd->btd", out, self.o[...].astype(dt)), cache  # (B, T, D)


class SwiGLU(nnx.Module):
    """(swish(x·Wg) ⊙ (x·Wu))·Wd with d_ff = 4·d_model."""

    def __init__(self, cfg: PalmConfig, rngs: nnx.Rngs):
        d, f, pd = cfg.d_model, cfg.d_ff, cfg.param_dtype
        self.gate = _param(_fan_in_normal(rngs, (d, f), d, pd), "embed", "mlp")  # (D, F)
        self.up = _param(_fan_in_normal(rngs, (d, f), d, pd), "embed", "mlp")  # (D, F)
        self.down = _param(_fan_in_normal(rngs, (f, d), f, pd), "mlp", "embed")  # (F, D)

    def __call__(self, x: jax.Array) -> jax.Array:  # (B, T, D) -> (B, T, D)
        dt = x.dtype
        g = x @ self.gate[...].astype(dt)  # (B, T, F)
        u = x @ self.up[...].astype(dt)  # (B, T, F)
        return self.combine(g, u)

    def combine(self, g: jax.Array, u: jax.Array) -> jax.Array:  # (B, T, F) x 2 -> (B, T, D)
        return (jax.nn.silu(g) * u) @ self.down[...].astype(g.dtype)


class ParallelBlock(nnx.Module):
    """y = x + MLP(LN(x)) + Attention(LN(x)): both branches read the same normed input.

    Because they do, the five input projections (q, k, v, gate, up) can run as
    one matmul against the concatenated kernels (PaLM §2); ``fuse_inputs``
    does that. The parameters stay separate, each with its own logical axes.
    """

    def __init__(self, cfg: PalmConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        self.norm = LayerNorm(cfg)
        self.attn = MultiQueryAttention(cfg, rngs)
        self.mlp = SwiGLU(cfg, rngs)

    def __call__(self, x, positions, cache=None, index=None):  # (B, T, D) -> (B, T, D)
        h = self.norm(x)
        if not self.cfg.fuse_inputs:
            a, cache = self.attn(h, positions, cache, index)
            return x + self.mlp(h) + a, cache
        c, dt = self.cfg, h.dtype
        hk, f = c.num_heads * c.head_dim, c.d_ff
        kernels = [self.attn.q[...].reshape(c.d_model, hk), self.attn.k[...], self.attn.v[...], self.mlp.gate[...], self.mlp.up[...]]
        fused = h @ jnp.concatenate(kernels, axis=1).astype(dt)  # (B, T, H·K + 2K + 2F)
        q, k, v, g, u = jnp.split(fused, [hk, hk + c.head_dim, hk + 2 * c.head_dim, hk + 2 * c.head_dim + f], axis=-1)
        q = q.reshape(q.shape[:2] + (c.num_heads, c.head_dim))  # (B, T, H, K)
        a, cache = self.attn.attend(q, k, v, positions, cache, index)
        return x + self.mlp.combine(g, u) + a, cache


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


class Palm(nnx.Module):
    """The decoder-only PaLM language model.

    ``model(tokens)`` -> logits (B, T, V). For decoding,
    ``model(tokens, cache=cache, index=i)`` -> (logits, cache): ``tokens`` sit at
    positions i..i+T-1 and the cache (from ``init_cache``) holds all earlier ones.
    """

    def __init__(self, cfg: PalmConfig, rngs: nnx.Rngs):
        self.cfg = cfg
        # N(0, 1): no LayerNorm follows the embedding lookup.
        emb = jax.random.normal(rngs.params(), (cfg.vocab_size, cfg.d_model), cfg.param_dtype)
        self.embed = _param(emb, "vocab", "embed")  # (V, D)
        self.blocks = nnx.List([ParallelBlock(cfg, rngs) for _ in range(cfg.num_layers)])
        self.final_norm = LayerNorm(cfg)

    def hidden(self, tokens, positions=None, cache=None, index=None):
        """Final normed hidden states (B, T, D), and the updated cache."""
        dt = jnp.dtype(self.cfg.dtype)
        b, t = tokens.shape
        if positions is None:
            start = 0 if index is None else index
            positions = jnp.broadcast_to(start + jnp.arange(t)[None, :], (b, t))  # (B, T)
        # Out-of-range ids (corrupt data) give NaN rather than a silently clamped row.
        x = jnp.take(self.embed[...], tokens, axis=0, mode="fill", fill_value=jnp.nan).astype(dt)  # (B, T, D)
        new_cache = []
        for i, block in enumerate(self.blocks):
            layer_cache = None if cache is None else cache[i]
            if self.cfg.remat and cache is None:
                x, _ = nnx.remat(lambda blk, y, p: blk(y, p))(block, x, positions)
            else:
                x, layer_cache = block(x, positions, layer_cache, index)
            new_cache.append(layer_cache)
        return self.final_norm(x), (None if cache is None else new_cache)

    def logits(self, h: jax.Array) -> jax.Array:
        """Shared output embedding: (B, T, D) -> (B, T, V) = h·Eᵀ / √D, in float32."""
        emb = self.embed[...].astype(h.dtype)
        h = h * jnp.asarray(1.0 / math.sqrt(self.cfg.d_model), h.dtype)  # scale (B,T,D) rather than (B,T,V)
        return jnp.einsum("btd,vd->btv", h, emb).astype(jnp.float32)

    def __call__(self, tokens, positions=None, cache=None, index=None):
        h, cache = self.hidden(tokens, positions, cache, index)
        logits = self.logits(h)
        return logits if cache is None else (logits, cache)


def init_cache(cfg: PalmConfig, batch: int, max_len: int) -> list[LayerCache]:
    """An empty key/value cache: per layer, (B, max_len, K) keys and values."""
    shape = (batch, max_len, cfg.head_dim)
    dt = jnp.dtype(cfg.dtype)
    return [LayerCache(jnp.zeros(shape, dt), jnp.zeros(shape, dt)) for _ in range(cfg.num_layers)]


def create(cfg: PalmConfig, seed: int = 0) -> Palm:
    """A freshly initialised model."""
    return Palm(cfg, nnx.Rngs(params=seed))


def abstract(cfg: PalmConfig) -> Palm:
    """The model with ShapeDtypeStructs instead of arrays: shapes without memory."""
    return nnx.eval_shape(lambda: Palm(cfg, nnx.Rngs(params=0)))


def token_log_probs(model: Palm, tokens: jax.Array) -> jax.Array:
    """log p(tokens[:, t] | tokens[:, :t]) for t >= 1: (B, T) ints -> (B, T-1) float32."""
    logits = model(tokens[:, :-1])
    logp = jax.nn.log_softmax(logits, axis=-1)
    return jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1)[..., 0]
