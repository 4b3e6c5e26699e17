"""The device mesh and the logical-axis rules that place parameters and batches on it.

Parameters carry ``logical_axes`` (see ``model.palm``); a rules table maps each
logical name to zero or more of the mesh axes ``('data', 'fsdp', 'tensor')``.
The same jitted step runs on one device or many: only the shardings differ.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping, Sequence

import jax
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from train.config import DistributedConfig, MeshConfig

log = logging.getLogger(__name__)

AXES = ("data", "fsdp", "tensor")


def initialize_distributed(cfg: DistributedConfig) -> None:
    """Multi-host start. Call before any other JAX use; no-op unless enabled."""
    if not cfg.enabled:
        return
    if cfg.coordinator_address is None:
        jax.distributed.initialize()  # auto-detected cluster (TPU pod, SLURM, ...)
    else:
        jax.distributed.initialize(
            coordinator_address=cfg.coordinator_address,
            num_processes=cfg.num_processes,
            process_id=cfg.process_id,
        )
    log.info("process %d of %d, %d local devices", jax.process_index(), jax.process_count(), jax.local_device_count())


def mesh_shape(cfg: MeshConfig, num_devices: int) -> tuple[int, int, int]:
    """(data, fsdp, tensor) with one -1 resolved; errors if it does not fit the devices."""
    sizes = [cfg.data, cfg.fsdp, cfg.tensor]
    if sizes.count(-1) > 1:
        raise ValueError("at most one mesh axis may be -1")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if num_devices % known:
            raise ValueError(f"{num_devices} devices do not divide into mesh {sizes}")
        sizes[sizes.index(-1)] = num_devices // known
    if math.prod(sizes) != num_devices:
        raise ValueError(f"mesh {dict(zip(AXES, sizes))} needs {math.prod(sizes)} devices, have {num_devices}")
    return tuple(sizes)  # type: ignore[return-value]


def make_mesh(cfg: MeshConfig, devices: Sequence[Any] | None = None) -> Mesh:
    devices = list(jax.devices() if devices is None else devices)
    shape = mesh_shape(cfg, len(devices))
    auto = (jax.sharding.AxisType.Auto,) * 3
    return jax.make_mesh(shape, AXES, axis_types=auto, devices=devices)


def spec(logical_axes: Sequence[str | None], rules: Mapping[str, Sequence[str]], shape=None, mesh=None) -> PartitionSpec:
    """PartitionSpec for a value with these logical axes.

    A dimension whose size does not divide by its mesh axes, or whose mesh axes
    are already used by an earlier dimension, is replicated instead.
    """
    used: set[str] = set()
    out = []
    for i, name in enumerate(logical_axes):
        if name is None:
            out.append(None)
            continue
        if name not in rules:
            raise KeyError(f"no sharding rule for logical axis '{name}'")
        axes = tuple(a for a in rules[name] if a not in used)
        if axes and shape is not None and mesh is not None:
            if shape[i] % math.prod(mesh.shape[a] for a in axes):
                axes = ()
        used.update(axes)
        out.append(None if not axes else axes[0] if len(axes) == 1 else axes)
    return PartitionSpec(*out)


def param_shardings(params: nnx.State, mesh: Mesh, rules: Mapping[str, Sequence[str]]) -> nnx.State:
    """NamedSharding for every parameter, from its ``logical_axes`` metadata."""

    def one(var):
        return var.replace(NamedSharding(mesh, spec(var.logical_axes, rules, var.shape, mesh)))

    return jax.tree.map(one, params, is_leaf=lambda x: isinstance(x, nnx.Variable))


def batch_sharding(mesh: Mesh, rules: Mapping[str, Sequence[str]], batch_size: int) -> NamedSharding:
    """(batch, length) token arrays: batch split over the rule's axes, length whole."""
    return NamedSharding(mesh, spec(("batch", None), rules, (batch_size, 1), mesh))


def global_batch(local_rows: np.ndarray, sharding: NamedSharding, global_shape: tuple[int, ...]) -> jax.Array:
    """A global array from this process's rows (all rows on a single host)."""
    if jax.process_count() == 1:
        return jax.device_put(local_rows, sharding)
    return jax.make_array_from_process_local_data(sharding, local_rows, global_shape)


def process_rows(batch_size: int) -> slice:
    """Which rows of a global batch this process reads."""
    n, i = jax.process_count(), jax.process_index()
    if batch_size % n:
        raise ValueError(f"batch size {batch_size} does not divide over {n} processes")
    per = batch_size // n
    return slice(i * per, (i + 1) * per)
