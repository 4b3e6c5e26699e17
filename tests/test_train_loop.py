"""The train loop on palm_tiny: kill-and-resume, corrupt checkpoints, loss-spike rollback."""

import json
import os
import shutil
import warnings

import jax
import numpy as np
import pytest
from flax import nnx

from mixtures.shards import ShardWriter
from palmkit.config import load_config
from train import loop
from train.checkpoint import Checkpoints
from train.config import TrainConfig

SEQ, VOCAB = 16, 512

# Runs here rebuild the same programs many times; XLA's CPU compile dominates without a cache.
jax.config.update("jax_compilation_cache_dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "palmkit-test-jax-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def make_shards(path, n=48, bad_rows=()):
    rng = np.random.default_rng(0)
    rows = np.tile(rng.integers(1, VOCAB, size=(1, SEQ)), (n, 1))
    rows = (rows + rng.integers(0, 3, size=(n, 1))) % VOCAB  # learnable, a little varied
    for r in bad_rows:
        rows[r, 3] = VOCAB + 7  # an id outside the vocabulary: NaN loss
    with ShardWriter(str(path), seq_len=SEQ, num_shards=2, vocab={"size": VOCAB}) as w:
        w.add(rows)
    return str(path)


def config(tmp_path, shards, **over):
    base = {
        "output_dir": str(tmp_path / "run"),
        "steps": 6,
        "model": {"preset": "palm_tiny"},
        "optimizer": {"peak_lr": 3e-3},
        "data": {"shards": shards, "batch_size": 4, "batch_ramp": [[0, 2], [2, 4]]},
        "checkpoint": {"every_steps": 2, "keep": 5, "async_save": True},
        "log": {"every_steps": 1, "progress": False, "peak_tflops": 1.0},
    }
    overrides = [f"{k}={v}" for k, v in over.items()]
    return load_config(TrainConfig, base=base, overrides=overrides)


def _leaves(state):
    return [np.asarray(x) for x in jax.tree.leaves(state["params"])]


def test_kill_and_resume_matches_uninterrupted(tmp_path):
    shards = make_shards(tmp_path / "shards")
    full = loop.train(config(tmp_path / "a", shards))
    assert full.step == 6 and full.position == 2 * 2 + 4 * 4

    cfg = config(tmp_path / "b", shards)

    class Killed(Exception):
        pass

    def kill(step, _):
        if step == 5:  # after checkpoint 4 was started, before the end
            raise Killed

    with pytest.raises(Killed):
        loop.train(cfg, on_step=kill)
    assert 4 in Checkpoints(cfg.checkpoint_dir).steps() and 6 not in Checkpoints(cfg.checkpoint_dir).steps()
    resumed = loop.train(cfg)
    assert resumed.step == 6 and resumed.position == full.position
    for a, b in zip(_leaves(full.state), _leaves(resumed.state)):
        np.testing.assert_array_equal(a, b)
    records = [json.loads(l) for l in open(os.path.join(cfg.output_dir, "metrics.jsonl"))]
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "mfu"} <= set(records[-1])
    assert os.path.exists(os.path.join(cfg.output_dir, "config.yaml"))


def test_corrupt_latest_checkpoint_falls_back(tmp_path):
    shards = make_shards(tmp_path / "shards")
    cfg = config(tmp_path, shards, steps=4)
    loop.train(cfg)
    ck = Checkpoints(cfg.checkpoint_dir)
    assert ck.steps()[-2:] == [2, 4]
    # Damage checkpoint 4: lose its array data.
    state_dir = os.path.join(cfg.checkpoint_dir, "4", "state")
    for name in os.listdir(state_dir):
        p = os.path.join(state_dir, name)
        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    from train.steps import Steps
    from train import sharding

    steps = Steps(cfg.model.build(), cfg.optimizer, sharding.make_mesh(cfg.mesh), cfg.mesh.rules)
    with pytest.warns(RuntimeWarning, match="checkpoint 4 .* corrupt"):
        state, meta = ck.restore(steps.abstract_state)
    assert meta["step"] == 2 and int(state["step"]) == 2
    # And a run resumes from there.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = loop.train(load_config(TrainConfig, base=_plain(cfg), overrides=["steps=3"]))
    assert result.step == 3


def _plain(cfg):
    import dataclasses

    return dataclasses.asdict(cfg)


def test_nan_batch_triggers_rollback_and_skip(tmp_path):
    cfg0 = config(tmp_path, "x")
    from train.data import BatchSource
    from mixtures.shards import ShardSet

    good = make_shards(tmp_path / "probe")
    # Find the examples batch 3 (positions 8..11) will read, then plant a bad token in one of them.
    ids = BatchSource(ShardSet(good), cfg0.data).example_ids(8, 4)
    shards = make_shards(tmp_path / "shards", bad_rows=[int(ids[1])])
    cfg = config(tmp_path, shards, steps=6, **{"spike.skip_batches": 2})
    result = loop.train(cfg)
    assert result.step == 6
    assert len(result.rollbacks) == 1
    event = result.rollbacks[0]
    assert event["step"] == 3 and event["restored_step"] == 2
    # Checkpoint 2 sits at position 2+2=4; two batches of 4 are skipped: [4, 12).
    assert (event["skip_from_position"], event["skip_to_position"]) == (4, 12)
    assert all(np.isfinite(x).all() for x in _leaves(result.state))
    logged = [json.loads(l) for l in open(os.path.join(cfg.output_dir, "metrics.jsonl"))]
    assert any(r.get("event") == "loss_spike" and r["loss"] == "nan" for r in logged)
    assert result.position == 12 + 4 * 4  # steps 2..5 after the skip
