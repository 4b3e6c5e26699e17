"""Training batches as a pure function of (seed, position).

The trainer's input position is the number of examples consumed so far. The
examples are visited epoch by epoch in an order fixed by ``(seed, epoch)``, so
the batch at any position is computed directly: a resumed run sees exactly the
batches an uninterrupted one would, without replaying data, and skipping
batches after a loss spike is just moving the position forward.

Inputs follow seqio's LM convention: targets are the stored ``seq_len`` tokens;
inputs are the targets shifted right by one with id 0 in front.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mixtures.shards import ShardSet
from train.config import DataConfig, batch_size_at


class Batch(NamedTuple):
    inputs: np.ndarray  # int32 (B, T)
    targets: np.ndarray  # int32 (B, T)


class BatchSource:
    """Reads batches of token examples from a shard set by position."""

    def __init__(self, shards: ShardSet | str, cfg: DataConfig):
        self.shards = ShardSet(shards) if isinstance(shards, str) else shards
        self.cfg = cfg
        self.num_examples = self.shards.num_examples
        if self.num_examples == 0:
            raise ValueError(f"no examples in {self.shards.directory}")
        self._perm_epoch = -1
        self._perm = np.zeros(0, np.int64)

    @property
    def seq_len(self) -> int:
        return self.shards.seq_len

    def batch_size(self, step: int) -> int:
        return batch_size_at(self.cfg, step)

    def _order(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            rng = np.random.Generator(np.random.PCG64([self.cfg.seed, epoch]))
            self._perm, self._perm_epoch = rng.permutation(self.num_examples), epoch
        return self._perm

    def example_ids(self, position: int, count: int) -> np.ndarray:
        """Dataset indices of the examples at positions [position, position+count)."""
        out = np.empty(count, np.int64)
        for k, pos in enumerate(range(position, position + count)):
            epoch, i = divmod(pos, self.num_examples)
            out[k] = self._order(epoch)[i]
        return out

    def batch(self, position: int, batch_size: int, rows: slice | None = None) -> Batch:
        """The batch of ``batch_size`` examples starting at ``position`` (optionally only some rows)."""
        ids = self.example_ids(position, batch_size)
        if rows is not None:
            ids = ids[rows]
        targets = self.shards.read(ids)
        inputs = np.zeros_like(targets)
        inputs[:, 1:] = targets[:, :-1]
        return Batch(inputs, targets)
