"""Mesh and logical-axis rules; the same step on 8 simulated devices equals one device."""

import os
import subprocess
import sys
import textwrap

import jax
import pytest
from jax.sharding import PartitionSpec as P

from train import sharding
from train.config import DEFAULT_RULES, MeshConfig


def test_mesh_shape_resolves_minus_one():
    assert sharding.mesh_shape(MeshConfig(data=-1, fsdp=2, tensor=2), 8) == (2, 2, 2)
    assert sharding.mesh_shape(MeshConfig(), 1) == (1, 1, 1)
    with pytest.raises(ValueError):
        sharding.mesh_shape(MeshConfig(data=3, fsdp=1, tensor=1), 8)
    with pytest.raises(ValueError):
        sharding.mesh_shape(MeshConfig(data=-1, fsdp=-1), 8)


def test_rules_table_maps_logical_axes():
    assert sharding.spec(("embed", "mlp"), DEFAULT_RULES) == P("fsdp", "tensor")
    assert sharding.spec(("batch", None), DEFAULT_RULES) == P(("data", "fsdp"), None)
    assert sharding.spec(("embed", "kv_head_dim"), DEFAULT_RULES) == P("fsdp", None)
    # A mesh axis is used once per array; a later dimension asking for it is replicated.
    assert sharding.spec(("mlp", "heads"), DEFAULT_RULES) == P("tensor", None)
    with pytest.raises(KeyError, match="nonesuch"):
        sharding.spec(("nonesuch",), DEFAULT_RULES)


SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np
    from jax.sharding import PartitionSpec as P
    from model import palm
    from train import sharding
    from train.config import MeshConfig, OptimizerConfig, DEFAULT_RULES
    from train.steps import Steps

    assert jax.device_count() == 8, jax.devices()
    cfg = palm.preset("palm_tiny")
    opt = OptimizerConfig(peak_lr=1e-2)
    one = Steps(cfg, opt, sharding.make_mesh(MeshConfig(), devices=jax.devices()[:1]), DEFAULT_RULES)
    many = Steps(cfg, opt, sharding.make_mesh(MeshConfig(data=2, fsdp=2, tensor=2)), DEFAULT_RULES)
    s1, s8 = one.init(), many.init()
    q = s8["params"]["blocks"][0]["attn"]["q"]
    assert q.sharding.spec == P("fsdp", "tensor", None), q.sharding.spec
    assert len(q.addressable_shards) == 8 and q.addressable_shards[0].data.shape == (32, 2, 16)
    mu = s8["opt"][4].ema["blocks"][0]["mlp"]["gate"]
    assert mu.sharding.spec == P("fsdp", "tensor"), mu.sharding.spec
    for a, b in zip(jax.tree.leaves(s1["params"]), jax.tree.leaves(s8["params"])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # init does not depend on the mesh
    rng = np.random.default_rng(0)
    for i in range(3):
        tokens = rng.integers(0, cfg.vocab_size, size=(8, 32)).astype(np.int32)
        inputs, targets = tokens, np.roll(tokens, -1, axis=1)
        s1, m1 = one.step(s1, one.put_batch(inputs, 8), one.put_batch(targets, 8))
        s8, m8 = many.step(s8, many.put_batch(inputs, 8), many.put_batch(targets, 8))
        np.testing.assert_allclose(float(m1["loss"]), float(m8["loss"]), rtol=1e-5)
        np.testing.assert_allclose(float(m1["grad_norm"]), float(m8["grad_norm"]), rtol=1e-4)
    for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s8)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    print("SHARDED_OK", float(m1["loss"]), float(m8["loss"]))
    """
)


def test_sharded_step_equals_single_device(repo_root):
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["JAX_COMPILATION_CACHE_DIR"] = os.path.join(os.environ.get("TMPDIR", "/tmp"), "palmkit-test-jax-cache")
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.5"
    env["PYTHONPATH"] = str(repo_root) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "SHARDED_OK" in proc.stdout
