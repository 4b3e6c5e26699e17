"""Batched inference for the audit: token log-probs and greedy continuations on the training mesh.

``AuditModel`` holds a checkpoint's parameters placed on a device mesh with the
trainer's logical-axis rules (``train.sharding``), and two jitted functions:

* ``log_probs(seqs)``: log p(token | BOS, earlier tokens) for every token of
  every sequence (ragged lists in, ragged arrays out);
* ``greedy(prompts, n)``: the greedy ``n``-token continuation of equal-length
  prompts, the whole decode loop (prefill, then ``n - 1`` cached steps) inside
  one ``jax.jit``.

Shapes are fixed so nothing recompiles mid-audit: every call is cut into
batches of exactly ``batch_size`` rows (the last one padded with copies of a
real row, whose outputs are dropped), and log-prob sequences are right-padded
to ``length_quantum``·2^k tokens (causal attention: padding after a
token cannot change its score). Batches are split over the mesh's batch axes,
so ``batch_size`` is rounded up to a multiple of their size.

Prompts and scored sequences get BOS (id 0) in front, the context a row's
first token has in training (inputs are targets shifted right with 0 in front;
see ``train.data``), as ``train.decode`` does.

The extraction metrics at the bottom compare greedy outputs with the true
continuations: exact match (all tokens) and the fraction of positions that match.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from model import palm
from train import sharding
from train.checkpoint import Checkpoints
from train.config import DEFAULT_RULES, MeshConfig

BOS_ID = 0


def make_mesh(mesh_cfg: MeshConfig | None = None):
    """The training run's mesh when it fits the devices here, else all devices on the data axis."""
    try:
        return sharding.make_mesh(mesh_cfg or MeshConfig())
    except ValueError:
        return sharding.make_mesh(MeshConfig())


def load_params(model_cfg: palm.PalmConfig, checkpoint_dir: str, mesh, rules: Mapping[str, Sequence[str]], step: int | None = None):
    """Checkpoint ``step``'s parameters (default: latest), restored straight into their mesh shardings."""
    _, abstract = nnx.split(palm.abstract(model_cfg), nnx.Param)
    shardings = sharding.param_shardings(abstract, mesh, rules)
    abstract = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract, shardings)
    return Checkpoints(checkpoint_dir, async_save=False).restore_params(abstract, step)


