"""Decoding and scoring with a trained model: greedy or sampled generation, log-probs.

Training inputs are the targets shifted right with id 0 in front (seqio's LM
convention), so by default a prompt is fed as ``[0] + prompt`` and scores are
log p(tokens[t] | 0, tokens[:t]) for every t, the first token included.

    >>> dec = Decoder.from_checkpoint(model_cfg, "runs/tiny/checkpoints")
    >>> dec.generate(np.array([[5, 6, 7]]), max_new_tokens=20)       # greedy, (1, 20)
    >>> dec.generate(prompts, 20, temperature=0.8, seed=1)            # sampled
    >>> dec.log_probs(tokens)                                         # (B, T) float32
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from model import palm
from train.checkpoint import Checkpoints

BOS_ID = 0


def restore_params(model_cfg: palm.PalmConfig, checkpoint_dir: str, step: int | None = None) -> tuple[nnx.State, int]:
    """The parameters of checkpoint ``step`` (default: latest) on the default device."""
    _, abstract = nnx.split(palm.abstract(model_cfg), nnx.Param)
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=device), abstract)
    return Checkpoints(checkpoint_dir, async_save=False).restore_params(abstract, step)


class Decoder:
    """Jitted prefill/step/score functions around one set of parameters."""

    def __init__(self, model_cfg: palm.PalmConfig, params: nnx.State):
        self.cfg = model_cfg
        self.graphdef, _ = nnx.split(palm.abstract(model_cfg), nnx.Param)
        self.params = params

    @classmethod
    def from_checkpoint(cls, model_cfg: palm.PalmConfig, checkpoint_dir: str, step: int | None = None) -> "Decoder":
        params, step = restore_params(model_cfg, checkpoint_dir, step)
        dec = cls(model_cfg, params)
        dec.step = step
        return dec

    @functools.partial(jax.jit, static_argnums=0)
    def _forward(self, params, tokens, cache, index):
        model = nnx.merge(self.graphdef, params)
        logits, cache = model(tokens, cache=cache, index=index)
        return logits[:, -1], cache

    @functools.partial(jax.jit, static_argnums=0)
    def _log_probs(self, params, tokens):
        return palm.token_log_probs(nnx.merge(self.graphdef, params), tokens)

    def __hash__(self) -> int:  # static self for jit: identity
        return id(self)

    def __eq__(self, other: Any) -> bool:
        return self is other

    def log_probs(self, tokens: np.ndarray, prepend_bos: bool = True) -> np.ndarray:
        """log p(tokens[:, t] | earlier tokens): (B, T) ints -> (B, T) float32 (B, T-1 without BOS)."""
        tokens = jnp.asarray(tokens, jnp.int32)
        if prepend_bos:
            tokens = jnp.concatenate([jnp.full((tokens.shape[0], 1), BOS_ID, jnp.int32), tokens], axis=1)
        return np.asarray(self._log_probs(self.params, tokens))

    def generate(
        self,
        prompts: np.ndarray,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
        eos_id: int | None = None,
        prepend_bos: bool = True,
        vocab_limit: int | None = None,
    ) -> np.ndarray:
        """Continues each prompt row (B, P) by ``max_new_tokens`` tokens: (B, N) int32.

        Greedy when ``temperature`` is 0, else sampled from softmax(logits / T).
        With ``eos_id``, rows that produced it are padded with it and decoding
        stops early once every row has. ``vocab_limit`` keeps ids below it (a
        model vocabulary padded past the tokenizer's pieces).
        """
        prompts = jnp.asarray(prompts, jnp.int32)
        if prepend_bos:
            prompts = jnp.concatenate([jnp.full((prompts.shape[0], 1), BOS_ID, jnp.int32), prompts], axis=1)
        b, p = prompts.shape
        cache = palm.init_cache(self.cfg, b, p + max_new_tokens)
        logits, cache = self._forward(self.params, prompts, cache, 0)  # prefill: (B, V)
        key = jax.random.key(seed)
        out = np.zeros((b, max_new_tokens), np.int32)
        done = np.zeros(b, bool)
        allowed = None if vocab_limit is None else jnp.arange(self.cfg.vocab_size) < vocab_limit
        for i in range(max_new_tokens):
            if allowed is not None:
                logits = jnp.where(allowed, logits, -jnp.inf)
            if temperature > 0:
                key, sub = jax.random.split(key)
                token = jax.random.categorical(sub, logits / temperature, axis=-1)
            else:
                token = jnp.argmax(logits, axis=-1)
            token = np.asarray(token, np.int32)
            if eos_id is not None:
                token = np.where(done, eos_id, token)
                done |= token == eos_id
            out[:, i] = token
            if eos_id is not None and done.all():
                out[:, i + 1 :] = eos_id
                break
            if i + 1 < max_new_tokens:
                logits, cache = self._forward(self.params, jnp.asarray(token)[:, None], cache, p + i)
        return out
