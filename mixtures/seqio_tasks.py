"""seqio Tasks and Mixtures over palmkit token shards.

palmkit's own trainer reads shards by index (``mixtures.shards.ShardSet``);
this module is for everything that speaks seqio (T5X, seqio evaluation, a
quick ``get_dataset`` look at the data). A shard set becomes a Task whose
source is ``seqio.TFExampleDataSource`` over its ``.tfrecord`` files, whose
one output feature ``targets`` carries the SentencePiece vocabulary the shards
were tokenized with, and that adds nothing: rows are already packed to
``seq_len`` with end-of-document ids, so ``add_eos=False`` and no tokenizer
preprocessor. A Mixture combines shard sets by rate:

    >>> register_shards("out/shards")                      # Task palmkit_demo, Mixture palmkit_demo_mixture
    >>> seqio.get_mixture_or_task("palmkit_demo").get_dataset(
    ...     {"targets": 2048}, split="train", shuffle=False)

The mixing proportions of one recipe are baked into its shards (tokenize
samples each source to its share and shuffles globally), so its Mixture holds
one Task at rate 1; several shard sets (say, a pre-training mix and a
fine-tuning set) mix by the rates given, or by token count by default.

Importing seqio imports TensorFlow: import this module only where needed.
"""

from __future__ import annotations

import glob
import json
import os
import re
from typing import Mapping, Sequence

import seqio
import tensorflow as tf

from mixtures import shards as shard_format

SPLIT = "train"


def _manifest(directory: str) -> dict:
    path = os.path.join(directory, shard_format.MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {shard_format.MANIFEST} in {directory}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def task_name_for(directory: str) -> str:
    """``palmkit_<recipe name>`` for a shard set, with characters seqio rejects replaced by '_'."""
    recipe = (_manifest(directory).get("recipe") or {}).get("name") or os.path.basename(os.path.abspath(directory))
    return "palmkit_" + re.sub(r"[^\w.:]", "_", recipe)


def _to_int32(ds: tf.data.Dataset) -> tf.data.Dataset:
    # Shards store int64 (the Example format); seqio features are int32.
    return ds.map(lambda ex: {k: tf.cast(v, tf.int32) for k, v in ex.items()}, num_parallel_calls=tf.data.AUTOTUNE)


def register_task(name: str, directory: str, vocab_path: str | None = None) -> seqio.Task:
    """Registers (or re-registers) Task ``name`` over the shard set in ``directory``."""
    manifest = _manifest(directory)
    seq_len = int(manifest["seq_len"])
    vocab_path = vocab_path or (manifest.get("vocab") or {}).get("path")
    if not vocab_path or not os.path.exists(vocab_path):
        raise FileNotFoundError(f"vocabulary for {directory} not found: {vocab_path!r}")
    files = [os.path.join(directory, e["file"]) for e in manifest["shards"]]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"shard listed in the manifest is missing: {missing[0]}")
    source = seqio.TFExampleDataSource(
        split_to_filepattern={SPLIT: files},
        feature_description={shard_format.FEATURE: tf.io.FixedLenFeature([seq_len], tf.int64)},
        num_input_examples={SPLIT: int(sum(e["examples"] for e in manifest["shards"]))},
    )
    vocabulary = seqio.SentencePieceVocabulary(vocab_path)
    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    return seqio.TaskRegistry.add(
        name,
        source=source,
        preprocessors=[_to_int32],
        output_features={shard_format.FEATURE: seqio.Feature(vocabulary, add_eos=False, dtype=tf.int32)},
    )


def register_mixture(name: str, tasks: Sequence[tuple[str, float]]) -> seqio.Mixture:
    """Registers (or re-registers) Mixture ``name`` of registered Tasks with the given rates."""
    if name in seqio.MixtureRegistry.names():
        seqio.MixtureRegistry.remove(name)
    return seqio.MixtureRegistry.add(name, [(task, float(rate)) for task, rate in tasks])


def register_shards(directory: str, name: str | None = None, vocab_path: str | None = None) -> tuple[seqio.Task, seqio.Mixture]:
    """One shard set: its Task and a Mixture ``<task>_mixture`` holding it at rate 1."""
    name = name or task_name_for(directory)
    task = register_task(name, directory, vocab_path)
    return task, register_mixture(f"{name}_mixture", [(name, 1.0)])


def register_shard_sets(name: str, shard_sets: Mapping[str, float | None]) -> seqio.Mixture:
    """Several shard sets (directory → rate, None for its token count) as one Mixture ``name``."""
    tasks = []
    for i, (directory, rate) in enumerate(sorted(shard_sets.items())):
        task = register_task(f"{name}.{i}", directory)
        if rate is None:
            rate = float(_manifest(directory).get("tokens") or 0)
        tasks.append((task.name, rate))
    return register_mixture(name, tasks)


def shard_files(directory: str) -> list[str]:
    """The shard set's ``.tfrecord`` files, in name order."""
    return sorted(glob.glob(os.path.join(directory, "shard-*-of-*.tfrecord")))
