"""Shim so Dataflow workers can install palmkit with --setup_file ./setup.py (metadata lives in setup.cfg)."""

from setuptools import setup

setup()
