"""Batches are a pure function of (seed, position); the batch-size ramp; config loading."""

import numpy as np
import pytest

from mixtures.shards import ShardWriter
from palmkit.config import ConfigError, load_config
from train.config import DataConfig, TrainConfig, batch_size_at
from train.data import BatchSource


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    path = tmp_path_factory.mktemp("shards")
    rows = np.arange(10 * 6).reshape(10, 6)  # example i starts with 6·i
    with ShardWriter(str(path), seq_len=6, num_shards=3) as w:
        w.add(rows)
    return str(path)


def test_batch_is_a_pure_function_of_seed_and_position(shards):
    cfg = DataConfig(shards=shards, seed=3)
    a, b = BatchSource(shards, cfg), BatchSource(shards, cfg)
    b.batch(0, 7)  # reading other positions first changes nothing
    np.testing.assert_array_equal(a.batch(12, 4).targets, b.batch(12, 4).targets)
    other = BatchSource(shards, DataConfig(shards=shards, seed=4))
    assert not np.array_equal(a.example_ids(0, 10), other.example_ids(0, 10))


def test_each_epoch_visits_every_example_once_in_a_new_order(shards):
    src = BatchSource(shards, DataConfig(shards=shards, seed=0))
    e0, e1 = src.example_ids(0, 10), src.example_ids(10, 10)
    assert sorted(e0) == list(range(10)) and sorted(e1) == list(range(10))
    assert not np.array_equal(e0, e1)
    # A batch straddling the epoch boundary is the two orders glued.
    np.testing.assert_array_equal(src.example_ids(8, 4), np.concatenate([e0[8:], e1[:2]]))


def test_inputs_are_targets_shifted_right(shards):
    src = BatchSource(shards, DataConfig(shards=shards))
    batch = src.batch(0, 3)
    assert batch.targets.dtype == np.int32
    np.testing.assert_array_equal(batch.inputs[:, 0], 0)
    np.testing.assert_array_equal(batch.inputs[:, 1:], batch.targets[:, :-1])
    np.testing.assert_array_equal(batch.targets[:, 0] % 6, 0)
    rows = src.batch(0, 4, rows=slice(2, 4))  # one process's share of a global batch
    np.testing.assert_array_equal(rows.targets, src.batch(0, 4).targets[2:])


def test_batch_ramp():
    cfg = DataConfig(batch_size=512, batch_ramp=[[0, 512], [50_000, 1024], [115_000, 2048]])
    assert [batch_size_at(cfg, s) for s in (0, 49_999, 50_000, 114_999, 115_000, 10**6)] == [512, 512, 1024, 1024, 2048, 2048]
    assert batch_size_at(DataConfig(batch_size=8), 10**6) == 8


def test_train_config_loading(tmp_path):
    cfg = load_config(TrainConfig, None, ["model.preset=palm_cpu_s", "model.num_layers=2", "optimizer.peak_lr=0.003", "mesh.rules={embed: []}"])
    built = cfg.model.build()
    assert built.num_layers == 2 and built.d_model == 256
    assert cfg.optimizer.peak_lr == 0.003 and cfg.mesh.rules["embed"] == [] and cfg.mesh.rules["mlp"] == ["tensor"]
    with pytest.raises(ConfigError, match="optimizer.peak_lrr"):
        load_config(TrainConfig, None, ["optimizer.peak_lrr=1"])
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config(TrainConfig, None, ["model.preset=palm_9b"])
    with pytest.raises(ConfigError, match="batch_ramp"):
        load_config(TrainConfig, None, ["data.batch_ramp=[[0, 0]]"])
