"""The PaLM model: each architectural choice of §2 has a test that fails without it."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from model import palm

TINY = palm.preset("palm_tiny")


def _params(model):
    """{dotted path: Param} of a model."""
    out = {}
    for path, var in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        out[".".join(str(p) for p in path)] = var
    return out


@pytest.fixture(scope="module")
def model():
    return palm.create(TINY, seed=0)


@pytest.mark.parametrize(
    "name, billions",
    [("palm_8b", 8.63), ("palm_62b", 62.50), pytest.param("palm_540b", 540.35, marks=pytest.mark.slow)],  # 540B: ~10 s to trace
)
def test_table1_parameter_counts(name, billions):
    cfg = palm.PRESETS[name]
    params = _params(palm.abstract(cfg))  # ShapeDtypeStructs: no memory
    total = sum(math.prod(v.shape) for v in params.values())
    norms = sum(math.prod(v.shape) for v in params.values() if v.logical_axes == ("norm",))
    assert total == palm.param_count(cfg)
    assert round((total - norms) / 1e9, 2) == billions  # Table 1 counts leave out LayerNorm scales
    assert cfg.head_dim == 256 and cfg.d_ff == 4 * cfg.d_model


def test_every_param_has_logical_axes_and_there_are_no_biases(model):
    params = _params(model)
    for name, var in params.items():
        assert len(var.logical_axes) == var.ndim, name
        assert "bias" not in name, name
    # The closed form has no room for biases: any extra vector would break equality.
    assert sum(v.size for v in params.values()) == palm.param_count(TINY)
    norm_params = [n for n in params if "norm" in n]
    assert all(n.endswith("scale") for n in norm_params)


def test_multi_query_one_kv_head(model):
    attn = model.blocks[0].attn
    d, h, k = TINY.d_model, TINY.num_heads, TINY.head_dim
    assert attn.q.shape == (d, h, k)
    assert attn.k.shape == (d, k) and attn.v.shape == (d, k)  # one shared K/V head
    assert attn.o.shape == (h, k, d)


def test_swiglu_mlp(model):
    mlp = model.blocks[0].mlp
    assert mlp.gate.shape == (TINY.d_model, 4 * TINY.d_model) and mlp.down.shape == (4 * TINY.d_model, TINY.d_model)
    x = jax.random.normal(jax.random.key(1), (2, 3, TINY.d_model))
    want = (jax.nn.silu(x @ mlp.gate[...]) * (x @ mlp.up[...])) @ mlp.down[...]
    np.testing.assert_allclose(mlp(x), want, rtol=1e-5, atol=1e-5)


def test_parallel_block(model):
    block = model.blocks[0]
    x = jax.random.normal(jax.random.key(2), (2, 5, TINY.d_model))
    pos = jnp.broadcast_to(jnp.arange(5), (2, 5))
    y, _ = block(x, pos)
    h = block.norm(x)
    attn, _ = block.attn(h, pos)
    np.testing.assert_allclose(y, x + block.mlp(h) + attn, rtol=1e-5, atol=1e-5)
    serial = x + attn
    serial = serial + block.mlp(block.norm(serial))
    assert not np.allclose(y, serial, atol=1e-3)


def test_fused_input_projection_equals_separate(model):
    unfused = palm.Palm(palm.preset("palm_tiny", fuse_inputs=False), nnx.Rngs(params=0))
    nnx.update(unfused, nnx.state(model, nnx.Param))
    tokens = jnp.array([[3, 1, 4, 1, 5, 9, 2, 6]])
    np.testing.assert_allclose(unfused(tokens), model(tokens), rtol=1e-4, atol=1e-4)


def test_layernorm_has_scale_and_centres(model):
    norm = model.final_norm
    x = jax.random.normal(jax.random.key(3), (1, 2, TINY.d_model)) * 3 + 5
    y = norm(x)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-4)  # LayerNorm, not RMSNorm
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-3)


def test_logits_are_shared_embedding_over_sqrt_d(model):
    tokens = jnp.array([[1, 2, 3, 4]])
    h, _ = model.hidden(tokens)
    want = h @ model.embed[...].T / math.sqrt(TINY.d_model)
    np.testing.assert_allclose(model(tokens), want, rtol=1e-5, atol=1e-5)
    # Input embedding is the same table.
    assert "embed" in _params(model) and not any("unembed" in n or "lm_head" in n for n in _params(model))


def test_initialisation_scales():
    cfg = palm.preset("palm_tiny", d_model=256, vocab_size=2048)
    m = palm.create(cfg, seed=0)
    np.testing.assert_allclose(np.std(m.embed[...]), 1.0, rtol=0.02)  # N(0, 1)
    np.testing.assert_allclose(np.std(m.blocks[0].mlp.gate[...]), 1 / math.sqrt(256), rtol=0.02)
    np.testing.assert_allclose(np.std(m.blocks[0].mlp.down[...]), 1 / math.sqrt(1024), rtol=0.02)
    np.testing.assert_allclose(np.std(m.blocks[0].attn.o[...]), 1 / math.sqrt(cfg.num_heads * cfg.head_dim), rtol=0.05)


def test_rope_depends_on_relative_position_only():
    q = jax.random.normal(jax.random.key(4), (1, 1, 32))
    k = jax.random.normal(jax.random.key(5), (1, 1, 32))

    def score(m, n):
        return float(jnp.sum(palm.rope(q, jnp.array([[m]]), 1e4) * palm.rope(k, jnp.array([[n]]), 1e4)))

    assert score(7, 3) == pytest.approx(score(104, 100), rel=1e-4, abs=1e-4)
    assert score(7, 3) != pytest.approx(score(7, 5), rel=1e-3)
    # It rotates: norms are kept, position 0 is the identity.
    np.testing.assert_allclose(palm.rope(q, jnp.array([[0]]), 1e4), q, atol=1e-6)


def test_attention_uses_rope_and_is_causal(model):
    tokens = jnp.array([[5, 6, 7, 8, 9, 10]])
    full = model(tokens)
    np.testing.assert_allclose(model(tokens[:, :3]), full[:, :3], rtol=1e-5, atol=1e-5)  # causal
    # Same tokens at shifted absolute positions: relative positions equal -> same logits.
    shifted = model(tokens, positions=jnp.arange(6)[None] + 50)
    np.testing.assert_allclose(shifted, full, rtol=1e-4, atol=1e-4)
    # Order matters (RoPE gives position information to a model with no other).
    swapped = model(jnp.array([[6, 5, 7, 8, 9, 10]]))
    assert not np.allclose(swapped[:, 2:], full[:, 2:], atol=1e-4)


def test_decoding_with_cache_equals_full_forward(model):
    tokens = jax.random.randint(jax.random.key(6), (2, 9), 0, TINY.vocab_size)
    full = model(tokens)
    cache = palm.init_cache(TINY, batch=2, max_len=16)
    logits, cache = model(tokens[:, :4], cache=cache, index=0)  # prefill
    steps = [logits]
    for i in range(4, 9):
        logits, cache = model(tokens[:, i : i + 1], cache=cache, index=i)
        steps.append(logits)
    np.testing.assert_allclose(jnp.concatenate(steps, axis=1), full, rtol=1e-4, atol=1e-4)


def test_out_of_vocab_token_gives_nan(model):
    assert np.isnan(model(jnp.array([[1, TINY.vocab_size]]))).any()


def test_token_log_probs(model):
    tokens = jnp.array([[3, 1, 4, 1, 5]])
    lp = palm.token_log_probs(model, tokens)
    want = jax.nn.log_softmax(model(tokens), -1)[0, jnp.arange(4), tokens[0, 1:]]
    np.testing.assert_allclose(lp[0], want, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_bfloat16_and_remat_run():
    cfg = palm.preset("palm_tiny", dtype="bfloat16", remat=True)
    m = palm.create(cfg)
    g = nnx.grad(lambda m: m(jnp.array([[1, 2, 3]])).mean())(m)
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(g))


def test_unknown_preset():
    with pytest.raises(KeyError, match="palm_9b"):
        palm.preset("palm_9b")
