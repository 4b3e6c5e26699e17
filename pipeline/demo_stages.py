"""The mixture stages of ``palmkit demo``: tokenizer → plan → tokenized shards, on a curated folder.

``run_demo_stages`` is what the demo calls after curate. It uses the shipped
``demo`` recipe and a small vocabulary (``DEMO_VOCAB``) so the whole chain
runs in minutes on two cores; the commands ``palmkit tokenizer train``,
``palmkit mix plan`` and ``palmkit tokenize`` run the same functions with
full-size settings. The demo plants a small canary schedule (``DEMO_CANARIES``)
in the largest language of each bin, for the audit.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os

from mixtures.plan import format_plan
from mixtures.recipe import load_recipe
from mixtures.vocab import VocabConfig
from pipeline import canaries
from pipeline.sample import run_tokenizer_train
from pipeline.tokenize import TokenizeConfig, plan_for, run_tokenize
from pipeline.writers import write_atomically

log = logging.getLogger(__name__)

DEMO_RECIPE = "demo"
# 4,096 pieces: 263 reserved (3 specials, 3 toxicity tokens, newline, 256 bytes), the rest learned.
# The curated demo corpus holds ~5,000 distinct characters (CJK above all); character_coverage
# 0.995 keeps ~1,550 of them as pieces and leaves the rarest 0.5% of characters to byte fallback,
# which leaves ~2,300 pieces for merges. (2,048 pieces at 0.999 coverage cannot even hold the
# required characters.) hard_vocab_limit=False lets a very small corpus give fewer pieces.
DEMO_VOCAB = VocabConfig(
    vocab_size=4096,
    character_coverage=0.995,
    sample_chars=20_000_000,
    input_sentence_size=2_000_000,
    hard_vocab_limit=False,
)
# Canaries at 1, 10 and 100 copies: in the largest language of the large bin one interleave, one
# shuffle and one secret canary per count, in the largest small language one shuffle and one secret.
# Source documents of 110-160 tokens (not PaLM 2's 500: a 500-token canary copied 100 times would be
# 5% of the 1M-token demo on its own); together they are about 6% of the demo's tokens, so the demo
# allows 10% instead of the default 1%.
DEMO_CANARIES = canaries.CanaryConfig(
    enabled=True,
    repetitions=(1, 10, 100),
    interleave=canaries.KindCounts(large=1, small=0),
    shuffle=canaries.KindCounts(large=1, small=1),
    secret=canaries.KindCounts(large=1, small=1),
    min_source_tokens=110,
    max_source_tokens=160,
    num_references=1000,
    max_fraction=0.1,
)
DEMO_TOKENIZE = TokenizeConfig(examples_per_shard=512, canaries=DEMO_CANARIES)


def run_demo_stages(curated_dir: str, out_dir: str, options) -> dict:
    """Trains the demo vocabulary, plans the demo recipe and writes its token shards under ``out_dir``.

    ``curated_dir`` is a ``palmkit curate`` output folder (or its ``curated/``
    subfolder); ``options`` are Beam PipelineOptions. Writes

        out_dir/tokenizer/spm.model (+ .vocab, .json, .sample/)   the vocabulary
        out_dir/tokenizer/token_counts/<key>.json                 cached token counts
        out_dir/plan.txt, out_dir/plan.json                       the plan table and its data
        out_dir/shards/                                           shards + manifest.json
        out_dir/shards.canaries.json                              the planted canaries (mode 0600)

    and returns ``{"vocab", "vocab_pieces", "plan", "plan_table", "shards",
    "canaries", "examples", "tokens", "sources", "warnings"}`` (paths as strings;
    ``sources`` maps each source to its manifest counts).
    """
    recipe = load_recipe(DEMO_RECIPE)
    tokenizer_dir = os.path.join(out_dir, "tokenizer")
    model = os.path.join(tokenizer_dir, "spm.model")
    log.info("demo: training a %d-piece vocabulary on %s", DEMO_VOCAB.vocab_size, curated_dir)
    vocab = run_tokenizer_train(recipe, curated_dir, model, DEMO_VOCAB, options)
    plan = plan_for(recipe, curated_dir, model, options, cache_dir=os.path.join(tokenizer_dir, "token_counts"))
    table = format_plan(plan)
    write_atomically(os.path.join(out_dir, "plan.txt"), (table + "\n").encode("utf-8"))
    write_atomically(os.path.join(out_dir, "plan.json"), json.dumps(plan.to_dict(), indent=2, sort_keys=True).encode("utf-8"))
    log.info("demo plan:\n%s", table)
    shards = os.path.join(out_dir, "shards")
    languages = canaries.largest_per_bin(plan, DEMO_CANARIES.large_share)
    cfg = dataclasses.replace(DEMO_TOKENIZE, canaries=dataclasses.replace(DEMO_CANARIES, languages=languages))
    record_path = canaries.default_path(shards)
    manifest = run_tokenize(recipe, curated_dir, model, shards, options, cfg=cfg, plan=plan, canaries_out=record_path)
    record = canaries.read_canaries(record_path)
    log.info("demo: %d canaries in %s (%s) → %s", len(record["canaries"]), ", ".join(languages),
             ", ".join(f"{k}={v}" for k, v in sorted(record["schedule"]["lang_bins"].items())), record_path)
    budget = canaries.budget_warning(record["total_canary_tokens"], record["training_tokens"], DEMO_CANARIES.max_fraction)
    log.info("demo: %d examples of %d tokens in %s", manifest["examples"], manifest["seq_len"], shards)
    return {
        "vocab": model,
        "vocab_pieces": vocab["pieces"],
        "plan": os.path.join(out_dir, "plan.json"),
        "plan_table": os.path.join(out_dir, "plan.txt"),
        "shards": shards,
        "canaries": record_path,
        "examples": manifest["examples"],
        "tokens": manifest["tokens"],
        "sources": {name: {k: s[k] for k in ("examples", "tokens", "documents", "epochs")} for name, s in manifest["sources"].items()},
        "warnings": list(plan.warnings) + ([budget] if budget else []),
    }
