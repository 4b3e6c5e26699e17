"""palmkit: PaLM-style data curation, mixtures, a compact JAX PaLM, and memorization audits.

This package holds the command line (``palmkit.cli``), the typed-config loader
(``palmkit.config``) and small shared helpers. The work itself lives in the
top-level packages ``filters``, ``pipeline``, ``mixtures``, ``model`` and
``train``; see docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
