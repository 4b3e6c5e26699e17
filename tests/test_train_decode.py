"""Decoding: cached greedy decoding equals decoding by full forward passes; sampling; scores."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from model import palm
from train.decode import BOS_ID, Decoder

CFG = palm.preset("palm_tiny", vocab_size=64)


def _decoder(seed=0):
    model = palm.create(CFG, seed=seed)
    return Decoder(CFG, nnx.state(model, nnx.Param)), model


def test_cached_greedy_equals_uncached_greedy():
    dec, model = _decoder()
    prompts = np.array([[5, 9, 3], [7, 7, 1]], np.int32)
    got = dec.generate(prompts, max_new_tokens=4)
    seq = jnp.concatenate([jnp.full((2, 1), BOS_ID), prompts], axis=1)
    forward = nnx.jit(lambda m, s: m(s))
    for _ in range(4):  # no cache: the whole sequence through the model each time
        nxt = jnp.argmax(forward(model, seq)[:, -1], axis=-1)
        seq = jnp.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(got, np.asarray(seq[:, 4:]))


def test_sampling_is_seeded_and_respects_limits():
    dec, _ = _decoder()
    prompts = np.array([[1, 2]], np.int32)
    a = dec.generate(prompts, 12, temperature=5.0, seed=3, vocab_limit=10)
    b = dec.generate(prompts, 12, temperature=5.0, seed=3, vocab_limit=10)
    c = dec.generate(prompts, 12, temperature=5.0, seed=4, vocab_limit=10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.max() < 10


def test_eos_stops_rows():
    dec, _ = _decoder()
    first = dec.generate(np.array([[4]], np.int32), 1)[0, 0]
    out = dec.generate(np.array([[4]], np.int32), 5, eos_id=int(first))
    np.testing.assert_array_equal(out[0], [first] * 5)


def test_log_probs_score_every_token_after_bos():
    dec, model = _decoder()
    tokens = np.array([[3, 1, 4, 1, 5]], np.int32)
    lp = dec.log_probs(tokens)
    assert lp.shape == (1, 5)
    full = jax.nn.log_softmax(nnx.jit(lambda m, s: m(s))(model, jnp.array([[BOS_ID, 3, 1, 4, 1]])), -1)
    np.testing.assert_allclose(lp[0], full[0, np.arange(5), tokens[0]], rtol=1e-5, atol=1e-5)
    assert dec.log_probs(tokens, prepend_bos=False).shape == (1, 4)
