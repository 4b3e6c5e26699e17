"""PaLM's optimizer recipe: schedules at chosen steps, and the chain against a numpy reference."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from train import optimizer
from train.config import OptimizerConfig

CFG = OptimizerConfig()


@pytest.mark.parametrize("step, lr", [(0, 1e-2), (5_000, 1e-2), (10_000, 1e-2), (40_000, 5e-3), (250_000, 2e-3)])
def test_lr_schedule_is_constant_then_inverse_sqrt(step, lr):
    assert float(optimizer.lr_schedule(CFG)(step)) == pytest.approx(lr, rel=1e-6)
    # The rsqrt part is 1/sqrt(k) exactly (PaLM's phrasing) with the paper's numbers.
    if step >= 10_000:
        assert lr == pytest.approx(1 / np.sqrt(step))


@pytest.mark.parametrize("step", [0, 1, 9, 999, 99_999])
def test_beta2_is_one_minus_k_to_the_minus_0_8(step):
    k = step + 1
    assert float(optimizer.beta2(CFG, step)) == pytest.approx(1 - k**-0.8, abs=1e-6)


def test_weight_decay_is_lr_squared():
    assert float(optimizer.weight_decay_rate(CFG, 0)) == pytest.approx(1e-4)
    assert float(optimizer.weight_decay_rate(CFG, 40_000)) == pytest.approx(2.5e-5)
    off = OptimizerConfig(weight_decay_lr_exponent=None)
    assert float(optimizer.weight_decay_rate(off, 0)) == 0.0


def _reference(params, grads_seq, cfg, start_step=0):
    """PaLM's update written out in numpy, step by step."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    m = {k: np.zeros_like(x) for k, x in p.items()}
    for i, g in enumerate(grads_seq):
        step = start_step + i
        gnorm = np.sqrt(sum(np.sum(x.astype(np.float64) ** 2) for x in g.values()))
        scale = min(1.0, cfg.clip_norm / gnorm)
        lr = cfg.peak_lr * np.sqrt(cfg.constant_steps / max(step, cfg.constant_steps))
        b2 = 1 - (step + 1) ** -cfg.beta2_decay
        for k in p:
            gk = g[k] * scale
            v[k] = b2 * v[k] + (1 - b2) * (gk**2 + cfg.epsilon)
            u = gk / np.sqrt(v[k])
            u = u * lr * max(cfg.param_scale_min, np.sqrt(np.mean(p[k] ** 2)))
            m[k] = cfg.beta1 * m[k] + (1 - cfg.beta1) * u
            p[k] = p[k] - m[k] - lr**2 * p[k]
    return p


def test_chain_matches_reference():
    cfg = OptimizerConfig(constant_steps=2)  # cross into the rsqrt part within 4 steps
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(4, 3)).astype(np.float32), "s": np.full((3,), 1e-4, np.float32)}
    grads_seq = [{k: rng.normal(size=x.shape).astype(np.float32) * 3 for k, x in params.items()} for _ in range(4)]
    tx = optimizer.build(cfg)
    state = tx.init({k: jnp.asarray(v) for k, v in params.items()})
    p = {k: jnp.asarray(v) for k, v in params.items()}
    for g in grads_seq:
        updates, state = tx.update({k: jnp.asarray(x) for k, x in g.items()}, state, p)
        p = optax.apply_updates(p, updates)
    want = _reference(params, grads_seq, cfg)
    for k in p:
        np.testing.assert_allclose(np.asarray(p[k]), want[k], rtol=2e-5, atol=1e-7)


def test_weight_decay_alone_shrinks_by_lr_squared():
    cfg = OptimizerConfig(peak_lr=0.1)
    tx = optimizer.add_lr_power_decay(optimizer.lr_schedule(cfg), 2.0)
    p = {"w": jnp.ones((2,))}
    u, _ = tx.update({"w": jnp.zeros((2,))}, tx.init(p), p)
    np.testing.assert_allclose(u["w"], 0.01)
