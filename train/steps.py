"""The train state, its shardings, and the jitted init and train-step functions.

The train state is a plain pytree::

    {"step": int32 (), "params": nnx.State of the model's Params, "opt": optax state}

``Steps`` builds everything from a model config, an optimizer config, a mesh
and the logical-axis rules. The step function is the same for one device and
for a mesh of many: only the shardings given to ``jax.jit`` change.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from model import palm
from train import optimizer as optim
from train import sharding
from train.config import OptimizerConfig


def loss_terms(logits: jax.Array, targets: jax.Array, z_loss: float) -> tuple[jax.Array, jax.Array]:
    """Mean cross-entropy and PaLM's z-loss (z_loss · mean log²Z) over all tokens."""
    logz = jax.nn.logsumexp(logits, axis=-1)  # (B, T)
    gold = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]  # (B, T)
    return jnp.mean(logz - gold), z_loss * jnp.mean(jnp.square(logz))


def _shard_like_params(tree: Any, params: nnx.State, param_sh: nnx.State, replicated: NamedSharding) -> Any:
    """Shardings for an optimizer state: subtrees shaped like the params follow the params."""
    p_def = jax.tree.structure(params)
    p_leaves, sh_leaves = jax.tree.leaves(params), jax.tree.leaves(param_sh)

    def visit(node):
        if hasattr(node, "shape") and hasattr(node, "dtype"):  # a lone array (counts, ...)
            return replicated
        if jax.tree.structure(node) == p_def:
            leaves = [s if n.shape == p.shape else replicated for n, p, s in zip(jax.tree.leaves(node), p_leaves, sh_leaves)]
            return jax.tree.unflatten(p_def, leaves)
        if isinstance(node, tuple) and hasattr(node, "_fields"):  # optax states are NamedTuples
            return type(node)(*(visit(c) for c in node))
        if isinstance(node, (tuple, list)):
            return type(node)(visit(c) for c in node)
        if isinstance(node, dict):
            return {k: visit(v) for k, v in node.items()}
        return jax.tree.map(lambda _: replicated, node)

    return visit(tree)


class Steps:
    """Init and train step for one model/optimizer on one mesh."""

    def __init__(
        self,
        model_cfg: palm.PalmConfig,
        opt_cfg: OptimizerConfig,
        mesh: Mesh,
        rules: Mapping[str, Sequence[str]],
        seed: int = 0,
        donate: bool = False,
    ):
        self.model_cfg, self.opt_cfg, self.mesh, self.rules, self.seed = model_cfg, opt_cfg, mesh, rules, seed
        self.tx = optim.build(opt_cfg)
        self.schedule = optim.lr_schedule(opt_cfg)
        abstract_model = palm.abstract(model_cfg)
        self.graphdef, abstract_params = nnx.split(abstract_model, nnx.Param)
        self.replicated = NamedSharding(mesh, PartitionSpec())
        param_sh = sharding.param_shardings(abstract_params, mesh, rules)
        abstract_opt = jax.eval_shape(self.tx.init, abstract_params)
        self.shardings = {
            "step": self.replicated,
            "params": param_sh,
            "opt": _shard_like_params(abstract_opt, abstract_params, param_sh, self.replicated),
        }
        abstract_state = {"step": jax.ShapeDtypeStruct((), jnp.int32), "params": abstract_params, "opt": abstract_opt}
        self.abstract_state = jax.tree.map(
            lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract_state, self.shardings
        )
        self._init = jax.jit(self._init_fn, out_shardings=self.shardings)
        self._steps: dict[int, Any] = {}
        self._donate = donate

    # -- init ---------------------------------------------------------------

    def _init_fn(self):
        model = palm.Palm(self.model_cfg, nnx.Rngs(params=self.seed))
        params = nnx.state(model, nnx.Param)
        return {"step": jnp.zeros((), jnp.int32), "params": params, "opt": self.tx.init(params)}

    def init(self) -> dict:
        """A fresh train state, created directly in its shardings."""
        return self._init()

    # -- the step -----------------------------------------------------------

    def _step_fn(self, state, inputs, targets):
        def loss_fn(params):
            model = nnx.merge(self.graphdef, params)
            ce, z = loss_terms(model(inputs), targets, self.opt_cfg.z_loss)
            return ce + z, (ce, z)

        (_, (ce, z)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
        updates, opt = self.tx.update(grads, state["opt"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        metrics = {
            "loss": ce,
            "z_loss": z,
            "grad_norm": optax.global_norm(grads),
            "lr": self.schedule(state["step"]),
        }
        return {"step": state["step"] + 1, "params": params, "opt": opt}, metrics

    def batch_sharding(self, batch_size: int) -> NamedSharding:
        return sharding.batch_sharding(self.mesh, self.rules, batch_size)

    def step(self, state: dict, inputs: jax.Array, targets: jax.Array) -> tuple[dict, dict]:
        """One optimizer update on a (B, T) batch; returns the new state and metrics."""
        b = inputs.shape[0]
        if b not in self._steps:  # one compiled step per batch size (the ramp changes it)
            bs = self.batch_sharding(b)
            self._steps[b] = jax.jit(
                self._step_fn,
                in_shardings=(self.shardings, bs, bs),
                out_shardings=(self.shardings, self.replicated),
                donate_argnums=(0,) if self._donate else (),
            )
        return self._steps[b](state, inputs, targets)

    def put_batch(self, rows, batch_size: int) -> jax.Array:
        """This process's rows of a (B, T) int batch as one global, sharded array."""
        return sharding.global_batch(rows, self.batch_sharding(batch_size), (batch_size,) + rows.shape[1:])

