"""The demo: palmkit's stages in order on the bundled sample corpus.

Kept out of ``palmkit/commands`` so it stays importable and testable; each
stage is one call into the package that owns it.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib

from palmkit.errors import UsageError

log = logging.getLogger("palmkit.demo")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "examples" / "corpus"
CODE_SOURCE = "code"


def corpus_inputs(corpus: pathlib.Path):
    """One input per source folder: JSONL shards for prose, the folder itself for code."""
    from pipeline.readers import parse_input

    if not corpus.is_dir():
        raise UsageError(f"sample corpus not found: {corpus} (run from a palmkit checkout or pass --corpus)")
    inputs = []
    for child in sorted(corpus.iterdir()):
        if not child.is_dir():
            continue
        if child.name == CODE_SOURCE:
            inputs.append(parse_input(f"{child.name}={child}", child.name))
        else:
            inputs.append(parse_input(f"{child.name}={child}/*.jsonl.zst", child.name))
    if not inputs:
        raise UsageError(f"sample corpus {corpus} has no source folders")
    return inputs


def run_demo(output: str, options, corpus: str | None = None) -> str:
    from pipeline.curate import CurateConfig, run_curate

    corpus_dir = pathlib.Path(corpus) if corpus else DEFAULT_CORPUS
    out = pathlib.Path(output)
    inputs = corpus_inputs(corpus_dir)
    log.info("demo: curate %d sources from %s", len(inputs), corpus_dir)
    stats = run_curate(CurateConfig(), inputs, os.fspath(out / "curate"), options)
    log.info("curate: %s", json.dumps({k: stats[k] for k in ("read", "kept", "errors", "duplicates")}))
    return os.fspath(out / "curate" / "report.html")
