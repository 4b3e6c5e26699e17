"""The PaLM network (Chowdhery et al. 2022) in JAX/Flax, and its size presets.

One readable model file with shapes in comments and logical axis names on every
parameter, so that sharding is a rules table in ``train``. Imports nothing of ours.
"""
