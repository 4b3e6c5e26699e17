"""Mixture recipes and their plans, and the token-shard format.

Recipes are data (YAML in ``mixtures/recipes``): named sources with shares,
token budgets, epochs and language temperature. This package also owns the
on-disk format of packed token shards (``mixtures.shards``) that the tokenize
job writes and trainers (palmkit's, seqio/T5X, MaxText) read. Imports nothing of ours.
"""