class AuditModel:
    """Jitted, fixed-shape scoring and greedy decoding for one set of parameters on one mesh."""

    def __init__(
        self,
        model_cfg: palm.PalmConfig,
        params: nnx.State,
        mesh=None,
        rules: Mapping[str, Sequence[str]] | None = None,
        batch_size: int = 64,
        length_quantum: int = 32,
        vocab_limit: int | None = None,
        progress: bool = True,
    ):
        self.cfg = model_cfg
        self.mesh = mesh if mesh is not None else make_mesh()
        self.rules = dict(rules or DEFAULT_RULES)
        self.graphdef, _ = nnx.split(palm.abstract(model_cfg), nnx.Param)
        self.params = jax.device_put(params, sharding.param_shardings(params, self.mesh, self.rules))
        shard_rows = math.prod(self.mesh.shape[a] for a in self.rules.get("batch", []) if a in self.mesh.shape)
        self.batch_size = -(-max(1, batch_size) // shard_rows) * shard_rows
        self.length_quantum = max(1, length_quantum)
        self.vocab_limit = vocab_limit
        self.progress = progress
        self._batch_sharding = sharding.batch_sharding(self.mesh, self.rules, self.batch_size)
        self._log_probs_fn = jax.jit(self._log_probs_impl)
        self._greedy_fns: dict[int, Any] = {}

    @classmethod
    def from_checkpoint(cls, model_cfg, checkpoint_dir, mesh_cfg: MeshConfig | None = None, step=None, **kw) -> "AuditModel":
        mesh_cfg = mesh_cfg or MeshConfig()
        mesh = make_mesh(mesh_cfg)
        params, step = load_params(model_cfg, checkpoint_dir, mesh, mesh_cfg.rules, step)
        model = cls(model_cfg, params, mesh, mesh_cfg.rules, **kw)
        model.step = step
        return model

    # -- jitted bodies ------------------------------------------------------

    def _log_probs_impl(self, params, tokens):  # (B, 1+L) with BOS -> (B, L)
        return palm.token_log_probs(nnx.merge(self.graphdef, params), tokens)

    def _greedy_impl(self, params, prompts, n_new: int):  # (B, 1+P) with BOS -> (B, n_new)
        model = nnx.merge(self.graphdef, params)
        b, p = prompts.shape
        allowed = None if self.vocab_limit is None else jnp.arange(self.cfg.vocab_size) < self.vocab_limit

        def pick(logits):  # (B, V) -> (B,)
            if allowed is not None:
                logits = jnp.where(allowed, logits, -jnp.inf)
            return jnp.argmax(logits, axis=-1).astype(jnp.int32)

        cache = palm.init_cache(self.cfg, b, p + n_new)
        logits, cache = model(prompts, cache=cache, index=0)
        out = jnp.zeros((b, n_new), jnp.int32).at[:, 0].set(pick(logits[:, -1]))

        def body(i, carry):
            out, cache = carry
            last = jax.lax.dynamic_slice_in_dim(out, i - 1, 1, axis=1)  # (B, 1)
            logits, cache = model(last, cache=cache, index=p + i - 1)
            return out.at[:, i].set(pick(logits[:, -1])), cache

        out, _ = jax.lax.fori_loop(1, n_new, body, (out, cache))
        return out

    # -- batching -----------------------------------------------------------

    def _batches(self, n: int, desc: str):
        starts = range(0, n, self.batch_size)
        if self.progress and n > self.batch_size:
            from tqdm import tqdm

            return tqdm(starts, desc=desc, unit="batch", leave=False, dynamic_ncols=True)
        return starts

    def _put(self, rows: np.ndarray) -> jax.Array:
        """(k <= batch_size, T) rows padded to batch_size with copies of row 0, BOS in front, on the mesh."""
        rows = np.asarray(rows, np.int32)
        if len(rows) < self.batch_size:
            rows = np.concatenate([rows, np.repeat(rows[:1], self.batch_size - len(rows), axis=0)])
        rows = np.concatenate([np.full((len(rows), 1), BOS_ID, np.int32), rows], axis=1)
        return jax.device_put(rows, self._batch_sharding)

    def padded_length(self, n: int) -> int:
        """``length_quantum`` · 2^k ≥ n: few distinct shapes (at most 2x padding) over any mix of lengths."""
        length = self.length_quantum
        while length < n:
            length *= 2
        return length

    def log_probs(self, seqs: Sequence[Sequence[int]], desc: str = "scoring") -> list[np.ndarray]:
        """Natural-log probability of each token of each sequence given BOS and the tokens before it."""
        seqs = [np.asarray(s, np.int32) for s in seqs]
        out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(seqs)
        # Group by padded length, so each group is one compiled shape.
        by_len: dict[int, list[int]] = {}
        for i, s in enumerate(seqs):
            if len(s):
                by_len.setdefault(self.padded_length(len(s)), []).append(i)
        for length, idx in sorted(by_len.items()):
            for start in self._batches(len(idx), f"{desc} (len {length})"):
                part = idx[start : start + self.batch_size]
                rows = np.zeros((len(part), length), np.int32)
                for r, i in enumerate(part):
                    rows[r, : len(seqs[i])] = seqs[i]
                lp = np.asarray(self._log_probs_fn(self.params, self._put(rows)))
                for r, i in enumerate(part):
                    out[i] = lp[r, : len(seqs[i])]
        return out

    def greedy(self, prompts: np.ndarray, n_new: int, desc: str = "decoding") -> np.ndarray:
        """Greedy ``n_new``-token continuations of equal-length prompts: (N, P) -> (N, n_new) int32."""
        prompts = np.asarray(prompts, np.int32)
        if prompts.ndim != 2:
            raise ValueError(f"prompts must be (N, P), got shape {prompts.shape}")
        out = np.zeros((len(prompts), n_new), np.int32)
        if len(prompts) == 0 or n_new <= 0:
            return out
        fn = self._greedy_fns.get(n_new)
        if fn is None:
            fn = self._greedy_fns[n_new] = jax.jit(lambda params, p: self._greedy_impl(params, p, n_new))
        for start in self._batches(len(prompts), desc):
            part = prompts[start : start + self.batch_size]
            out[start : start + len(part)] = np.asarray(fn(self.params, self._put(part)))[: len(part)]
        return out


# ---------------------------------------------------------------------------
# Extraction metrics
# ---------------------------------------------------------------------------


def match_stats(generated: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: exact match (bool) and matched-token fraction (positions equal / length)."""
    generated, truth = np.asarray(generated), np.asarray(truth)
    if generated.shape != truth.shape:
        raise ValueError(f"shapes differ: {generated.shape} vs {truth.shape}")
    equal = generated == truth
    return equal.all(axis=1), equal.mean(axis=1) if truth.shape[1] else np.ones(len(truth))


def longest_matched_prefix(generated: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per row: how many leading tokens match before the first difference."""
    equal = np.asarray(generated) == np.asarray(truth)
    first_bad = np.where(equal.all(axis=1), equal.shape[1], np.argmin(equal, axis=1))
    return first_bad.astype(np.int64)
