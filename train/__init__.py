"""Training and auditing the PaLM model.

PaLM's optimizer recipe, deterministic input batches from token shards, the
device mesh and sharding rules, orbax checkpoints, the train loop with loss-spike
rollback, decoding, and the memorization audit. Imports ``model`` and ``mixtures``.
"""
